"""How far the characters of a plate crop are tilted, from the crop's strokes alone.

`read_crop` levels a tilted crop by the corners of its plate-coloured region, which fails where the
colour is not one of the five backgrounds' (an orange-lit yellow plate, a grey-washed one) or where
the background around the plate has the plate's colour. Character strokes do not depend on colour:
the edges of a row of characters (and of the plate's rim) project onto the crop's height as sharp
peaks only when the row is level. This is the classic projection-profile deskew of scanned text:
try every angle, keep the one whose profile is most peaked.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_SKEW_DEG = 20.0
"""Angles searched, either way: a plate crop tilted more than this is not a gate camera's."""
SKEW_STEP_DEG = 1.0
_ANGLES = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + SKEW_STEP_DEG / 2, SKEW_STEP_DEG)
_SLOPES = np.tan(np.radians(_ANGLES))
_MAX_SLOPE = float(np.abs(_SLOPES).max())
_HEIGHT = 48
"""Rows the crop is resized to before the search: the profile's resolution at every crop size."""
_EDGE_SHARE = 0.2
"""The strongest edges (|d/dx| + |d/dy|, either polarity) kept as stroke pixels: a plate's
characters cover about a fifth of it. With the horizontal edges too (the strokes' tops and bottoms,
the rim) a double-row plate's tilt is found to within 1° (within 2° on vertical edges alone)."""


def text_skew(crop_bgr: np.ndarray) -> float:
    """The angle in degrees (counter-clockwise positive, OpenCV's convention) by which rotating the
    crop about its centre levels its character rows; 0.0 for a crop too small to tell."""
    h, w = crop_bgr.shape[:2]
    if h < 8 or w < 8:
        return 0.0
    gray = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY) if crop_bgr.ndim == 3 else crop_bgr
    width = max(8, round(w * _HEIGHT / h))
    gray = cv2.resize(gray, (width, _HEIGHT), interpolation=cv2.INTER_AREA)
    edges = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    k = int(edges.size * (1 - _EDGE_SHARE))
    ys, xs = np.nonzero(edges > np.partition(edges.ravel(), k)[k])
    if ys.size < 16:
        return 0.0
    # a row of slope s (y = y0 + s * x, image y pointing down) lands on one profile bin after
    # the shear y - s * x; the bins of every angle are counted in one pass
    bins = _HEIGHT + 2 * int(np.ceil(width * _MAX_SLOPE)) + 2
    offset = bins // 2 - _HEIGHT // 2
    rows = np.rint(ys[None, :] - _SLOPES[:, None] * (xs[None, :] - width / 2)).astype(np.int64) + offset
    rows += np.arange(_ANGLES.size, dtype=np.int64)[:, None] * bins
    profiles = np.bincount(rows.ravel(), minlength=_ANGLES.size * bins).reshape(_ANGLES.size, bins)
    sharpness = (profiles.astype(np.float64) ** 2).sum(axis=1)
    # a row descending to the right (positive slope) is levelled by a counter-clockwise rotation
    return float(_ANGLES[int(np.argmax(sharpness))])


def rotate_level(crop_bgr: np.ndarray, angle_deg: float) -> np.ndarray:
    """The crop rotated about its centre by `angle_deg` (counter-clockwise positive), same size,
    edges replicated: a tilted plate's bounding crop is wider and taller than the plate, so the
    levelled plate still fits."""
    h, w = crop_bgr.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(crop_bgr, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
