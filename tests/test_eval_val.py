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
