"""Glyph swap: real plate crops whose letters and digits are exchanged for glyphs cut from other real crops.

Our rendered fonts are not the GA 36 plate font, so the model learns the real shapes of 4 and A, 0, D
and Q, 1 and T, 8 and B only from the real crops, in the few combinations they hold; its remaining
misreads on real photographs are mostly those pairs. Each real single-row crop is cut into its seven
character boxes (the first from `province_swap.find_first_char`, the other six from the column
profile of the text mask, the separator dot dropped); a crop cut cleanly gives its six letters and
digits to a glyph bank. A swap erases one or two of a crop's letters or digits and draws, in that
crop's own text colour and box, the same character position filled with another real glyph — half
the time a look-alike of the one it replaces. Crops that do not cut into exactly seven boxes are
skipped (None), never guessed. The bank also keeps the real province characters (only the first
box has to be found for those), which the province swap draws in place of a font's rendering.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from dealergate.plates import DIGITS, LETTERS, PROVINCES
from dealergate.synth.province_swap import find_first_char, text_colours, text_mask

__all__ = ["CharBoxes", "GlyphBank", "cut_characters", "first_char_alpha", "swap_glyphs"]

LOOK_ALIKES = ("0DQ", "8B", "4A", "1T", "5S", "2Z", "6G", "7T", "UV", "MN", "EF", "PR", "CG")
"""Pairs the plate font makes hard to tell apart: a swap prefers a look-alike of what it replaces."""
_MIN_CONTRAST = 40.0
"""Text and background colours must differ by this much (0..255, largest channel difference)."""
_MAX_RESIDUE = 0.06
"""After erasing, at most this share of an erased box may still look like text."""
_PITCH_MM = np.array([79.0, 57.0, 57.0, 57.0, 57.0])
"""GA 36 blue/yellow plates: centre to centre of characters 2–7 (the separator dot widens the first)."""


@dataclass(frozen=True)
class CharBoxes:
    """The seven character boxes of a single-row crop, all of the text band's height, and its colours."""

    boxes: tuple[tuple[int, int, int, int], ...]
    """(x0, y0, x1, y1) per character, left to right."""
    mask: np.ndarray
    text_colour: np.ndarray
    background: np.ndarray


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def cut_characters(crop_bgr: np.ndarray) -> CharBoxes | None:
    """The crop's seven character boxes, or None when it does not cut cleanly into seven.

    Right of the first character, every run of text columns is a candidate; the lightest are dropped
    (the separator dot, a screw, a strip of the frame) until six are left, and the six must stand at
    the plate font's even pitch (GA 36: a character every 57 mm)."""
    first = find_first_char(crop_bgr)
    if first is None:
        return None
    x0, y0, x1, y1, mask = first
    band = mask[y0:y1]
    height = y1 - y0
    w = crop_bgr.shape[1]
    cols = band.mean(axis=0)
    runs = [
        (a, b)
        for a, b in _runs(cols > 0.08)
        if a > x1 and not (b >= w - 2 and b - a < 0.25 * height)  # the frame's right edge is no character
    ]
    mass = [float(band[:, a:b].sum()) for a, b in runs]
    while len(runs) > 6:
        lightest = int(np.argmin(mass))
        del runs[lightest], mass[lightest]
    if len(runs) != 6:
        return None
    pitch = np.diff([(a + b) / 2 for a, b in runs]) / _PITCH_MM
    if np.abs(pitch - np.median(pitch)).max() > 0.2 * np.median(pitch):
        return None  # not at the font's pitch: two characters run together or one is split
    widths = np.array([b - a for a, b in runs])
    char_w = int(np.median(widths[widths >= 0.5 * np.median(widths)]))
    if not 0.3 <= char_w / height <= 0.8 or widths.max() > 1.3 * char_w:
        return None
    boxes = [(x0, y0, x1, y1)]
    for a, b in runs:
        left = max(0, round((a + b) / 2 - char_w / 2) - 1)
        boxes.append((min(left, a), y0, min(w, max(left + char_w + 2, b)), y1))
    text = crop_bgr[y0:y1][band]
    background = crop_bgr[y0:y1][~band]
    if text.size == 0 or background.size == 0:
        return None
    text_colour = np.median(text, axis=0).astype(np.float32)
    bg = np.median(background, axis=0).astype(np.float32)
    if np.abs(text_colour - bg).max() < _MIN_CONTRAST:
        return None
    return CharBoxes(tuple(boxes), mask, text_colour, bg)


def _alpha(roi_bgr: np.ndarray, text_colour: np.ndarray, background: np.ndarray) -> np.ndarray:
    """How much of each pixel is text (0..1), from the crop's text and background colours."""
    axis = text_colour - background
    return np.clip(((roi_bgr.astype(np.float32) - background) @ axis) / float(axis @ axis), 0.0, 1.0)


def _box_alpha(crop_bgr: np.ndarray, cut: CharBoxes, index: int) -> np.ndarray:
    x0, y0, x1, y1 = cut.boxes[index]
    return _alpha(crop_bgr[y0:y1, x0:x1], cut.text_colour, cut.background)


