"""The province classifier (`edge.province`): the fusion rule on made-up probabilities, and the shipped
model (`models/ocr/province.onnx`, `make train-province`) on rendered plates."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dealergate.plates import ALPHABET, PAD_CHAR, PROVINCES, PlateType
from dealergate.synth.plate_render import random_plate_text, render_plate
from edge.config import EdgeSettings
from edge.province import PROVINCE_CLASSES, WINDOW_WIDTH, ProvinceClassifier, fuse_first_slot, window
from edge.recognize import FastPlateRecognizer, ocr_input

SETTINGS = EdgeSettings()
VOCAB = ALPHABET + PAD_CHAR
INDEX = np.array([VOCAB.index(c) for c in PROVINCE_CLASSES])


def _slot0(ocr: dict[str, float], slots: int = 3, rest: float | None = None) -> np.ndarray:
    """(1, slots, vocab) probabilities whose slot 0 holds `ocr` and the other slots spread evenly,
    or (`rest`) give the letter A that probability."""
    probs = np.full((1, slots, len(VOCAB)), 1.0 / len(VOCAB), np.float32)
    if rest is not None:
        probs[0, 1:] = (1.0 - rest) / (len(VOCAB) - 1)
        probs[0, 1:, VOCAB.index("A")] = rest
    probs[0, 0] = 0.0
    for ch, p in ocr.items():
        probs[0, 0, VOCAB.index(ch)] = p
    return probs


def _classes(cls: dict[str, float]) -> np.ndarray:
    out = np.full((1, len(PROVINCE_CLASSES)), 1e-6, np.float32)
    for ch, p in cls.items():
        out[0, PROVINCE_CLASSES.index(ch)] = p
    return out / out.sum()


def test_the_classifier_overrules_an_unsure_ocr_and_keeps_the_rest() -> None:
    probs = _slot0({"浙": 0.55, "新": 0.35, "A": 0.10})
    fused = fuse_first_slot(probs, _classes({"新": 0.95, "浙": 0.05}), INDEX, 0.5)
    p = fused[0, 0]
    assert p[VOCAB.index("新")] > p[VOCAB.index("浙")]
    # the winner gets the OCR's own best probability; the symbols that are not a class keep theirs
    assert p[INDEX].max() == pytest.approx(0.55)
    assert p[VOCAB.index("A")] == pytest.approx(0.10)
    np.testing.assert_array_equal(fused[0, 1:], probs[0, 1:])
    assert probs[0, 0, VOCAB.index("浙")] == pytest.approx(0.55)  # the input is not changed


def test_weight_zero_is_the_ocr_alone_and_fusion_keeps_the_confidence() -> None:
    probs = _slot0({"苏": 0.45, "皖": 0.35, "A": 0.2})
    np.testing.assert_allclose(fuse_first_slot(probs, _classes({"皖": 1.0}), INDEX, 0.0), probs, atol=1e-6)
    agreed = fuse_first_slot(probs, _classes({"苏": 0.99, "皖": 0.01}), INDEX, 0.5)
    assert agreed[0, 0, VOCAB.index("苏")] == pytest.approx(0.45)  # agreement: as sure as the OCR, no surer
    overruled = fuse_first_slot(probs, _classes({"皖": 0.99, "苏": 0.01}), INDEX, 0.5)[0, 0]
    assert overruled[VOCAB.index("皖")] > overruled[VOCAB.index("苏")]
    assert overruled[INDEX].max() == pytest.approx(0.45)  # the new winner is exactly as sure as the OCR's best


def test_a_lifted_row_is_a_distribution_that_a_sure_classifier_makes_surer() -> None:
    probs = np.concatenate([_slot0({"湘": 0.26, "皖": 0.3, "浙": 0.24, "A": 0.2})] * 2)
    classes = np.concatenate([_classes({"湘": 0.98, "皖": 0.01, "浙": 0.01})] * 2)
    fused = fuse_first_slot(probs, classes, INDEX, 0.5, lift=np.array([True, False]))
    lifted, ranked = fused[0, 0], fused[1, 0]
    assert lifted[INDEX].argmax() == ranked[INDEX].argmax() == PROVINCE_CLASSES.index("湘")
    assert lifted[INDEX].sum() == pytest.approx(0.8, abs=1e-4)  # the OCR's mass on the classes
    assert lifted[VOCAB.index("湘")] > 0.5  # the classifier's certainty counts
    assert ranked[VOCAB.index("湘")] == pytest.approx(0.3)  # ranking only: as sure as the OCR's best
    assert lifted[VOCAB.index("A")] == ranked[VOCAB.index("A")] == pytest.approx(0.2)


def test_window_is_the_left_of_the_ocr_input() -> None:
    batch = np.arange(2 * 48 * 160 * 3, dtype=np.uint32).reshape(2, 48, 160, 3).astype(np.uint8)
    w = window(batch)
    assert w.shape == (2, 48, WINDOW_WIDTH, 3) and w.flags.c_contiguous
    np.testing.assert_array_equal(w, batch[:, :, :WINDOW_WIDTH])


def test_classes_are_the_provinces_and_embassy() -> None:
    assert PROVINCE_CLASSES == PROVINCES + "使" and all(c in ALPHABET for c in PROVINCE_CLASSES)


@pytest.fixture(scope="module")
def ocr() -> FastPlateRecognizer:
    return FastPlateRecognizer(SETTINGS.ocr_model_path, SETTINGS.ocr_config_path)


def test_missing_model_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="gone.onnx"):
        ProvinceClassifier(tmp_path / "gone.onnx", VOCAB)


def test_shipped_classifier_reads_rendered_provinces(ocr: FastPlateRecognizer) -> None:
    """Clean rendered plates of every province: the classifier alone names nearly all of them."""
    assert SETTINGS.province_model_path is not None
    classifier = ProvinceClassifier(SETTINGS.province_model_path, VOCAB)
    rng = np.random.default_rng(7)
    crops, truth = [], []
    for i, province in enumerate(PROVINCES):
        plate_type = (PlateType.BLUE, PlateType.NEW_ENERGY_SMALL, PlateType.POLICE)[i % 3]
        crops.append(
            render_plate(random_plate_text(plate_type, rng, province=province), plate_type, rng, height=96)
        )
        truth.append(PROVINCE_CLASSES.index(province))
    batch = np.stack([ocr_input(c, ocr._cfg) for c in crops])
    probs = classifier.probs(batch)
    assert probs.shape == (len(PROVINCES), len(PROVINCE_CLASSES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert (probs.argmax(axis=1) == np.array(truth)).mean() >= 0.9


def test_only_crops_the_ocr_is_unsure_of_are_fused(ocr: FastPlateRecognizer) -> None:
    """Three crops of one 新 plate: the OCR's sure first slot is kept as it is; its unsure one
    (浙 0.5, 新 0.4) is fused with the classifier, which reads 新 — unless another character is
    unsure too (the crop would not be kept as a read: not worth asking)."""
    assert SETTINGS.province_model_path is not None
    classifier = ProvinceClassifier(SETTINGS.province_model_path, VOCAB)
    crop = render_plate("新A12345", PlateType.BLUE, np.random.default_rng(3), height=96)
    batch = np.stack([ocr_input(crop, ocr._cfg)] * 3)
    unsure_first = {"浙": 0.5, "新": 0.4, "A": 0.1}
    probs = np.concatenate(
        [
            _slot0({"浙": 0.97, "新": 0.03}, rest=0.9),
            _slot0(unsure_first, rest=0.9),
            _slot0(unsure_first, rest=0.4),
        ]
    )
    fused = classifier.fuse(probs, batch)
    np.testing.assert_array_equal(fused[0], probs[0])
    assert fused[1, 0, VOCAB.index("新")] > fused[1, 0, VOCAB.index("浙")]
    assert fused[1, 0, VOCAB.index("A")] == pytest.approx(0.1)
    np.testing.assert_array_equal(fused[2], probs[2])
    sure = probs[[0, 0, 2]]
    assert classifier.fuse(sure, batch) is sure  # nothing to ask: no copy, no inference
    # the rest of the plate sure (0.9 >= LIFT_REST_FROM): the classifier's certainty counts;
    # less sure (0.6): it only picks the province, the read stays as sure as the OCR's best
    lifted = classifier.fuse(np.concatenate([_slot0(unsure_first, rest=0.6), probs[1:2]]), batch[:2])
    assert lifted[0, 0, VOCAB.index("新")] == pytest.approx(0.5)
    assert lifted[1, 0, VOCAB.index("新")] > 0.5


def test_recognizer_loads_the_classifier() -> None:
    assert SETTINGS.province_model_path is not None
    fused = FastPlateRecognizer(
        SETTINGS.ocr_model_path, SETTINGS.ocr_config_path, province_model_path=SETTINGS.province_model_path
    )
    rng = np.random.default_rng(11)
    texts = [random_plate_text(PlateType.BLUE, rng, province=p) for p in "新晋渝琼桂吉黑宁"]
    crops = [
        cv2.resize(render_plate(t, PlateType.BLUE, rng), (160, 48), interpolation=cv2.INTER_AREA)
        for t in texts
    ]
    reads = fused.read_batch(crops)
    assert sum(r.text == t for r, t in zip(reads, texts, strict=True)) >= 7
    assert all(len(r.char_confidences) == len(r.text) for r in reads)
