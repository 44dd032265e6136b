"""Plate-crop geometry shared by OCR training and the edge, so both feed the model the same way.

A double-row plate (yellow, 440×220 mm: province and letter small on top, five large characters
below) squeezed into a single-row OCR input leaves the top row a few pixels tall. Cutting the rows
apart and setting them side by side turns it into the single-row shape the model reads best; the
same transform runs on the double-row training crops (`models/train_ocr.py`) and at the edge.

The edge cannot always tell from a crop alone which kind it holds: a single-row plate seen at an
angle can crop as narrow as a double-row one. So a narrow crop is read both ways and the surer
read wins (`edge.recognize`); a wide crop is single-row for certain.
"""

from __future__ import annotations

import cv2
import numpy as np

DOUBLE_ROW_MAX_ASPECT = 2.6
"""A crop narrower than this (width / height) may be a two-row plate (440×220 mm, aspect 2);
level single-row plates are 3.1 to 3.4, but tilted ones can crop narrower."""

_TOP_ROW = (0.0, 0.46)
_BOTTOM_ROW = (0.34, 1.0)
"""Row bands as shares of the crop height: the top row's characters stand at 7-34 % of the plate,
the bottom row's at 41-91 %; the bands overlap so that a tilted crop loses no stroke."""
_TOP_COLUMNS = (0.06, 0.94)
_TOP_WIDTH = 0.5
"""The top row's two characters are set wide apart: its band is squeezed to this share of the
crop width when set beside the bottom row."""


def maybe_double_row(crop: np.ndarray) -> bool:
    """True when the crop is narrow enough to be a double-row plate (it may still be single-row)."""
    h, w = crop.shape[:2]
    return h > 0 and w / h < DOUBLE_ROW_MAX_ASPECT


def stitch_rows(crop: np.ndarray) -> np.ndarray:
    """A double-row crop cut into its two rows, set side by side (top row first)."""
    h, w = crop.shape[:2]
    top = crop[int(h * _TOP_ROW[0]) : max(1, int(h * _TOP_ROW[1])), int(w * _TOP_COLUMNS[0]) : int(w * _TOP_COLUMNS[1])]
    bottom = crop[int(h * _BOTTOM_ROW[0]) :]
    bh = bottom.shape[0]
    if top.size == 0 or bh < 2:
        return crop
    top = cv2.resize(top, (max(2, round(w * _TOP_WIDTH)), bh), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(np.hstack([top, bottom]))