def first_char_alpha(crop_bgr: np.ndarray) -> np.ndarray | None:
    """Text coverage (0..1) of the first character's box, or None when it is not found cleanly;
    the text and background colours are those of the characters right of it."""
    found = find_first_char(crop_bgr)
    colours = None if found is None else text_colours(crop_bgr, found)
    if found is None or colours is None:
        return None
    x0, y0, x1, y1, _mask = found
    alpha = _alpha(crop_bgr[y0:y1, x0:x1], *colours)
    return alpha if _looks_like_a_glyph(alpha) else None


def _looks_like_a_glyph(alpha: np.ndarray) -> bool:
    """Ink from top to bottom of the box and a plausible amount of it: not a half-cut character, a
    smudge or a box that caught its neighbour."""
    ink = alpha > 0.5
    return bool(
        ink.any(axis=1).mean() >= 0.75 and 0.08 <= alpha.mean() <= 0.75 and not ink[:, [0, -1]].mean() > 0.5
    )


@dataclass
class GlyphBank:
    """Real glyphs (text alpha, 0..1) of every letter and digit, cut from crops whose label is known."""

    glyphs: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, crop_bgr: np.ndarray, text: str) -> bool:
        """Cut the crop and keep its six letters and digits; False when it does not cut cleanly."""
        if len(text) != 7:
            return False
        cut = cut_characters(crop_bgr)
        if cut is None:
            return False
        for i in range(1, 7):
            alpha = _box_alpha(crop_bgr, cut, i)
            if (text[i] in LETTERS or text[i] in DIGITS) and _looks_like_a_glyph(alpha):
                self.glyphs.setdefault(text[i], []).append(alpha)
        return True

    def add_province(self, crop_bgr: np.ndarray, text: str) -> bool:
        """Keep the crop's province character; False when it is none or not found cleanly."""
        if not text or text[0] not in PROVINCES:
            return False
        alpha = first_char_alpha(crop_bgr)
        if alpha is None:
            return False
        self.glyphs.setdefault(text[0], []).append(alpha)
        return True

    def glyph(self, char: str, rng: np.random.Generator) -> np.ndarray | None:
        """One real glyph of `char` (a province, letter or digit) with its stroke weight varied (a
        gamma on its coverage: thinner or bolder edges, as other cameras and plate wear show), or
        None when the bank has none."""
        pool = self.glyphs.get(char)
        if not pool:
            return None
        return pool[int(rng.integers(len(pool)))] ** float(rng.uniform(0.6, 1.6))

    def pick(
        self, old: str, allowed: Iterable[str], rng: np.random.Generator
    ) -> tuple[str, np.ndarray] | None:
        """A character to put where `old` stood (a look-alike half the time) and one real glyph of it."""
        choices = [c for c in allowed if c != old and self.glyphs.get(c)]
        if not choices:
            return None
        alike = [c for group in LOOK_ALIKES if old in group for c in group if c in choices]
        new = str(rng.choice(alike if alike and rng.random() < 0.5 else choices))
        pool = self.glyphs[new]
        return new, pool[int(rng.integers(len(pool)))]


def swap_glyphs(
    crop_bgr: np.ndarray, text: str, bank: GlyphBank, rng: np.random.Generator, count: int = 2
) -> tuple[np.ndarray, str] | None:
    """(new crop, new text) with `count` of positions 2–7 redrawn from `bank`; None when the crop
    does not cut cleanly or an erased character leaves a trace."""
    cut = cut_characters(crop_bgr)
    if cut is None or len(text) != 7:
        return None
    out = crop_bgr.copy()
    chars = list(text)
    for index in sorted(rng.choice(np.arange(1, 7), size=count, replace=False).tolist()):
        allowed = LETTERS if index == 1 else LETTERS + DIGITS  # the second character is the office letter
        picked = bank.pick(chars[index], allowed, rng)
        if picked is None:
            return None
        new, glyph = picked
        x0, y0, x1, y1 = cut.boxes[index]
        erase = np.zeros(out.shape[:2], np.uint8)
        erase[y0:y1, x0:x1] = cut.mask[y0:y1, x0:x1]
        out = cv2.inpaint(out, cv2.dilate(erase, np.ones((3, 3), np.uint8)) * 255, 3, cv2.INPAINT_TELEA)
        if text_mask(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY))[y0:y1, x0:x1].mean() > _MAX_RESIDUE:
            return None  # part of the old character survived
        erased = np.median(out[y0:y1, x0:x1].reshape(-1, 3), axis=0)
        if np.abs(erased - cut.background).max() > 0.35 * np.abs(cut.text_colour - cut.background).max():
            return None  # the inpainting pulled in something else (a screw, the frame, a shadow)
        alpha = cv2.resize(glyph, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)[..., None]
        roi = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(roi * (1.0 - alpha) + cut.text_colour * alpha, 0, 255).astype(np.uint8)
        chars[index] = new
    return out, "".join(chars)
