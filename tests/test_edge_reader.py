"""The reader facade and `dealergate read --jsonl` records, with a stand-in recognizer.

The stand-in returns scripted reads so the facade's own logic (filtering, layouts, JSON Lines,
robustness to broken images) is tested without the OCR model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from dealergate.plates import PlateColor, PlateType
from dealergate.synth.plate_render import render_plate
from edge.config import EdgeSettings
from edge.detect.color import ColorPlateDetector
from edge.layout import plate_type_of
from edge.reader import PlateReader, describe_record, load_image, read_images_jsonl
from edge.recognize import rectify
from edge.types import Detection, PlateRead, PlateResult


class Scripted:
    """Returns the given reads in turn (the last one repeats); records the crops it was shown."""

    def __init__(self, *reads: PlateRead) -> None:
        self.reads = list(reads)
        self.crops: list[np.ndarray] = []

    def read(self, crop_bgr: np.ndarray) -> PlateRead:
        self.crops.append(crop_bgr)
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[PlateRead]:
        return [self.read(c) for c in crops]


def good(text: str = "京A12345", conf: float = 0.95) -> PlateRead:
    return PlateRead(text, conf, (conf,) * len(text))


def scene_with_plate(tmp_path: Path, plate_type: PlateType = PlateType.BLUE, text: str = "京A12345") -> Path:
    img = np.full((480, 640, 3), (90, 92, 94), np.uint8)
    cv2.rectangle(img, (180, 200), (460, 400), (150, 150, 155), -1)  # car body
    plate = cv2.resize(render_plate(text, plate_type), (160, 51), interpolation=cv2.INTER_AREA)
    img[300:351, 240:400] = plate
    path = tmp_path / "scene.jpg"
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


def test_frame_reads_carry_box_colour_layout_and_crop(tmp_path: Path) -> None:
    ocr = Scripted(good())
    reader = PlateReader(ColorPlateDetector(), ocr)
    results = reader.read_frame(load_image(str(scene_with_plate(tmp_path))))
    assert len(results) == 1
    r = results[0]
    x1, y1, x2, y2 = r.detection.box
    assert abs(x1 - 240) <= 8 and abs(y1 - 300) <= 8 and abs(x2 - 400) <= 8 and abs(y2 - 351) <= 8
    assert r.detection.color is PlateColor.BLUE and r.plate_type is PlateType.BLUE
    assert r.crop is not None and ocr.crops[0] is r.crop
    h, w = r.crop.shape[:2]
    assert 2.8 < w / h < 4.0  # a level plate with a small margin


def test_unsure_or_malformed_reads_are_dropped(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    assert PlateReader(ColorPlateDetector(), Scripted(good(conf=0.2))).read_frame(image) == []
    assert PlateReader(ColorPlateDetector(), Scripted(good(conf=0.45))).read_frame(image) == []  # a coin flip
    assert len(PlateReader(ColorPlateDetector(), Scripted(good(conf=0.55))).read_frame(image)) == 1
    assert PlateReader(ColorPlateDetector(), Scripted(good("京A123"))).read_frame(image) == []
    assert PlateReader(ColorPlateDetector(), Scripted(good("A京12345"))).read_frame(image) == []
    assert (
        PlateReader(ColorPlateDetector(), Scripted(good())).read_frame(np.zeros((300, 400, 3), np.uint8))
        == []
    )


def test_a_read_sure_but_for_its_province_is_kept_with_its_low_confidence(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))

    def read(province: float, rest: float) -> list[PlateResult]:
        chars = (province,) + (rest,) * 6
        ocr = Scripted(PlateRead("桂ATK071", min(chars), chars))
        return PlateReader(ColorPlateDetector(), ocr).read_frame(image)

    kept = read(0.28, 0.96)
    assert [r.read.text for r in kept] == ["桂ATK071"] and kept[0].read.confidence == 0.28
    assert read(0.28, 0.85) == []  # one unsure serial character: not plainly a plate
    assert read(0.15, 0.99) == []  # a province this unsure: rarely a plate at all
    assert read(0.45, 0.45) == []


def test_jsonl_records_match_plate_eval(tmp_path: Path) -> None:
    scene = scene_with_plate(tmp_path, PlateType.YELLOW, "苏E12345")
    reader = PlateReader(ColorPlateDetector(), Scripted(good("苏E12345", 0.91)))
    [rec] = list(read_images_jsonl(reader, [str(scene)]))
    assert set(rec) == {"image", "ms", "plates"}
    assert rec["image"] == str(scene) and rec["ms"] >= 0
    [plate] = rec["plates"]
    assert plate == {
        "text": "苏E12345",
        "confidence": 0.91,
        "box": plate["box"],
        "color": "yellow",
        "type": "yellow",
        "char_confidences": [0.91] * 7,
    }
    assert len(plate["box"]) == 4 and all(isinstance(v, int) for v in plate["box"])
    json.dumps(rec, ensure_ascii=False)  # serialisable as is


def test_ocr_only_reads_the_whole_crop(tmp_path: Path) -> None:
    crop_path = tmp_path / "crop.png"
    cv2.imwrite(str(crop_path), cv2.resize(render_plate("京A12345", PlateType.BLUE), (136, 36)))
    ocr = Scripted(good())
    [rec] = list(read_images_jsonl(PlateReader(ColorPlateDetector(), ocr), [str(crop_path)], ocr_only=True))
    assert rec["plates"] == [
        {
            "text": "京A12345",
            "confidence": 0.95,
            "box": [0, 0, 136, 36],
            "color": "blue",
            "type": "blue",
            "char_confidences": [0.95] * 7,
        }
    ]
    assert ocr.crops[0].shape == (36, 136, 3)


def blue_plate_crop(background: tuple[int, int, int], angle: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """A rendered blue plate on a plain `background`: (level crop, the same turned by `angle` degrees)."""
    plate = cv2.resize(render_plate("京A12345", PlateType.BLUE), (176, 56))
    canvas = cv2.copyMakeBorder(plate, 30, 30, 20, 20, cv2.BORDER_CONSTANT, value=background)
    turn = cv2.getRotationMatrix2D((canvas.shape[1] / 2, canvas.shape[0] / 2), angle, 1.0)
    return canvas, cv2.warpAffine(canvas, turn, canvas.shape[1::-1], borderValue=background)


def test_a_tilted_crop_is_also_read_levelled_and_the_surer_read_kept() -> None:
    canvas, tilted = blue_plate_crop((120, 120, 120))
    ocr = Scripted(good("京A12845", 0.6), good("京A12345", 0.95))
    result = PlateReader(ColorPlateDetector(), ocr).read_crop(tilted)
    assert len(ocr.crops) == 2 and result.read.text == "京A12345"
    assert result.detection.corners is not None and result.crop is ocr.crops[1]
    assert result.detection.box == (0, 0, tilted.shape[1], tilted.shape[0])

    less_sure = Scripted(good("京A12345", 0.9), good("京A12845", 0.6))
    assert PlateReader(ColorPlateDetector(), less_sure).read_crop(tilted).read.text == "京A12345"

    level = Scripted(good())
    PlateReader(ColorPlateDetector(), level).read_crop(canvas)
    assert len(level.crops) == 1  # a level plate is read once

    sure = Scripted(good("京A12345", 0.97))
    PlateReader(ColorPlateDetector(), sure).read_crop(tilted)
    assert len(sure.crops) == 1  # a read this sure is not checked for tilt (LEVEL_CHECK_BELOW)


def test_an_unsure_crop_the_colour_cannot_level_is_read_levelled_by_its_strokes() -> None:
    """A blue plate on a blue car: the colour region is the whole crop, so only the character rows
    tell the tilt (`edge.skew`); the turned crop is read too, the surer read kept."""
    _, tilted = blue_plate_crop((160, 70, 20))
    ocr = Scripted(good("京A12845", 0.6), good("京A12345", 0.95))
    result = PlateReader(ColorPlateDetector(), ocr).read_crop(tilted)
    assert len(ocr.crops) == 2 and result.read.text == "京A12345" and result.crop is ocr.crops[1]
    assert result.crop.shape == tilted.shape and result.detection.box == (0, 0, tilted.shape[1], tilted.shape[0])

    sure = Scripted(good("京A12345", 0.92))
    PlateReader(ColorPlateDetector(), sure).read_crop(tilted)
    assert len(sure.crops) == 1  # a sure read is not second-guessed

    worse = Scripted(good("京A12345", 0.6), good("京A12845", 0.55))
    assert PlateReader(ColorPlateDetector(), worse).read_crop(tilted).read.text == "京A12345"


def test_broken_images_never_stop_the_run(tmp_path: Path) -> None:
    scene = scene_with_plate(tmp_path)
    data = scene.read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) * 2 // 3])
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\x00not an image" * 50)
    missing = tmp_path / "missing.jpg"
    reader = PlateReader(ColorPlateDetector(), Scripted(good()))
    recs = list(read_images_jsonl(reader, [str(garbage), str(truncated), str(missing), str(scene)]))
    assert [r["image"] for r in recs] == [str(garbage), str(truncated), str(missing), str(scene)]
    assert recs[0]["plates"] == [] and "error" in recs[0]
    assert recs[2]["plates"] == [] and "error" in recs[2]
    assert "error" not in recs[1] and "error" not in recs[3]
    assert [p["text"] for p in recs[3]["plates"]] == ["京A12345"]
    assert describe_record(recs[0]).startswith(f"{garbage}: 无法读取 / unreadable: ")


def test_a_person_reads_which_characters_were_unclear() -> None:
    unsure = {"text": "桂ATK071", "confidence": 0.28, "char_confidences": [0.28, 1.0, 0.99, 0.96, 0.98, 0.99, 0.98]}
    sure = {"text": "京A12345", "confidence": 0.9, "char_confidences": [0.9] * 7}
    record = {"image": "a.jpg", "ms": 12.34, "plates": [unsure, sure]}
    assert describe_record(record) == "a.jpg: 桂ATK071 (0.28, 看不清第 1 位 / unclear: 1), 京A12345 (0.90)  [12.3 ms]"
    assert describe_record({"image": "b.jpg", "ms": 3.0, "plates": []}) == "b.jpg: —  [3.0 ms]"


def test_truncated_jpeg_loads_through_the_fallback(tmp_path: Path) -> None:
    big = np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    path = tmp_path / "t.jpg"
    ok, buf = cv2.imencode(".jpg", big)
    assert ok
    path.write_bytes(buf.tobytes()[: len(buf) // 2])
    assert load_image(str(path)).shape == (200, 300, 3)


def test_rectify_levels_a_tilted_plate() -> None:
    plate = render_plate("京A12345", PlateType.BLUE, height=60)
    h, w = plate.shape[:2]
    canvas = np.full((300, 400, 3), 90, np.uint8)
    matrix = cv2.getRotationMatrix2D((200, 150), 12, 1.0)
    matrix[:, 2] += (200 - w / 2, 150 - h / 2)
    cv2.warpAffine(plate, matrix, (400, 300), dst=canvas, borderMode=cv2.BORDER_TRANSPARENT)
    corners = cv2.transform(np.float32([[[0, 0], [w, 0], [w, h], [0, h]]]), matrix)[0]
    det = Detection((0, 0, 400, 300), corners, PlateColor.BLUE, 1.0)
    crop = rectify(canvas, det, margin=0.0)
    assert abs(crop.shape[1] - w) <= 2 and abs(crop.shape[0] - h) <= 2
    assert np.abs(crop.astype(int) - plate.astype(int)).mean() < 20  # the plate, level again
    with_margin = rectify(canvas, det, margin=0.06)
    assert with_margin.shape[1] > crop.shape[1] and with_margin.shape[0] > crop.shape[0]
    boxed = rectify(canvas, Detection((100, 100, 200, 130), None, PlateColor.BLUE, 1.0), margin=0.1)
    assert boxed.shape == (36, 120, 3)  # 10 % of 100 x 30 on each side


@pytest.mark.parametrize(
    ("text", "color", "aspect", "hint", "expected"),
    [
        ("京A12345", PlateColor.BLUE, 3.1, None, PlateType.BLUE),
        ("京A12345", PlateColor.YELLOW, 3.1, None, PlateType.YELLOW),
        ("京A12345", PlateColor.YELLOW, 2.0, None, PlateType.YELLOW_DOUBLE),
        ("京A12345", PlateColor.UNKNOWN, None, PlateType.YELLOW, PlateType.YELLOW),
        ("京A12345", PlateColor.UNKNOWN, None, None, PlateType.BLUE),
        ("粤BD12345", PlateColor.GREEN, 3.4, None, PlateType.NEW_ENERGY_SMALL),
        ("京A1234警", PlateColor.WHITE, 3.1, None, PlateType.POLICE),
        ("粤Z1234港", PlateColor.BLACK, 3.1, None, PlateType.HK_MACAO),
        ("京A1234", PlateColor.BLUE, 3.1, None, PlateType.UNKNOWN),
    ],
)
def test_plate_type_of(
    text: str, color: PlateColor, aspect: float | None, hint: PlateType | None, expected: PlateType
) -> None:
    assert plate_type_of(text, color, aspect, hint) is expected


class Fixed:
    """A detector that always reports the given detections and counts its calls."""

    def __init__(self, *detections: Detection) -> None:
        self.detections = list(detections)
        self.calls = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        self.calls += 1
        return list(self.detections)


PLATE_BOX = Detection((240, 300, 400, 351), None, PlateColor.BLUE, 0.9)
OTHER_BOX = Detection((20, 20, 180, 71), None, PlateColor.BLUE, 0.9)


def test_fallback_runs_only_without_a_confident_read(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    fallback = Fixed(OTHER_BOX)
    sure = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), fallback=fallback)
    assert [r.read.text for r in sure.read_frame(image)] == ["京A12345"]
    assert fallback.calls == 0

    unsure = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.5), good("沪B54321", 0.9)), fallback=fallback)
    texts = [r.read.text for r in unsure.read_frame(image)]
    assert fallback.calls == 1
    assert texts == ["沪B54321", "京A12345"]  # surest first, both plates kept


def test_a_small_sure_read_does_not_spare_the_fallback(tmp_path: Path) -> None:
    """A plate read surely but narrower than 6 % of the frame is a car further back: the learned
    detector still looks for the arriving car's plate in front of it."""
    image = load_image(str(scene_with_plate(tmp_path)))  # 640 px wide: a main plate is >= 38.4 px
    far = Detection((20, 20, 50, 30), None, PlateColor.BLUE, 0.9)
    fallback = Fixed(PLATE_BOX)
    reader = PlateReader(Fixed(far), Scripted(good("沪B54321", 0.95), good(conf=0.9)), fallback=fallback)
    assert [r.read.text for r in reader.read_frame(image)] == ["沪B54321", "京A12345"]
    assert fallback.calls == 1

    near = Detection((20, 20, 59, 32), None, PlateColor.BLUE, 0.9)  # 39 px: wide enough
    PlateReader(Fixed(near), Scripted(good(conf=0.95)), fallback=fallback).read_frame(image)
    assert fallback.calls == 1


