"""The OCR wrapper on the project's own model (models/ocr/dealergate_ocr_int8.onnx, the int8 copy of
dealergate_ocr.onnx, + plate_config.yaml).

Every test here loads that model: the wrapper's contract holds for any model, the reading tests
need the trained one (`make train-ocr`, then `make quantize-ocr`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from dealergate.plates import ALPHABET, PAD_CHAR, PlateType
from dealergate.synth.gate_clip import make_gate_clip
from dealergate.synth.plate_render import RENDERABLE_TYPES, degrade, random_plate_text, render_plate
from edge.config import EdgeSettings
from edge.exposure import is_monochrome
from edge.reader import PlateReader
from edge.recognize import MARGIN, FastPlateRecognizer, with_margin

SETTINGS = EdgeSettings()


@pytest.fixture(scope="module")
def ocr() -> FastPlateRecognizer:
    return FastPlateRecognizer(SETTINGS.ocr_model_path, SETTINGS.ocr_config_path)


def test_model_alphabet_is_the_plate_alphabet() -> None:
    config = yaml.safe_load(SETTINGS.ocr_config_path.read_text(encoding="utf-8"))
    assert config["alphabet"] == ALPHABET + PAD_CHAR
    assert config["pad_char"] == PAD_CHAR


def test_wrapper_contract(ocr: FastPlateRecognizer) -> None:
    crops = [render_plate("京A12345", PlateType.BLUE, height=48), np.full((30, 100, 3), 127, np.uint8)]
    reads = ocr.read_batch(crops)
    assert len(reads) == 2 and ocr.read_batch([]) == []
    for r in reads:
        assert PAD_CHAR not in r.text
        assert len(r.char_confidences) == len(r.text)
        assert 0.0 <= r.confidence <= 1.0 and all(0.0 <= c <= 1.0 for c in r.char_confidences)
        assert r.type_hint is None or isinstance(r.type_hint, PlateType)
    assert ocr.read(crops[0]) == reads[0]


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        FastPlateRecognizer(tmp_path / "nope.onnx", SETTINGS.ocr_config_path)


@pytest.mark.parametrize(
    "plate_type", [PlateType.BLUE, PlateType.YELLOW, PlateType.NEW_ENERGY_SMALL, PlateType.POLICE]
)
def test_reads_rendered_plates(ocr: FastPlateRecognizer, plate_type: PlateType) -> None:
    rng = np.random.default_rng(42)
    texts = [random_plate_text(plate_type, rng) for _ in range(8)]
    crops = [
        cv2.resize(render_plate(t, plate_type, rng), (160, 48), interpolation=cv2.INTER_AREA) for t in texts
    ]
    reads = ocr.read_batch(crops)
    exact = sum(r.text == t for r, t in zip(reads, texts, strict=True))
    assert exact >= 7, [(t, r.text) for r, t in zip(reads, texts, strict=True)]


def test_int8_model_reads_as_the_float_model_it_was_made_from() -> None:
    """The shipped int8 OCR is `make quantize-ocr` of the float one: a stale copy (the float model
    retrained, the int8 not remade) or a badly calibrated one reads differently."""
    float_model = SETTINGS.ocr_model_path.with_name("dealergate_ocr.onnx")
    assert SETTINGS.ocr_model_path.stat().st_size < float_model.stat().st_size / 2  # really 8-bit weights
    int8 = FastPlateRecognizer(SETTINGS.ocr_model_path, SETTINGS.ocr_config_path)
    full = FastPlateRecognizer(float_model, SETTINGS.ocr_config_path)
    rng = np.random.default_rng(7)
    crops = []
    for plate_type in RENDERABLE_TYPES:
        for _ in range(4):
            text = random_plate_text(plate_type, rng)
            crops.append(degrade(render_plate(text, plate_type, rng, height=int(rng.integers(60, 160))), rng))
    pairs = list(zip(full.read_batch(crops), int8.read_batch(crops), strict=True))
    assert sum(a.text == b.text for a, b in pairs) >= 0.9 * len(crops), [(a.text, b.text) for a, b in pairs]
    assert np.mean([abs(a.confidence - b.confidence) for a, b in pairs]) < 0.05


def test_with_margin_repeats_the_edge_pixels_around_the_crop() -> None:
    crop = np.zeros((40, 140, 3), np.uint8)
    crop[:, :70] = 255
    framed = with_margin(crop)
    dy, dx = round(40 * MARGIN[0]), round(140 * MARGIN[1])
    assert framed.shape == (40 + 2 * dy, 140 + 2 * dx, 3)
    assert (framed[dy:-dy, dx:-dx] == crop).all()
    assert (framed[:, :dx] == 255).all() and (framed[:, -dx:] == 0).all()


def test_unsure_one_row_crops_are_read_again_with_a_margin() -> None:
    """Only reads with a character under `look_again_below`, and never a crop read with its rows
    stitched (the margin would not frame a double-row plate's two rows alike)."""
    rng = np.random.default_rng(5)
    one_row = [render_plate(random_plate_text(PlateType.BLUE, rng), PlateType.BLUE, rng, height=48) for _ in range(3)]
    double = render_plate(random_plate_text(PlateType.YELLOW_DOUBLE, rng), PlateType.YELLOW_DOUBLE, rng, height=120)
    crops = [*one_row, double]
    plain = FastPlateRecognizer(SETTINGS.ocr_model_path, SETTINGS.ocr_config_path)
    assert plain.read_batch(crops) and plain.looked_again == 0  # off by default
    always = FastPlateRecognizer(SETTINGS.ocr_model_path, SETTINGS.ocr_config_path, look_again_below=1.01)
    reads = always.read_batch(crops)
    assert always.looked_again == 3
    assert [r.text for r in reads[:3]] == [r.text for r in plain.read_batch(one_row)]  # sharp plates: the same


def test_reader_reads_a_plate_in_a_scene() -> None:
    img = np.full((720, 1280, 3), (90, 92, 94), np.uint8)
    cv2.rectangle(img, (420, 300), (860, 620), (150, 150, 155), -1)  # car body
    plate = cv2.resize(render_plate("浙A7K2Q9", PlateType.BLUE), (180, 57), interpolation=cv2.INTER_AREA)
    img[500:557, 550:730] = plate
    results = PlateReader.from_settings(SETTINGS).read_frame(img)
    assert [r.read.text for r in results] == ["浙A7K2Q9"]
    assert results[0].plate_type is PlateType.BLUE


@pytest.mark.parametrize(("text", "plate_type"), [("粤B5K2Q9", PlateType.BLUE), ("湘AD12345", PlateType.NEW_ENERGY_SMALL)])
def test_reader_reads_a_plate_in_an_infrared_clip(tmp_path: Path, text: str, plate_type: PlateType) -> None:
    """A monochrome night camera: no colour for the colour detector; the plate is read all the same
    (the learned detector looks at every colourless frame)."""
    clip = tmp_path / "infrared.mp4"
    make_gate_clip(clip, [(text, plate_type)], seconds_per_car=2.0, exposure="infrared", seed=5)
    cap = cv2.VideoCapture(str(clip))
    frames = [cap.read()[1] for _ in range(38)]  # the car comes close during the first 1.6 s
    cap.release()
    assert all(is_monochrome(f) for f in frames)
    results = PlateReader.from_settings(SETTINGS, stream=False).read_frame(frames[-1])
    assert [r.read.text for r in results] == [text]
