"""Exposure correction of badly exposed still images, before any detector sees them.

A photo taken at dusk or against the light can leave even its brightest pixels dim. Both detectors
then lose plates: the colour detector's HSV ranges need a plate's background to be bright enough
to tell blue from black, and the learned detector saw few such frames in training. A plate is
among the brightest things in a frame (retroreflective, often lit), so the frame is scaled up until
its bright end (`BRIGHT_PERCENTILE`) reaches `TARGET_LEVEL`.

The opposite fault is a frame whose blacks are lifted — haze, lens flare, a camera exposing for a
dark car in sunlight: its dark end (`DARK_PERCENTILE`) stands well above black, contrast and
colour saturation are washed out, and the colour masks and the learned detector lose plates. Its
levels are stretched so that the dark end becomes black (`BLACK_LEVEL_FROM`), as a camera's own
black-level correction would.

Both are one 256-entry lookup table built from one histogram of a sparse sample. A frame that
needs neither is left alone, untouched and uncopied. The still-image reader uses it
(`PlateReader.correct_exposure`); a stream's reader does not (why: there).
Measured by `make eval-robust` (models/README.md, "Robustness"): easypr_dev darkened to 55 % read
129 of 149 plates without the lift, 135 with it; washed out (×1.4 + 20) 117 without the black-level
stretch, 123 with it; the photos as they are read the same.
"""

from __future__ import annotations

import cv2
import numpy as np

BRIGHT_PERCENTILE = 99.0
"""The frame's bright end: headlights and sky are fewer than 1 % of a gate frame's pixels."""
TARGET_LEVEL = 180.0
"""Grey level the bright end is lifted to (luminance); at 200 a photo of easypr_dev whose
bright end stood at 190 lost a plate."""
MAX_GAIN = 2.5
"""A frame needing more is a night frame without light: amplifying its noise further reads nothing."""
MIN_GAIN = 1.05
"""Smaller corrections are not worth a pass over the frame."""
DARK_PERCENTILE = 1.0
"""The frame's dark end: tyres, shadows under the car and the plate's own characters are darker."""
BLACK_LEVEL_FROM = 20.0
"""A dark end above this grey level is stretched down to black. Chosen on easypr_dev and its
`make eval-robust` copies (10 sets of 149 plates): 10 read one photo as it is a plate fewer, 30 won
half as much on the washed-out copy; 20 changes none of the photos as they are (their dark ends
reach 46, a hazy underground entrance)."""
SAMPLE_STRIDE = 16
"""Every 16th pixel of every 16th row: 8,100 pixels of a 1080p frame, enough for a percentile
(0.04 ms, against 0.9 ms for a percentile of every 8th pixel's channel mean)."""


def levels(image: np.ndarray) -> tuple[float, float]:
    """The frame's (dark end, bright end) grey levels, from a sparse sample."""
    sample = np.ascontiguousarray(image[::SAMPLE_STRIDE, ::SAMPLE_STRIDE])
    grey = cv2.cvtColor(sample, cv2.COLOR_BGR2GRAY) if sample.ndim == 3 else sample
    counts = np.cumsum(cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel())
    dark, bright = np.searchsorted(counts, counts[-1] * np.array([DARK_PERCENTILE, BRIGHT_PERCENTILE]) / 100.0)
    return float(dark), float(bright)


def _black_level(dark_end: float) -> float:
    return dark_end if dark_end > BLACK_LEVEL_FROM else 0.0


def _gain(black: float, bright_end: float) -> float:
    """The factor lifting the bright end (after the black level is taken off) to `TARGET_LEVEL`."""
    stretched = (bright_end - black) * 255.0 / (255.0 - black)
    gain = min(MAX_GAIN, TARGET_LEVEL / max(stretched, 1.0))
    return gain if gain >= MIN_GAIN else 1.0


def exposure_gain(image: np.ndarray) -> float:
    """The factor that lifts the frame's bright end to `TARGET_LEVEL`, 1.0 when none is needed."""
    dark, bright = levels(image)
    return _gain(_black_level(dark), bright)


def black_level(image: np.ndarray) -> float:
    """The grey level `corrected` maps to black: the frame's dark end where it is lifted, else 0."""
    return _black_level(levels(image)[0])


def corrected(image: np.ndarray) -> np.ndarray:
    """`image` itself when it is well exposed, else a copy with its black level taken off and its
    bright end lifted (saturating at 0 and 255)."""
    dark, bright = levels(image)
    black = _black_level(dark)
    gain = _gain(black, bright)
    if black == 0.0 and gain == 1.0:
        return image
    # a 256-entry table: 0.8 ms on a 720p frame of the bench's night clip, against 1.4 ms for
    # cv2.convertScaleAbs (the table is built once per frame, the pixels only looked up)
    scale = gain * 255.0 / (255.0 - black)
    table = np.clip(np.round((np.arange(256, dtype=np.float32) - black) * scale), 0, 255).astype(np.uint8)
    return cv2.LUT(image, table)


MONOCHROME_SPREAD = 4
"""A frame is monochrome when 99 % of its sampled pixels have their three channels within this many
grey levels of each other: an infrared night camera's picture (decoded from YUV, its chroma adds a
level or two), never a daylight scene with a coloured plate, car or sky in it."""


def is_monochrome(image: np.ndarray) -> bool:
    """Whether the frame holds no colour (an infrared camera at night), from a sparse sample: the
    colour detector's masks then cannot tell a plate by its background colour."""
    if image.ndim == 2 or image.shape[2] == 1:
        return True
    b, g, r = cv2.split(np.ascontiguousarray(image[::SAMPLE_STRIDE, ::SAMPLE_STRIDE]))
    spread = cv2.max(cv2.max(cv2.absdiff(b, g), cv2.absdiff(g, r)), cv2.absdiff(b, r))
    return bool(np.count_nonzero(spread > MONOCHROME_SPREAD) <= 0.01 * spread.size)