def test_second_look_only_when_nothing_was_read(tmp_path: Path) -> None:
    """A still photo with no readable plate is searched once more (the learned detector at a larger
    size); one with a read is not, and a reader without a second look changes nothing."""
    image = load_image(str(scene_with_plate(tmp_path)))
    second = Fixed(PLATE_BOX)
    reader = PlateReader(Fixed(), Scripted(good()), fallback=Fixed(), second_look=second)
    assert [r.read.text for r in reader.read_frame(image)] == ["京A12345"]
    assert second.calls == 1
    assert reader.read_frame(image, allow_fallback=False) == []  # idle checks stay cheap
    assert second.calls == 1

    found = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), second_look=second)
    found.read_frame(image)
    assert second.calls == 1


def test_second_look_is_for_still_images_only() -> None:
    settings = EdgeSettings(fallback_detector="retina")
    assert PlateReader.from_settings(settings, stream=True).second_look is None
    second = PlateReader.from_settings(settings, stream=False).second_look
    assert second is not None and second.min_score == 0.4  # a photo with no read: look harder
    off = EdgeSettings(fallback_detector="retina", still_second_look_px=0)
    assert PlateReader.from_settings(off, stream=False).second_look is None


def test_thorough_reader_runs_the_fallback_after_a_sure_read_too(tmp_path: Path) -> None:
    """The plate of a parked car behind is found even when the main plate read surely."""
    image = load_image(str(scene_with_plate(tmp_path)))
    fallback = Fixed(OTHER_BOX)
    reader = PlateReader(
        Fixed(PLATE_BOX),
        Scripted(good(conf=0.95), good("沪B54321", 0.9)),
        fallback=fallback,
        always_fallback=True,
    )
    assert [r.read.text for r in reader.read_frame(image)] == ["京A12345", "沪B54321"]
    assert fallback.calls == 1


