"""Province swap: a real plate crop whose province character is replaced by another province.

The real crop sets are almost all 苏 / 皖 / 沪 / 浙, so a model trained on them learns that a real
looking plate starts with one of those four and reads a real 湘 or 粤 as 苏 — synthetic plates of
every province do not fix it, because the model tells rendered plates from photographed ones.
Swapping the province on real crops shows it real-looking plates of all 31 provinces: the first
character is found from the crop's text mask, inpainted away, and a glyph of the new province is
drawn in its place in the crop's own text colour, at its size, slightly blurred. The glyph is
rendered from a font, or given by the caller: a real province character cut from another crop
(`glyph_swap.GlyphBank.glyph`), the plate font's own shape, which no installed font has.
Crops whose first character cannot be found cleanly are skipped (None), never guessed.
"""

from __future__ import annotations

import cv2
import numpy as np

from dealergate.plates import PROVINCES
from dealergate.synth.plate_render import cjk_glyph

__all__ = ["find_first_char", "swap_province", "text_colours", "text_mask"]

_GAP_SEARCH = (0.09, 0.25)
"""Where (share of the crop width) the gap after the province character is looked for."""
_MAX_GAP_FILL = 0.12
"""A column is a gap when at most this share of its text-band pixels is text."""
_MIN_CONTRAST = 40.0
"""Text and background colours must differ by this much (0..255, largest channel difference)."""

_MAX_RESIDUE = 0.08
"""After erasing, at most this share of the first character's area may still look like text."""


def text_mask(gray: np.ndarray) -> np.ndarray:
    """Boolean mask of character pixels: Otsu split, the minority side is the text (white text on
    blue, black text on yellow)."""
    _, bright = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = bright.astype(bool)
    return bright if bright.mean() < 0.5 else ~bright


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """[start, stop) of the longest run of True (the character row, not a strip of glare above it)."""
    best, start = (0, 0), None
    for i, flag in enumerate([*flags.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def find_first_char(crop_bgr: np.ndarray) -> tuple[int, int, int, int, np.ndarray] | None:
    """(x0, y0, x1, y1, text mask) of the first character of a single-row crop, or None when the
    crop does not show a clear character row with a gap after the first character."""
    h, w = crop_bgr.shape[:2]
    if h < 12 or w < 40 or w < 2 * h:
        return None
    mask = text_mask(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY))
    band = mask[int(0.2 * h) : int(0.8 * h)]
    cols = band.mean(axis=0)
    lo, hi = int(_GAP_SEARCH[0] * w), int(_GAP_SEARCH[1] * w)
    split = lo + int(np.argmin(cols[lo:hi]))
    if cols[split] > _MAX_GAP_FILL:
        return None
    # text rows from the characters right of the gap (the plate's frame line is left out: it is
    # a full-width row of text colour, so rows more than 85 % text are not character rows)
    rows = mask[:, split : int(0.6 * w)].mean(axis=1)
    y0, y1 = _longest_run((rows > 0.12) & (rows < 0.85))
    if y1 - y0 < 0.4 * h:
        return None
    # character columns left of the gap; the frame's vertical line (nearly all text) is left out
    left = mask[y0:y1, :split].mean(axis=0)
    char_cols = np.flatnonzero((left > 0.08) & (left < 0.9))
    if char_cols.size == 0:
        return None
    x0, x1 = int(char_cols[0]), int(char_cols[-1]) + 1
    if not 0.3 <= (x1 - x0) / (y1 - y0) <= 0.85:
        return None
    return x0, y0, x1, y1, mask


def text_colours(
    crop_bgr: np.ndarray, found: tuple[int, int, int, int, np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(text colour, background colour) of the characters right of the first one (`find_first_char`'s
    result), or None when they do not differ clearly: the mask caught glare or the frame, not text."""
    _x0, y0, x1, y1, mask = found
    rest, rest_mask = crop_bgr[y0:y1, x1:], mask[y0:y1, x1:]
    if not rest_mask.any() or rest_mask.all():
        return None
    text = np.median(rest[rest_mask], axis=0).astype(np.float32)
    background = np.median(rest[~rest_mask], axis=0).astype(np.float32)
    if np.abs(text - background).max() < _MIN_CONTRAST:
        return None
    return text, background


def swap_province(
    crop_bgr: np.ndarray,
    rng: np.random.Generator,
    province: str | None = None,
    glyph: np.ndarray | None = None,
) -> tuple[np.ndarray, str] | None:
    """(new crop, new province) or None when the first character cannot be found cleanly.

    `glyph` (text coverage 0..1, any size; needs `province`) is drawn instead of a rendered one."""
    if glyph is not None and province is None:
        raise ValueError("a glyph needs the province it shows")
    found = find_first_char(crop_bgr)
    if found is None:
        return None
    x0, y0, x1, y1, mask = found
    new = province if province is not None else PROVINCES[rng.integers(len(PROVINCES))]
    out = crop_bgr.copy()
    h, w = out.shape[:2]
    # paint the old character away with the plate's own background texture
    erase = np.zeros((h, w), np.uint8)
    erase[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    erase = cv2.dilate(erase, np.ones((3, 3), np.uint8))
    out = cv2.inpaint(out, erase * 255, 3, cv2.INPAINT_TELEA)
    split = x1 + max(2, (x1 - x0) // 3)
    if text_mask(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY))[y0:y1, 2:split].mean() > _MAX_RESIDUE:
        return None  # part of the old character survived (it reached outside the found box)
    # the new character in the colour of the other characters
    colours = text_colours(crop_bgr, found)
    if colours is None:
        return None
    colour, _background = colours
    shape = cjk_glyph(new, rng) if glyph is None else glyph.astype(np.float32)
    glyph = cv2.resize(shape, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    sigma = float(rng.uniform(0.0, 0.9))
    if sigma > 0.3:
        glyph = cv2.GaussianBlur(glyph, (0, 0), sigma)
    roi = out[y0:y1, x0:x1].astype(np.float32)
    alpha = glyph[..., None]
    out[y0:y1, x0:x1] = np.clip(roi * (1.0 - alpha) + colour * alpha, 0, 255).astype(np.uint8)
    return out, new
