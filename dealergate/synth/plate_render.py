"""Synthetic Chinese licence plates: valid texts, clean front-on renders and camera-like degradation.

The public crop sets only hold 7-character blue and yellow plates, so every other layout the gate
must read (new-energy green, white police/emergency, black HK/Macao/embassy/consulate, double-row
yellow) has to be drawn.  The geometry follows GA 36-2018 in millimetres and is scaled to pixels;
glyphs are rasterised once per font and character and then stretched into the character boxes,
which is both how plate lettering looks (tall, condensed) and fast enough to render on the fly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dealergate.plates import DIGITS, LETTERS, PROVINCES, PlateType, matching_types

__all__ = ["PLATE_SIZE_MM", "RENDERABLE_TYPES", "cjk_glyph", "degrade", "random_plate_text", "render_plate"]

RENDERABLE_TYPES: tuple[PlateType, ...] = tuple(t for t in PlateType if t is not PlateType.UNKNOWN)
"""Every plate type the renderer draws (all but UNKNOWN)."""

PLATE_SIZE_MM: dict[PlateType, tuple[int, int]] = {
    t: (480, 140) if t in (PlateType.NEW_ENERGY_SMALL, PlateType.NEW_ENERGY_LARGE) else (440, 140)
    for t in RENDERABLE_TYPES
}
PLATE_SIZE_MM[PlateType.YELLOW_DOUBLE] = (440, 220)
"""Plate (width, height) in millimetres, GA 36-2018."""

_ALNUM = LETTERS + DIGITS

# ---------------------------------------------------------------------------------------------
# Plate texts
# ---------------------------------------------------------------------------------------------


def _serial(rng: np.random.Generator, n: int, max_letters: int) -> str:
    """`n` serial characters with at most `max_letters` letters, as issued in practice."""
    k = int(rng.integers(0, max_letters + 1))
    letter_pos = set(rng.choice(n, size=k, replace=False).tolist()) if k else set()
    return "".join(
        LETTERS[rng.integers(len(LETTERS))] if i in letter_pos else DIGITS[rng.integers(10)] for i in range(n)
    )


def random_plate_text(plate_type: PlateType, rng: np.random.Generator, province: str | None = None) -> str:
    """A random plate text that `dealergate.plates` accepts as `plate_type`.

    `province` fixes the first character where the layout has one of choice; HK/Macao plates are
    always 粤Z and embassy plates start with 使, so `province` is ignored for those two.
    """
    if plate_type is PlateType.UNKNOWN:
        raise ValueError("cannot generate text for PlateType.UNKNOWN")
    if province is not None and province not in PROVINCES:
        raise ValueError(f"unknown province {province!r}")
    p = province or PROVINCES[rng.integers(len(PROVINCES))]
    letter = LETTERS[rng.integers(len(LETTERS))]
    match plate_type:
        case PlateType.BLUE | PlateType.YELLOW | PlateType.YELLOW_DOUBLE:
            text = p + letter + _serial(rng, 5, 3)
        case PlateType.NEW_ENERGY_SMALL:
            # D (pure electric) / F (hybrid) dominate; 4th may be a letter; last 4 are digits.
            kind = "DF"[rng.integers(2)] if rng.random() < 0.8 else "DFABCEGHJK"[rng.integers(10)]
            fourth = _ALNUM[rng.integers(len(_ALNUM))] if rng.random() < 0.4 else DIGITS[rng.integers(10)]
            text = p + letter + kind + fourth + _serial(rng, 4, 0)
        case PlateType.NEW_ENERGY_LARGE:
            text = p + letter + _serial(rng, 5, 0) + "DF"[rng.integers(2)]
        case PlateType.POLICE | PlateType.COACH | PlateType.TRAILER | PlateType.EMERGENCY:
            suffix = {
                PlateType.POLICE: "警",
                PlateType.COACH: "学",
                PlateType.TRAILER: "挂",
                PlateType.EMERGENCY: "应急",
            }[plate_type]
            text = p + letter + _serial(rng, 4, 2) + suffix
        case PlateType.HK_MACAO:
            text = "粤Z" + _serial(rng, 4, 2) + "港澳"[rng.integers(2)]
        case PlateType.EMBASSY:
            text = "使" + _serial(rng, 6, 0)
        case PlateType.CONSULATE:
            text = p + letter + _serial(rng, 4, 0) + "领"
        case _:
            raise ValueError(f"unsupported plate type {plate_type}")
    assert plate_type in matching_types(text), (plate_type, text)
    return text


# ---------------------------------------------------------------------------------------------
# Fonts and glyph masks (cached: rasterising a CJK glyph costs far more than drawing a plate)
# ---------------------------------------------------------------------------------------------

_FONT_DIR = Path("/usr/share/fonts")
# (file, face index); the first entry of each list is the default look when no rng is given.
_CJK_FONTS: tuple[tuple[str, int], ...] = (
    ("opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("truetype/wqy/wqy-zenhei.ttc", 0),
    ("opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("truetype/wqy/wqy-microhei.ttc", 0),
    ("truetype/arphic/ukai.ttc", 0),
)
_LATIN_FONTS: tuple[tuple[str, int], ...] = (
    ("truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 0),
    ("truetype/dejavu/DejaVuSans-Bold.ttf", 0),
    ("opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("truetype/dejavu/DejaVuSansMono-Bold.ttf", 0),
    ("truetype/wqy/wqy-zenhei.ttc", 0),
    ("truetype/dejavu/DejaVuSansCondensed.ttf", 0),
    # narrow engineering-style sans, closer to the GA 36 plate font than DejaVu (fonts-roboto,
    # fonts-liberation2); real plates' 1, A, 4 and 7 differ from DejaVu's
    ("truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", 0),
    ("truetype/roboto/unhinted/RobotoCondensed-Medium.ttf", 0),
    ("truetype/liberation2/LiberationSans-Bold.ttf", 0),
)
_GLYPH_PX = 96


def _available(fonts: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    found = tuple(f for f in fonts if (_FONT_DIR / f[0]).is_file())
    if not found:
        raise FileNotFoundError(f"none of the plate fonts is installed under {_FONT_DIR}: {fonts}")
    return found


@functools.cache
def _font_lists() -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
    return _available(_CJK_FONTS), _available(_LATIN_FONTS)


@functools.cache
def _font(path: str, index: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_FONT_DIR / path), _GLYPH_PX, index=index)


@functools.cache
def _glyph(char: str, path: str, index: int, stroke: int) -> np.ndarray:
    """Tight float32 coverage mask (0..1) of one character."""
    font = _font(path, index)
    size = _GLYPH_PX * 2
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).text(
        (size // 4, size // 8), char, fill=255, font=font, stroke_width=stroke, stroke_fill=255
    )
    mask = np.asarray(canvas, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(mask > 0.05)
    if ys.size == 0:
        raise ValueError(f"font {path} has no glyph for {char!r}")
    return np.ascontiguousarray(mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])


def cjk_glyph(char: str, rng: np.random.Generator) -> np.ndarray:
    """Coverage mask (0..1) of a Chinese character in a random plate-like font and stroke weight."""
    cjk_fonts, _ = _font_lists()
    path, index = cjk_fonts[rng.integers(len(cjk_fonts))]
    return _glyph(char, path, index, int(rng.choice([0, 1, 1, 2, 2])))


# ---------------------------------------------------------------------------------------------
# Layout and colours
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """Colours (RGB) of one plate layout."""

    bg: tuple[int, int, int]
    fg: tuple[int, int, int]
    border: tuple[int, int, int]
    bg2: tuple[int, int, int] | None = None  # second background colour (gradient / split)


_WHITE = (238, 240, 238)
_BLACK = (18, 18, 20)
_RED = (200, 25, 30)
_BLUE = (12, 62, 160)
_LIGHT_BLUE = (40, 125, 225)
_YELLOW = (242, 190, 22)
_STYLES: dict[PlateType, _Style] = {
    PlateType.BLUE: _Style(_BLUE, _WHITE, _WHITE),
    PlateType.YELLOW: _Style(_YELLOW, _BLACK, _BLACK),
    PlateType.YELLOW_DOUBLE: _Style(_YELLOW, _BLACK, _BLACK),
    PlateType.COACH: _Style(_YELLOW, _BLACK, _BLACK),
    PlateType.TRAILER: _Style(_YELLOW, _BLACK, _BLACK),
    PlateType.NEW_ENERGY_SMALL: _Style((236, 246, 236), _BLACK, (60, 150, 80), bg2=(70, 185, 95)),
    PlateType.NEW_ENERGY_LARGE: _Style((235, 200, 40), _BLACK, _BLACK, bg2=(85, 180, 90)),
    PlateType.POLICE: _Style(_WHITE, _BLACK, _BLACK),
    PlateType.EMERGENCY: _Style(_WHITE, _BLACK, _BLACK),
    PlateType.HK_MACAO: _Style(_BLACK, _WHITE, _WHITE),
    PlateType.EMBASSY: _Style(_BLACK, _WHITE, _WHITE),
    PlateType.CONSULATE: _Style(_BLACK, _WHITE, _WHITE),
}
_RED_CHARS: dict[PlateType, str] = {
    PlateType.POLICE: "警",
    PlateType.EMERGENCY: "应急",
    PlateType.EMBASSY: "使",
    PlateType.CONSULATE: "领",
}


def _row_boxes(
    n: int, width_mm: float, char_w: float, gap: float, dot_gap: float, dot_after: int
) -> tuple[list[tuple[float, float]], float | None]:
    """Left x and width (mm) of `n` centred character boxes, and the separator dot's centre x."""
    total = n * char_w + (n - 1) * gap + (dot_gap - gap if 0 < dot_after < n else 0)
    x = (width_mm - total) / 2
    boxes, dot_x = [], None
    for i in range(n):
        boxes.append((x, char_w))
        x += char_w
        if i == dot_after - 1 and i < n - 1:
            dot_x = x + dot_gap / 2
            x += dot_gap
        elif i < n - 1:
            x += gap
    return boxes, dot_x