def test_fallback_is_rate_limited_on_streams(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    fallback = Fixed()
    reader = PlateReader(Fixed(), Scripted(good()), fallback=fallback, fallback_interval_s=60.0)
    for _ in range(5):
        assert reader.read_frame(image) == []
    assert fallback.calls == 1
    still = PlateReader(Fixed(), Scripted(good()), fallback=fallback, fallback_interval_s=0.0)
    for _ in range(3):
        still.read_frame(image)
    assert fallback.calls == 4


def test_one_result_per_plate_when_both_detectors_find_it(tmp_path: Path) -> None:
    """The same plate from two detectors, read twice with different texts, is reported once: the
    surer read wins (the other would be a false read)."""
    image = load_image(str(scene_with_plate(tmp_path)))
    shifted = Detection((244, 302, 404, 352), None, PlateColor.BLUE, 0.8)
    reader = PlateReader(
        Fixed(PLATE_BOX), Scripted(good("京A12845", 0.6), good("京A12345", 0.9)), fallback=Fixed(shifted)
    )
    assert [r.read.text for r in reader.read_frame(image)] == ["京A12345"]


def test_a_repaired_read_is_flagged_with_the_raw_text(tmp_path: Path) -> None:
    crop_path = tmp_path / "crop.png"
    cv2.imwrite(str(crop_path), render_plate("京A12345", PlateType.BLUE))
    repaired = PlateRead("京D12345", 0.55, (0.9, 0.55, 0.9, 0.9, 0.9, 0.9, 0.9), raw_text="京012345")
    [rec] = list(
        read_images_jsonl(
            PlateReader(ColorPlateDetector(), Scripted(repaired)), [str(crop_path)], ocr_only=True
        )
    )
    assert rec["plates"][0]["text"] == "京D12345"
    assert rec["plates"][0]["repaired_from"] == "京012345"


def test_idle_check_reads_can_skip_the_fallback(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    fallback = Fixed(OTHER_BOX)
    reader = PlateReader(Fixed(), Scripted(good()), fallback=fallback)
    assert reader.read_frame(image, allow_fallback=False) == []
    assert fallback.calls == 0
    assert [r.read.text for r in reader.read_frame(image)] == ["京A12345"]
    assert fallback.calls == 1


class Closer:
    """A refiner that answers every candidate with the given detection (None: sees no plate) and
    records what it was asked about."""

    def __init__(self, answer: Detection | None) -> None:
        self.answer = answer
        self.asked: list[Detection] = []

    def refine(self, image: np.ndarray, detection: Detection) -> Detection | None:
        self.asked.append(detection)
        return self.answer


TIGHT_BOX = Detection((242, 301, 398, 350), None, PlateColor.UNKNOWN, 0.99)


def test_an_unsure_read_is_replaced_by_the_surer_read_of_the_refined_box(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    closer = Closer(TIGHT_BOX)
    ocr = Scripted(good("京A12845", 0.5), good("京A12345", 0.93))
    [result] = PlateReader(Fixed(PLATE_BOX), ocr, refiner=closer).read_frame(image)
    assert closer.asked == [PLATE_BOX]
    assert result.read.text == "京A12345" and result.detection.box == TIGHT_BOX.box
    assert result.detection.color is PlateColor.BLUE  # the first detector's colour is kept
    assert result.crop.shape[:2] == ocr.crops[1].shape[:2]  # the crop that gave the kept read


@pytest.mark.parametrize("second", [0.45, 0.65])
def test_a_refined_read_replaces_the_first_only_when_it_is_sure(tmp_path: Path, second: float) -> None:
    """Less sure, or surer but still unsure: confidences this low are not calibrated enough to trade
    one unsure read for another."""
    image = load_image(str(scene_with_plate(tmp_path)))
    reader = PlateReader(
        Fixed(PLATE_BOX), Scripted(good("京A12345", 0.6), good("京A12845", second)), refiner=Closer(TIGHT_BOX)
    )
    [result] = reader.read_frame(image)
    assert result.read.text == "京A12345" and result.detection == PLATE_BOX


def test_a_refined_read_that_would_be_kept_rescues_a_first_read_that_would_not(tmp_path: Path) -> None:
    """Nothing kept is traded away: the first read would have been dropped."""
    image = load_image(str(scene_with_plate(tmp_path)))
    first = PlateRead("湘KL6893", 0.27, (0.27, 1.0, 1.0, 1.0, 0.99, 0.75, 0.98))
    refined = PlateRead("陕KL6893", 0.56, (0.56, 1.0, 1.0, 1.0, 0.99, 0.99, 0.99))
    reader = PlateReader(Fixed(PLATE_BOX), Scripted(first, refined), refiner=Closer(TIGHT_BOX))
    [result] = reader.read_frame(image)
    assert result.read is refined and result.detection.box == TIGHT_BOX.box

    less_sure = PlateRead("湘KL6893", 0.21, (0.21, 1.0, 1.0, 1.0, 0.99, 0.99, 0.99))  # but its serial is sure
    [result] = PlateReader(Fixed(PLATE_BOX), Scripted(first, less_sure), refiner=Closer(TIGHT_BOX)).read_frame(image)
    assert result.read is less_sure

    unkept = PlateRead("陕KL6893", 0.45, (0.45, 1.0, 1.0, 1.0, 0.99, 0.6, 0.99))  # a serial character unsure
    assert PlateReader(Fixed(PLATE_BOX), Scripted(first, unkept), refiner=Closer(TIGHT_BOX)).read_frame(image) == []


def test_a_very_unsure_read_whose_characters_are_mostly_sure_is_refined(tmp_path: Path) -> None:
    """Under 0.2 a read is a grille or a sign, unless most of its characters read surely: then a
    loose box around a small plate lost one or two of them (easypr_dev's 浙KL6893)."""
    image = load_image(str(scene_with_plate(tmp_path)))
    first = PlateRead("湘KL6833", 0.18, (0.35, 1.0, 1.0, 1.0, 0.99, 0.55, 0.18))
    refined = PlateRead("湘KL6893", 0.91, (0.91, 1.0, 1.0, 1.0, 0.99, 0.99, 0.99))
    closer = Closer(TIGHT_BOX)
    [result] = PlateReader(Fixed(PLATE_BOX), Scripted(first, refined), refiner=closer).read_frame(image)
    assert closer.asked == [PLATE_BOX] and result.read is refined

    mostly_unsure = PlateRead("湘KL6833", 0.18, (0.35, 1.0, 1.0, 0.6, 0.5, 0.55, 0.18))  # median 0.55
    junk = Closer(TIGHT_BOX)
    assert PlateReader(Fixed(PLATE_BOX), Scripted(mostly_unsure, refined), refiner=junk).read_frame(image) == []
    assert junk.asked == []


def test_a_barely_sure_read_is_refined_and_replaced_only_by_a_surer_one(tmp_path: Path) -> None:
    """A box holding part of a plate can read "surely" as another plate: reads just above the sure
    line get the closer look too, and keep their place unless the refined read is surer."""
    image = load_image(str(scene_with_plate(tmp_path)))
    closer = Closer(TIGHT_BOX)
    ocr = Scripted(good("辽MWAL0Q", 0.76), good("川AL0Q87", 0.99))
    [result] = PlateReader(Fixed(PLATE_BOX), ocr, refiner=closer).read_frame(image)
    assert closer.asked == [PLATE_BOX] and result.read.text == "川AL0Q87"

    kept = PlateReader(
        Fixed(PLATE_BOX), Scripted(good("川AL0Q87", 0.78), good("川AL0Q81", 0.75)), refiner=closer
    )
    [result] = kept.read_frame(image)
    assert result.read.text == "川AL0Q87" and result.detection == PLATE_BOX

    sure = Closer(TIGHT_BOX)
    PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.85)), refiner=sure).read_frame(image)
    assert sure.asked == []


