"""The validation harness (`models/eval_val.py`, `make eval-val`) that models and thresholds are chosen by."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import eval_val


def test_right_clipped_cuts_two_to_six_percent_of_each_crop_and_keeps_the_rest() -> None:
    crops = [np.arange(h * w * 3, dtype=np.uint32).reshape(h, w, 3).astype(np.uint8) for h, w in ((36, 136), (24, 94), (20, 30))]
    clipped = eval_val.right_clipped(crops)
    for crop, cut in zip(crops, clipped, strict=True):
        lost = crop.shape[1] - cut.shape[1]
        assert 1 <= lost <= max(1, round(0.06 * crop.shape[1]))
        assert lost >= round(0.02 * crop.shape[1])
        assert np.array_equal(cut, crop[:, : cut.shape[1]])  # the left part untouched
    again = eval_val.right_clipped(crops)
    assert [c.shape for c in again] == [c.shape for c in clipped]  # a fixed draw: comparable between models


def test_score_counts_exact_reads_and_lists_the_misses() -> None:
    images = [np.full((8, 8, 3), v, np.uint8) for v in (1, 2, 3)]
    texts = ["京A12345", "沪B67890", "粤C13579"]
    reads = {1: "京A12345", 2: "沪B6789O", 3: ""}
    result = eval_val.score(lambda image: reads[int(image[0, 0, 0])], {"blue": (images, texts)})
    assert result["blue"]["right"] == 1 and result["blue"]["plates"] == 3
    assert result["blue"]["misses"] == [(1, "沪B67890", "沪B6789O"), (2, "粤C13579", "")]


def test_the_test_seed_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["eval_val.py", "--seed", "777"])
    with pytest.raises(SystemExit, match="test sets"):
        eval_val.main()


def test_motion_blur_smears_a_point_along_its_direction_only() -> None:
    image = np.zeros((21, 21, 3), np.uint8)
    image[10, 10] = 250
    across = eval_val.motion_blur(image, 5)[..., 0] > 0
    assert across[10, 8:13].all() and across.sum() == 5  # five pixels of one row
    up_down = eval_val.motion_blur(image, 7, 90.0)[..., 0] > 0
    assert up_down[7:14, 10].all() and up_down.sum() == 7  # seven pixels of one column
    assert eval_val.motion_blur(image, 5)[..., 0].sum() == pytest.approx(250, abs=5)  # light is kept


def test_motion_blurred_copies_keep_each_crops_size_and_are_a_fixed_draw() -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, (36, 136, 3), dtype=np.uint8), rng.integers(0, 255, (24, 94, 3), dtype=np.uint8)]
    blurred = eval_val.motion_blurred(crops)
    assert [b.shape for b in blurred] == [c.shape for c in crops]
    assert all(b.std() < c.std() for b, c in zip(blurred, crops, strict=True))  # smoothed
    assert all(np.array_equal(a, b) for a, b in zip(blurred, eval_val.motion_blurred(crops), strict=True))


def test_changed_copies_are_left_out_of_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    crop = np.full((36, 136, 3), 90, np.uint8)
    monkeypatch.setattr(eval_val, "real_set", lambda name: ([crop], ["京A12345"]))
    monkeypatch.setattr(eval_val, "synthetic_set", lambda t, n, seed: ([crop], ["沪B67890"]))
    sets = eval_val.validation_sets(1, clipped=True, blurred=True, grey_copy=True)
    assert set(eval_val.EXTRA_SETS) <= set(sets)
    grey = sets["lyl8213_valid_grey"][0][0]
    assert grey.shape == crop.shape and (grey[..., 0] == grey[..., 2]).all()