def _layout(
    text: str, plate_type: PlateType
) -> tuple[list[tuple[float, float, float, float]], list[tuple[float, float]]]:
    """Character boxes (x, y, w, h in mm) and separator dot centres for a plate."""
    w_mm, _ = PLATE_SIZE_MM[plate_type]
    if plate_type is PlateType.YELLOW_DOUBLE:
        top, _ = _row_boxes(2, w_mm, 80, 0, 90, 1)
        bottom, _ = _row_boxes(5, w_mm, 65, 15, 15, 0)
        boxes = [(x, 15, w, 60) for x, w in top] + [(x, 90, w, 110) for x, w in bottom]
        return boxes, []
    n = len(text)
    if plate_type in (PlateType.NEW_ENERGY_SMALL, PlateType.NEW_ENERGY_LARGE):
        row, dot_x = _row_boxes(n, w_mm, 43, 9, 49, 2)
    elif n == 7:
        row, dot_x = _row_boxes(n, w_mm, 45, 12, 34, 1 if plate_type is PlateType.EMBASSY else 2)
    else:  # 8-character 440 mm plates (应急): narrower boxes, same margins
        row, dot_x = _row_boxes(n, w_mm, 38, 8, 30, 2)
    boxes = [(x, 25, w, 90) for x, w in row]
    return boxes, ([(dot_x, 70)] if dot_x is not None else [])