def test_a_sure_read_from_a_box_too_short_for_its_plate_gets_the_closer_look(tmp_path: Path) -> None:
    """A candidate of aspect 2.2 read as a single-row plate (3.1-3.4) holds part of it: easypr_dev's
    津MSY678, whose colour region held the left 70 % of the plate, read 津MSY677 at 0.87."""
    image = load_image(str(scene_with_plate(tmp_path)))
    short = Detection((240, 300, 350, 350), None, PlateColor.BLUE, 0.9)
    closer = Closer(TIGHT_BOX)
    ocr = Scripted(good("京A12344", 0.87), good("京A12345", 0.99))
    [result] = PlateReader(Fixed(short), ocr, refiner=closer).read_frame(image)
    assert closer.asked == [short] and result.read.text == "京A12345"

    plate_shaped = Closer(TIGHT_BOX)
    PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.87)), refiner=plate_shaped).read_frame(image)
    assert plate_shaped.asked == []
    surest = Closer(TIGHT_BOX)
    PlateReader(Fixed(short), Scripted(good(conf=0.97)), refiner=surest).read_frame(image)
    assert surest.asked == []
    double_row = Closer(TIGHT_BOX)  # a yellow plate this narrow is a double-row one: no closer look
    narrow = Detection((240, 300, 340, 350), None, PlateColor.YELLOW, 0.9)
    PlateReader(Fixed(narrow), Scripted(good("京A12345", 0.87)), refiner=double_row).read_frame(image)
    assert double_row.asked == []


