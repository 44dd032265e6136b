"""Hard-example mining for the OCR fine-tune (models/train_ocr.py `--hard-pool`): exactly the pool's
crops that the miner misreads or reads unsurely are kept, and a second run reuses them."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import train_ocr

POOL, SEED = 60, 4242


@pytest.fixture(autouse=True)
def fonts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plates drawn with fonts only: the real-font bank is cut from ../shared's crops, which unit
    tests do not read."""
    monkeypatch.setattr(train_ocr, "REAL_FONT_SHARE", 0.0)


def test_a_sure_misread_an_unsure_read_are_hard_a_sure_read_is_not() -> None:
    sure, unsure = np.array([0.99] * 7 + [0.9, 0.9]), np.array([0.99] * 6 + [0.6, 0.9, 0.9])
    assert train_ocr.is_hard("皖A12345", sure, "苏A12345")  # the pad slots after the text do not count
    assert train_ocr.is_hard("苏A12345", unsure, "苏A12345")
    assert not train_ocr.is_hard("苏A12345", sure, "苏A12345")
    assert not train_ocr.is_hard("苏A12345", np.array([0.99] * 7 + [0.1, 0.1]), "苏A12345")


def test_mining_keeps_exactly_the_misread_or_unsure_crops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(train_ocr, "DATA", tmp_path)
    rows = train_ocr.write_hard_synthetic(POOL, SEED, train_ocr.ONNX_OUT, workers=1)
    miner = train_ocr._miner(train_ocr.ONNX_OUT)
    kept = {int(Path(rel).stem) for rel, _text, _region in rows}
    assert 0 < len(kept) < POOL  # the shipped model reads most synthetic crops surely, not all
    samples = [train_ocr.synth_sample(SEED, i) for i in range(POOL)]
    preds = miner.run(
        [cv2.cvtColor(image, cv2.COLOR_BGR2RGB) for image, _, _ in samples], return_confidence=True
    )
    for i, ((_image, text, _type), pred) in enumerate(zip(samples, preds, strict=True)):
        assert train_ocr.is_hard(pred.plate, pred.char_probs, text) == (i in kept), (i, text, pred.plate)
    for rel, text, region in rows:
        _image, label, plate_type = samples[int(Path(rel).stem)]
        assert (text, region) == (label, plate_type.value)
        assert cv2.imread(str(tmp_path / rel)) is not None


def test_a_mined_pool_is_reused_until_the_miner_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(train_ocr, "DATA", tmp_path)
    first = train_ocr.write_hard_synthetic(20, SEED, train_ocr.ONNX_OUT, workers=1)
    calls: list[object] = []

    def mine_chunk(args: object) -> list[tuple[str, str, str]]:
        calls.append(args)
        return []

    monkeypatch.setattr(train_ocr, "_mine_chunk", mine_chunk)
    assert train_ocr.write_hard_synthetic(20, SEED, train_ocr.ONNX_OUT, workers=1) == first
    assert not calls
    other = tmp_path / "other.onnx"
    other.write_bytes(train_ocr.ONNX_OUT.read_bytes() + b"\0")  # another miner: the pool is mined again
    train_ocr.write_hard_synthetic(20, SEED, other, workers=1)
    assert len(calls) == 1
    stamps = list((tmp_path / "synth_hard").glob(".done-*"))
    assert len(stamps) == 1  # the new pool replaced the old one, stamp included


def test_right_clipped_copies_keep_the_label_and_lose_2_to_6_percent_of_the_width(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(train_ocr, "DATA", tmp_path)
    cv2.imwrite(str(tmp_path / "a.png"), np.full((24, 94, 3), 200, np.uint8))
    rows = [("a.png", "皖AK383K", "blue"), ("gone.jpg", "苏E12345", "yellow")]
    out = train_ocr.write_right_clips(rows, 3, SEED)  # a file that does not decode makes no copy
    assert [(text, region) for _rel, text, region in out] == [("皖AK383K", "blue")] * 3
    widths = [cv2.imread(str(tmp_path / rel)).shape[1] for rel, _text, _region in out]
    assert all(94 - round(94 * 0.06) <= w <= 94 - round(94 * 0.02) for w in widths)
    assert len(set(widths)) > 1  # each copy is cut anew
    assert train_ocr.write_right_clips(rows, 3, SEED) == out  # the same seed, the same copies