def _jitter_colour(c: tuple[int, int, int], rng: np.random.Generator | None, amount: int) -> np.ndarray:
    arr = np.array(c[::-1], dtype=np.float32)  # RGB -> BGR
    if rng is not None:
        arr = arr + rng.integers(-amount, amount + 1, size=3)
    return np.clip(arr, 0, 255)


def _background(
    plate_type: PlateType, style: _Style, h: int, w: int, rng: np.random.Generator | None
) -> np.ndarray:
    bg = _jitter_colour(style.bg, rng, 14)
    if plate_type is PlateType.BLUE and rng is not None:  # new plates are deep blue, older/lit ones cyan
        bg = bg + rng.uniform(0.0, 1.0) * (np.array(_LIGHT_BLUE[::-1], np.float32) - np.array(_BLUE[::-1]))
    img = np.empty((h, w, 3), np.float32)
    img[:] = bg
    if style.bg2 is not None:
        bg2 = _jitter_colour(style.bg2, rng, 14)
        if plate_type is PlateType.NEW_ENERGY_SMALL:
            # light at the top fading to green at the bottom
            t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None] ** 1.3
            img[:] = bg * (1 - t) + bg2 * t
        else:  # NEW_ENERGY_LARGE: yellow/green split after the issuing-office letter
            split = int(w * (0.305 + (rng.uniform(-0.01, 0.01) if rng is not None else 0.0)))
            img[:, split:] = bg2
    return img