def test_only_unsure_candidates_are_refined_and_at_most_a_few(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    closer = Closer(None)
    sure = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), refiner=closer)
    sure.read_frame(image)
    assert closer.asked == []
    many = [Detection((10 * i, 10, 10 * i + 90, 40), None, PlateColor.BLUE, i / 10) for i in range(1, 7)]
    busy = PlateReader(Fixed(*many), Scripted(good("XX", 0.3)), refiner=closer, max_refines=4)
    assert busy.read_frame(image) == []
    assert [d.score for d in closer.asked] == [0.6, 0.5, 0.4, 0.3]  # best detector score first
    busy.read_frame(image, allow_fallback=False)  # idle checks stay cheap
    assert len(closer.asked) == 4
    junk = PlateReader(Fixed(*many), Scripted(good("XX", 0.15)), refiner=closer)
    junk.read_frame(image)  # reads this unsure are a grille or a sign far more often than a plate
    assert len(closer.asked) == 4


def test_the_refiner_is_the_fallback_detector_when_both_are_retina() -> None:
    reader = PlateReader.from_settings(EdgeSettings(fallback_detector="retina", refine_detector="retina"))
    assert reader.refiner is reader.fallback is not None
    assert PlateReader.from_settings(EdgeSettings(refine_detector="")).refiner is None
    still = PlateReader.from_settings(EdgeSettings(), stream=False).recognizer
    assert still.look_again_below == 0.9  # type: ignore[attr-defined]
    off = PlateReader.from_settings(EdgeSettings(look_again_below=0), stream=False).recognizer
    assert off.look_again_below == 0  # type: ignore[attr-defined]
    assert PlateReader.from_settings(EdgeSettings()).recognizer.look_again_below == 0  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="cannot refine"):
        PlateReader.from_settings(EdgeSettings(refine_detector="color"))


