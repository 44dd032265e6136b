"""Averaging two OCR checkpoints of one lineage (models/train_ocr.py `soup`)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import train_ocr


def test_each_tensor_is_the_shared_out_average() -> None:
    first = [np.zeros((2, 3), np.float32), np.full(4, 2.0, np.float32)]
    second = [np.ones((2, 3), np.float32), np.full(4, 6.0, np.float32)]
    half = train_ocr.mixed_weights(first, second, 0.5)
    assert np.allclose(half[0], 0.5) and np.allclose(half[1], 4.0)
    quarter = train_ocr.mixed_weights(first, second, 0.25)
    assert np.allclose(quarter[1], 3.0)
    assert np.array_equal(train_ocr.mixed_weights(first, second, 0.0)[1], first[1])


@pytest.mark.parametrize(
    ("second", "share"),
    [
        ([np.ones((2, 3)), np.ones(5)], 0.5),  # another shape
        ([np.ones((2, 3))], 0.5),  # a tensor missing
        ([np.ones((2, 3)), np.ones(4)], 1.5),  # a share outside 0..1
    ],
)
def test_checkpoints_of_different_networks_or_a_wrong_share_are_refused(second: list[np.ndarray], share: float) -> None:
    with pytest.raises(ValueError):
        train_ocr.mixed_weights([np.zeros((2, 3)), np.zeros(4)], second, share)
