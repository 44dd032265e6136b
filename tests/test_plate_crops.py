"""Double-row plates are cut into rows and set side by side before OCR; single-row crops pass."""

from __future__ import annotations

import numpy as np

from dealergate.plate_crops import is_double_row, single_row
from dealergate.plates import PlateType
from dealergate.synth.plate_render import render_plate


def test_single_row_crops_are_untouched() -> None:
    crop = render_plate("京A12345", PlateType.BLUE)
    assert not is_double_row(crop)
    assert single_row(crop) is crop


def test_double_row_crops_become_one_wide_row() -> None:
    crop = render_plate("鲁Q12345", PlateType.YELLOW_DOUBLE)
    h, w = crop.shape[:2]
    assert is_double_row(crop)
    out = single_row(crop)
    oh, ow = out.shape[:2]
    assert ow / oh > 3.0  # now shaped like a single-row plate
    assert oh < h and ow > w
    # the left part is the top row (dark characters on yellow), the right part the bottom row
    left, right = out[:, : ow // 3], out[:, ow // 3 :]
    dark = lambda a: float((a.mean(axis=2) < 100).mean())  # noqa: E731
    assert dark(left) > 0.03 and dark(right) > 0.08


def test_degenerate_crops_do_not_fail() -> None:
    tiny = np.zeros((3, 2, 3), np.uint8)
    assert single_row(tiny).size > 0
    assert single_row(np.zeros((0, 0, 3), np.uint8)).size == 0