def test_a_plate_that_stands_still_does_not_spare_the_fallback_on_a_stream(tmp_path: Path) -> None:
    """A parked car's plate read surely in every frame must not keep the learned detector from
    looking for an arriving car that the colour detector misses."""
    image = load_image(str(scene_with_plate(tmp_path)))
    fallback = Fixed()
    reader = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), fallback=fallback, standing_after_s=0.0)
    reader.read_frame(image)
    assert fallback.calls == 0  # first sight: a sure read, maybe the arriving car itself
    reader.read_frame(image)
    assert fallback.calls == 1  # read again at the same place: it stands, so the fallback looks
    still = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), fallback=Fixed())
    for _ in range(3):
        still.read_frame(image)
    assert still.fallback.calls == 0  # type: ignore[union-attr]  # photos have no history


def test_a_moving_plate_is_not_standing(tmp_path: Path) -> None:
    image = load_image(str(scene_with_plate(tmp_path)))
    boxes = [Detection((240 + 60 * i, 300, 400 + 60 * i, 351), None, PlateColor.BLUE, 0.9) for i in range(3)]

    class Rolling(Fixed):
        def detect(self, image: np.ndarray) -> list[Detection]:
            self.calls += 1
            return [boxes[(self.calls - 1) % len(boxes)]]

    fallback = Fixed()
    reader = PlateReader(Rolling(), Scripted(good(conf=0.95)), fallback=fallback, standing_after_s=0.0)
    for _ in range(3):
        reader.read_frame(image)
    assert fallback.calls == 0


