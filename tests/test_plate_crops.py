"""Double-row plates are cut into rows and set side by side before OCR; single-row crops pass."""

from __future__ import annotations

import numpy as np

from dealergate.plate_crops import maybe_double_row, stitch_rows
from dealergate.plates import PlateType
from dealergate.synth.plate_render import render_plate


def test_level_single_row_crops_are_not_double_row_candidates() -> None:
    assert not maybe_double_row(render_plate("京A12345", PlateType.BLUE))
    assert not maybe_double_row(render_plate("粤AD12345", PlateType.NEW_ENERGY_SMALL))


def test_double_row_crops_become_one_wide_row() -> None:
    crop = render_plate("鲁Q12345", PlateType.YELLOW_DOUBLE)
    h, w = crop.shape[:2]
    assert maybe_double_row(crop)
    out = stitch_rows(crop)
    oh, ow = out.shape[:2]
    assert ow / oh > 3.0  # now shaped like a single-row plate
    assert oh < h and ow > w
    # the left part is the top row (dark characters on yellow), the right part the bottom row
    left, right = out[:, : ow // 3], out[:, ow // 3 :]
    dark = lambda a: float((a.mean(axis=2) < 100).mean())  # noqa: E731
    assert dark(left) > 0.03 and dark(right) > 0.08


def test_degenerate_crops_do_not_fail() -> None:
    tiny = np.zeros((3, 2, 3), np.uint8)
    assert stitch_rows(tiny).size > 0
    assert not maybe_double_row(np.zeros((0, 0, 3), np.uint8))