def _blend(img: np.ndarray, mask: np.ndarray, x: int, y: int, colour: np.ndarray) -> None:
    """Alpha-blend `colour` through `mask` at (x, y), clipping to the image."""
    h, w = mask.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
    roi = img[y0:y1, x0:x1]
    roi *= 1.0 - m
    roi += m * colour


def _rivets(img: np.ndarray, boxes: list[tuple[float, float, float, float]], s: float, rng: np.random.Generator) -> None:
    """The two mounting rivets over the 2nd and the second-to-last character boxes.

    On real plates they are mostly bright chrome domes that touch the top of the character below:
    a rivet over a 1 makes it look like a T to a model that never saw one there, the commonest
    look-alike misread on the easypr photographs. Some are dark holes instead.
    """
    h, w = img.shape[:2]
    r = max(1, round(rng.uniform(6.0, 10.0) * s))
    cy = round(rng.uniform(13.0, 24.0) * s)
    bright = rng.random() < 0.7
    for i in (1, len(boxes) - 2):
        cx = min(w - 1, max(0, round((boxes[i][0] + boxes[i][2] / 2 + rng.uniform(-3.0, 3.0)) * s)))
        if bright:
            colour = np.full(3, rng.uniform(170.0, 255.0)) + rng.uniform(-12.0, 12.0, size=3)
            cv2.circle(img, (cx, cy), r, colour.tolist(), -1, cv2.LINE_AA)
            cv2.circle(img, (cx, cy), r, (colour * 0.55).tolist(), max(1, round(0.8 * s)), cv2.LINE_AA)
        else:
            colour = img[min(h - 1, cy), cx] * 0.6 + 60
            cv2.circle(img, (cx, cy), r, colour.tolist(), -1, cv2.LINE_AA)


GlyphSource = Callable[[str], np.ndarray | None]
"""A character -> its coverage mask (0..1) in some other hand, or None where it has none."""