def test_only_streams_remember_standing_plates() -> None:
    assert PlateReader.from_settings(EdgeSettings(), stream=True).standing_after_s == 2.0
    assert PlateReader.from_settings(EdgeSettings(), stream=False).standing_after_s is None


def test_an_unsure_read_takes_the_refined_box_when_that_reads_the_same(tmp_path: Path) -> None:
    """The same text from the refiner's box: the read stays as sure as it was, but the plate is
    where the refiner says."""
    image = load_image(str(scene_with_plate(tmp_path)))
    ocr = Scripted(good("京A12345", 0.6), good("京A12345", 0.65))
    [result] = PlateReader(Fixed(PLATE_BOX), ocr, refiner=Closer(TIGHT_BOX)).read_frame(image)
    assert result.read.confidence == 0.6 and result.detection.box == TIGHT_BOX.box
    # a refiner's box larger than the candidate's does not replace it: the candidate was tighter
    # (easypr_dev's 桂ATK071: the learned detector's box held the plate's frame too)
    x1, y1, x2, y2 = PLATE_BOX.box
    wider = Detection((x1 - 20, y1 - 10, x2 + 20, y2 + 10), None, PlateColor.UNKNOWN, 0.99)
    ocr = Scripted(good("京A12345", 0.6), good("京A12345", 0.65))
    [result] = PlateReader(Fixed(PLATE_BOX), ocr, refiner=Closer(wider)).read_frame(image)
    assert result.read.confidence == 0.6 and result.detection.box == PLATE_BOX.box


def test_a_sure_read_from_a_box_of_another_colour_gets_the_refined_box_only(tmp_path: Path) -> None:
    """A blue plate read surely from a white blob (a bumper around it): the box was the plate and its
    surroundings. The refiner's smaller box replaces it; the read is not asked again."""
    image = load_image(str(scene_with_plate(tmp_path)))
    blob = Detection((200, 260, 440, 380), None, PlateColor.WHITE, 0.8)
    closer = Closer(TIGHT_BOX)
    ocr = Scripted(good(conf=0.95))
    [result] = PlateReader(Fixed(blob), ocr, refiner=closer, tight_boxes=True).read_frame(image)
    assert closer.asked == [blob] and len(ocr.crops) == 1
    assert result.detection.box == TIGHT_BOX.box and result.read.confidence == 0.95
    assert result.detection.color is PlateColor.BLUE  # the plate's own colour, seen in the tight box

    wider = Closer(Detection((150, 200, 500, 420), None, PlateColor.WHITE, 0.9))
    [result] = PlateReader(Fixed(blob), Scripted(good(conf=0.95)), refiner=wider, tight_boxes=True).read_frame(image)
    assert result.detection == blob  # never a looser box

    blue = Closer(TIGHT_BOX)
    PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), refiner=blue, tight_boxes=True).read_frame(image)
    assert blue.asked == []  # a blue box around a blue plate is the plate

    on_a_stream = Closer(TIGHT_BOX)
    PlateReader(Fixed(blob), Scripted(good(conf=0.95)), refiner=on_a_stream).read_frame(image)
    assert on_a_stream.asked == []  # only still images pay for the tighter box
    assert PlateReader.from_settings(EdgeSettings(), stream=False).tight_boxes
    assert not PlateReader.from_settings(EdgeSettings()).tight_boxes


def test_a_still_images_read_is_boxed_at_its_plates_colour(tmp_path: Path) -> None:
    """A loose blue box around a blue plate (bumper above and below): on a still image the kept read's
    box shrinks to the blue region, which is the plate; on a stream, and where the region is hardly
    smaller, the detector's box stays."""
    image = load_image(str(scene_with_plate(tmp_path)))
    loose = Detection((225, 270, 415, 381), None, PlateColor.BLUE, 0.9)
    [still] = PlateReader(Fixed(loose), Scripted(good(conf=0.95)), tight_boxes=True).read_frame(image)
    x0, y0, x1, y1 = still.detection.box
    assert abs(x0 - 240) <= 3 and abs(y0 - 300) <= 3 and abs(x1 - 400) <= 3 and abs(y1 - 351) <= 3
    assert still.read.confidence == 0.95 and still.crop.shape[1] > x1 - x0  # the crop read is the loose one
    [stream] = PlateReader(Fixed(loose), Scripted(good(conf=0.95))).read_frame(image)
    assert stream.detection == loose
    [snug] = PlateReader(Fixed(PLATE_BOX), Scripted(good(conf=0.95)), tight_boxes=True).read_frame(image)
    assert snug.detection == PLATE_BOX


def test_a_large_still_photo_is_read_averaged_down_and_boxed_in_its_own_pixels(tmp_path: Path) -> None:
    from edge.reader import MAX_STILL_SIDE, _whole_factor

    scene = load_image(str(scene_with_plate(tmp_path)))  # the plate at (240, 300)-(400, 351)
    large = cv2.resize(scene, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)  # 2560 x 1920
    assert _whole_factor(large.shape, MAX_STILL_SIDE) == 2
    assert _whole_factor(scene.shape, MAX_STILL_SIDE) == 1 and _whole_factor(large.shape, None) == 1

    ocr = Scripted(good())
    [result] = PlateReader(ColorPlateDetector(), ocr, max_side=MAX_STILL_SIDE).read_frame(large)
    x1, y1, x2, y2 = result.detection.box
    assert abs(x1 - 960) <= 24 and abs(y1 - 1200) <= 24 and abs(x2 - 1600) <= 24 and abs(y2 - 1404) <= 24
    assert result.detection.corners is not None
    assert np.all(np.abs(result.detection.corners.min(axis=0) - (960, 1200)) <= 24)
    assert ocr.crops[0].shape[1] < 400  # the OCR read the crop of the halved frame (~320 px), not ~640

    whole = Scripted(good())
    [same] = PlateReader(ColorPlateDetector(), whole).read_frame(large)  # no bound: the frame as it is
    assert whole.crops[0].shape[1] > 560 and abs(same.detection.box[0] - x1) <= 24


def test_only_the_still_image_reader_bounds_the_frame_size() -> None:
    from edge.config import EdgeSettings
    from edge.reader import MAX_STILL_SIDE

    settings = EdgeSettings(detector="color", fallback_detector="", refine_detector="")
    assert PlateReader.from_settings(settings, stream=False).max_side == MAX_STILL_SIDE
    assert PlateReader.from_settings(settings, stream=True).max_side is None


def test_a_still_image_keeps_an_unsure_read_at_its_side_only_when_sure(tmp_path: Path) -> None:
    from edge.reader import AT_SIDE_MIN_CONFIDENCE

    scene = load_image(str(scene_with_plate(tmp_path)))  # the plate at x 240-400 of 640
    cut = np.ascontiguousarray(scene[:, :400])  # the photo's right edge runs along the plate's
    unsure = good(conf=AT_SIDE_MIN_CONFIDENCE - 0.1)
    assert PlateReader(ColorPlateDetector(), Scripted(unsure), sure_at_sides=True).read_frame(cut) == []
    [kept] = PlateReader(ColorPlateDetector(), Scripted(good()), sure_at_sides=True).read_frame(cut)
    assert kept.detection.box[2] >= 399  # a sure read at the edge stays
    assert len(PlateReader(ColorPlateDetector(), Scripted(unsure), sure_at_sides=True).read_frame(scene)) == 1
    assert len(PlateReader(ColorPlateDetector(), Scripted(unsure)).read_frame(cut)) == 1  # a stream's reader keeps it


def test_only_the_still_image_reader_wants_sure_reads_at_the_sides() -> None:
    from edge.config import EdgeSettings

    settings = EdgeSettings(detector="color", fallback_detector="", refine_detector="")
    assert PlateReader.from_settings(settings, stream=False).sure_at_sides
    assert not PlateReader.from_settings(settings, stream=True).sure_at_sides


def test_a_colourless_frame_does_not_let_a_sure_read_spare_the_fallback(tmp_path: Path) -> None:
    """An infrared night picture has no colours: the colour detector's sure read of one grey blob
    says nothing of the plates it boxed loosely, so the learned detector looks too."""
    grey = cv2.cvtColor(load_image(str(scene_with_plate(tmp_path))), cv2.COLOR_BGR2GRAY)
    image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    fallback = Fixed(OTHER_BOX)
    ocr = Scripted(good(conf=0.95), good("沪B54321", 0.9))
    reader = PlateReader(Fixed(PLATE_BOX), ocr, fallback=fallback)
    assert [r.read.text for r in reader.read_frame(image)] == ["京A12345", "沪B54321"]
    assert fallback.calls == 1