def render_plate(
    text: str,
    plate_type: PlateType,
    rng: np.random.Generator | None = None,
    *,
    height: int = 140,
    glyphs: GlyphSource | None = None,
) -> np.ndarray:
    """A clean, flat, front-on plate image (BGR uint8, `height` pixels tall).

    Without `rng` the plate has the standard look; with it the fonts, stroke weight, spacing,
    colour shades and rivets vary, so that the OCR model learns the characters, not one font.
    `glyphs` draws the characters it knows instead of the fonts: real plate-font glyphs cut from
    photographed plates (`dealergate.synth.glyph_swap.GlyphBank`), for the shapes no installed
    font has (GA 36's 1, 4, 7, M, Q, G and the province glyphs).
    """
    if plate_type is PlateType.UNKNOWN:
        raise ValueError("cannot render PlateType.UNKNOWN")
    if plate_type not in matching_types(text):
        raise ValueError(f"{text!r} is not a valid {plate_type.value} plate")
    w_mm, h_mm = PLATE_SIZE_MM[plate_type]
    s = height / h_mm  # pixels per millimetre
    h, w = height, round(w_mm * s)
    style = _STYLES[plate_type]
    img = _background(plate_type, style, h, w, rng)
    fg = _jitter_colour(style.fg, rng, 12)
    red = _jitter_colour(_RED, rng, 20)
    border = _jitter_colour(style.border, rng, 12)

    # Border line inset from the plate edge, as stamped on real plates.
    inset, thick = 3.0 * s, max(1, round(2.0 * s))
    cv2.rectangle(
        img, (int(inset), int(inset)), (int(w - inset), int(h - inset)), border.tolist(), thick, cv2.LINE_AA
    )

    cjk_fonts, latin_fonts = _font_lists()
    if rng is None:
        cjk, latin, stroke, fill, shift = cjk_fonts[0], latin_fonts[0], 0, 0.92, 0.0
    else:
        cjk = cjk_fonts[rng.integers(len(cjk_fonts))]
        latin = latin_fonts[rng.integers(len(latin_fonts))]
        stroke = int(rng.choice([0, 0, 1, 2, 3]))
        fill = float(rng.uniform(0.8, 1.0))  # how much of the box width the glyph may use
        shift = float(rng.uniform(-4.0, 4.0))  # whole-row horizontal offset, mm

    boxes, dots = _layout(text, plate_type)
    red_chars = _RED_CHARS.get(plate_type, "")
    for ch, (bx, by, bw, bh) in zip(text, boxes, strict=True):
        is_cjk = ch not in _ALNUM
        path, index = cjk if is_cjk else latin
        glyph = glyphs(ch) if glyphs is not None else None
        if glyph is None:
            glyph = _glyph(ch, path, index, stroke if not is_cjk else min(stroke, 2))
        gh, gw = glyph.shape
        th = max(2, round(bh * s * (0.96 if is_cjk else 1.0)))
        natural_w = gw * th / gh
        squeeze = 1.4 if bw > bh else 0.9  # the double-row top line is set wide and short
        tw = max(1, round(bw * s * fill if is_cjk else min(bw * s * fill, natural_w * squeeze)))
        mask = cv2.resize(glyph, (tw, th), interpolation=cv2.INTER_AREA)
        x = round((bx + shift) * s + (bw * s - tw) / 2)
        y = round(by * s + (bh * s - th) / 2)
        _blend(img, mask, x, y, red if ch in red_chars else fg)

    for dx, dy in dots:
        cv2.circle(
            img,
            (round((dx + shift) * s), round(dy * s)),
            max(1, round(5 * s)),
            fg.tolist(),
            -1,
            cv2.LINE_AA,
        )

    if rng is not None and rng.random() < 0.6:
        _rivets(img, boxes, s, rng)
    return np.clip(img, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Degradation: what a gate camera and the detector's crop do to a plate
# ---------------------------------------------------------------------------------------------


def _surroundings(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Bumper / body colour with a gradient and grain, seen around a loose crop."""
    base = rng.integers(0, 256, size=3).astype(np.float32) * rng.uniform(0.2, 1.0)
    ramp = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0), h, dtype=np.float32)[:, None, None]
    out = base * ramp + rng.normal(0, 8, size=(h, w, 3)).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A realistic low-resolution gate-camera crop of a clean plate render (BGR uint8).

    Perspective and rotation jitter, loose or clipped crop borders, downscaling to the 70-200 px
    widths a detector crops from a 1080p frame, blur, noise, exposure, night, dirt, glare and
    JPEG artefacts; each applied with its own probability.
    """
    ph, pw = img.shape[:2]
    # Plate corners after perspective jitter, an optional side/overhead view (shear, keystone)
    # and an in-plane rotation, in source-pixel units.
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    corners += rng.normal(0, 0.025, size=(4, 2)).astype(np.float32) * np.array([pw, ph], np.float32)
    if rng.random() < 0.5:  # camera off to one side / above, as in CCPD
        corners[:2, 0] += rng.uniform(-0.1, 0.1) * pw
        corners[[1, 2], 1] += rng.uniform(-0.25, 0.25) * ph
        k = rng.uniform(-0.06, 0.06) * ph
        corners[1, 1] += k
        corners[2, 1] -= k
    angle = np.deg2rad(rng.normal(0, 4.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    centre = corners.mean(axis=0)
    corners = (corners - centre) @ rot.T + centre

    # The detector's axis-aligned box around them: loose or clipped per side (negative clips the
    # plate), its aspect a little off, scaled to the 70-200 px widths cropped from a 1080p frame.
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    pad = rng.uniform(-0.03, 0.12, size=4)
    pad = np.where(rng.random(4) < 0.5, np.abs(pad) * 0.3, pad)
    cx0, cx1 = x0 - pad[0] * (x1 - x0), x1 + pad[2] * (x1 - x0)
    cy0, cy1 = y0 - pad[1] * (y1 - y0), y1 + pad[3] * (y1 - y0)
    out_w = int(rng.integers(70, 200))
    out_h = max(12, round(out_w * (cy1 - cy0) / (cx1 - cx0) * rng.uniform(0.9, 1.12)))
    dst = (
        (corners - np.array([cx0, cy0], np.float32))
        * np.array([out_w / (cx1 - cx0), out_h / (cy1 - cy0)], np.float32)
    ).astype(np.float32)

    # Pre-shrink with area averaging so the warp does not alias thin strokes.
    scale = min(1.0, 2.0 * out_w / pw)
    small = cv2.resize(img, (max(2, int(pw * scale)), max(2, int(ph * scale))), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    out = _surroundings(out_h, out_w, rng)
    cv2.warpPerspective(
        small,
        cv2.getPerspectiveTransform(src, dst),
        (out_w, out_h),
        dst=out,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )
    f = out.astype(np.float32)

    if rng.random() < 0.25:  # dirt and mud blotches
        dirt = np.zeros((out_h, out_w), np.float32)
        for _ in range(int(rng.integers(1, 6))):
            centre = (int(rng.integers(out_w)), int(rng.integers(out_h)))
            axes = (int(rng.integers(2, max(3, out_w // 6))), int(rng.integers(1, max(2, out_h // 3))))
            cv2.ellipse(
                dirt, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.2, 0.7)), -1
            )
        dirt = cv2.GaussianBlur(dirt, (0, 0), 1.5)[..., None]
        f = f * (1 - dirt) + np.array([40, 60, 80], np.float32) * dirt
    if rng.random() < 0.1:  # headlight / sun glare
        yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        cx, cy, r = rng.uniform(0, out_w), rng.uniform(0, out_h), rng.uniform(0.2, 0.6) * out_w
        f += (np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)) * rng.uniform(60, 160))[..., None]

    if rng.random() < 0.5:  # paint and camera colour rendition: hue drift, saturation
        hsv = cv2.cvtColor(np.clip(f, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(-8, 8)) % 180
        hsv[..., 1] *= rng.uniform(0.15, 1.3) if rng.random() < 0.2 else rng.uniform(0.6, 1.3)
        f = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    if rng.random() < 0.1:  # hard shadow edge of a gate arm or canopy across the plate
        x0 = rng.uniform(0, out_w)
        slope = rng.uniform(-2, 2)
        yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        f[(xx - x0 - slope * yy) > 0] *= rng.uniform(0.35, 0.7)

    # Exposure, contrast, white balance, gamma.
    f = (f - 128) * rng.uniform(0.7, 1.3) + 128 + rng.uniform(-35, 35)
    f *= rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    if rng.random() < 0.15:  # night: dark, bluish, noisy
        f = f * rng.uniform(0.2, 0.5) + np.array([20, 5, 0], np.float32)
    f = np.clip(f, 0, 255)
    f = 255.0 * (f / 255.0) ** rng.uniform(0.7, 1.4)

    if rng.random() < 0.5:
        if rng.random() < 0.7:
            f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.3, 0.9))
        else:  # horizontal motion blur of a car rolling in
            k = int(rng.integers(2, 5))
            kernel = np.zeros((k, k), np.float32)
            kernel[k // 2, :] = 1.0 / k
            f = cv2.filter2D(f, -1, kernel)
    if rng.random() < 0.3:  # sensor-limited resolution: down and up again
        r = rng.uniform(0.45, 0.8)
        tiny = cv2.resize(f, (max(2, int(out_w * r)), max(2, int(out_h * r))), interpolation=cv2.INTER_AREA)
        f = cv2.resize(tiny, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.6:
        f += rng.normal(0, rng.uniform(2, 12), size=f.shape).astype(np.float32)
    out = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 92))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out
