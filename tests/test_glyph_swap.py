"""Glyph swap on plate crops: seven characters cut at the plate font's pitch, letters and digits
redrawn from a bank of real glyphs, the rest of the plate untouched, unclear crops skipped."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from dealergate.plates import DIGITS, LETTERS, PlateType
from dealergate.synth.glyph_swap import GlyphBank, cut_characters, swap_glyphs
from dealergate.synth.plate_render import render_plate


def _tight_crop(text: str, plate_type: PlateType = PlateType.BLUE) -> np.ndarray:
    """A rendered plate cut just inside its frame line, like the real crop sets (136×36 px)."""
    plate = render_plate(text, plate_type, height=44)
    return np.ascontiguousarray(plate[4:40, 1:137])


@pytest.mark.parametrize(
    ("text", "plate_type"), [("苏A12345", PlateType.BLUE), ("粤B8D0Q2", PlateType.YELLOW)]
)
def test_seven_boxes_at_the_plate_fonts_pitch(text: str, plate_type: PlateType) -> None:
    cut = cut_characters(_tight_crop(text, plate_type))
    assert cut is not None and len(cut.boxes) == 7
    centres = np.array([(x0 + x1) / 2 for x0, _, x1, _ in cut.boxes])
    pitch = np.diff(centres)
    # GA 36: 57 mm from centre to centre, 79 mm across the separator dot after the second character
    assert np.allclose(pitch[2:], pitch[2:].mean(), rtol=0.15)
    assert 1.2 < pitch[1] / pitch[2:].mean() < 1.6


def _bank() -> GlyphBank:
    bank = GlyphBank()
    for text in ("苏A12345", "苏B67890", "苏D0Q8B2", "苏C4A7TZ", "苏E5S1T6"):
        assert bank.add(_tight_crop(text), text), text
    return bank


def test_the_bank_keeps_each_letter_and_digit_of_a_clean_crop() -> None:
    bank = _bank()
    assert set(bank.glyphs) == set("1234567890ABCDEQTZS")
    assert len(bank.glyphs["2"]) == 2  # 苏A12345 and 苏D0Q8B2
    assert not bank.add(np.full((36, 136, 3), 128, np.uint8), "苏A12345")  # nothing written on it


def test_a_swap_redraws_two_characters_and_leaves_the_rest() -> None:
    crop = _tight_crop("苏A12345")
    cut = cut_characters(crop)
    assert cut is not None
    swapped = swap_glyphs(crop, "苏A12345", _bank(), np.random.default_rng(5))
    assert swapped is not None
    image, text = swapped
    changed = [i for i in range(7) if text[i] != "苏A12345"[i]]
    assert len(changed) == 2 and 0 not in changed
    assert text[1] in LETTERS and all(c in LETTERS + DIGITS for c in text[2:])
    diff = np.abs(image.astype(int) - crop.astype(int)).max(axis=2)
    for i, (x0, y0, x1, y1) in enumerate(cut.boxes):
        inner = diff[y0:y1, x0 + 2 : x1 - 2]
        assert (inner.mean() > 15) == (i in changed), (i, text)


def test_look_alikes_are_preferred() -> None:
    bank, rng = _bank(), np.random.default_rng(0)
    picks = Counter(bank.pick("0", LETTERS + DIGITS, rng)[0] for _ in range(400))  # type: ignore[index]
    assert picks["0"] == 0
    assert 0.45 < (picks["D"] + picks["Q"]) / 400 < 0.75  # half the time a look-alike, else any


def test_crops_that_do_not_cut_cleanly_are_skipped() -> None:
    blank = np.full((36, 136, 3), 128, np.uint8)
    assert cut_characters(blank) is None
    assert swap_glyphs(blank, "苏A12345", _bank(), np.random.default_rng(0)) is None


def test_the_bank_keeps_real_province_glyphs_for_the_province_swap() -> None:
    bank = GlyphBank()
    assert bank.add_province(_tight_crop("湘A12345"), "湘A12345")
    assert bank.add_province(_tight_crop("粤B67890", PlateType.YELLOW), "粤B67890")
    assert not bank.add_province(_tight_crop("湘A12345"), "WJ12345")  # no province to keep
    assert not bank.add_province(np.full((36, 136, 3), 128, np.uint8), "苏A12345")  # nothing written
    assert sorted(k for k in bank.glyphs) == ["湘", "粤"]
    # the yellow plate's dark characters are text, like the blue plate's light ones
    for province in ("湘", "粤"):
        alpha = bank.glyphs[province][0]
        assert 0.15 < alpha.mean() < 0.7 and alpha.max() > 0.9
    assert bank.glyph("京", np.random.default_rng(0)) is None


def test_a_province_swap_draws_the_real_glyph_it_is_given() -> None:
    from dealergate.synth.province_swap import find_first_char, swap_province

    bank = GlyphBank()
    assert bank.add_province(_tight_crop("湘A12345"), "湘A12345")
    crop = _tight_crop("苏A12345")
    glyph = bank.glyph("湘", np.random.default_rng(0))
    assert glyph is not None
    swapped = swap_province(crop, np.random.default_rng(1), "湘", glyph=glyph)
    assert swapped is not None and swapped[1] == "湘"
    rendered = _tight_crop("湘A12345")
    x0, y0, x1, y1, _ = find_first_char(crop)  # type: ignore[misc]
    box = (slice(y0, y1), slice(x0, x1))

    def gap(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a[box].astype(int) - b[box].astype(int)).mean())

    # the swapped crop now shows 湘 where 苏 stood: far closer to a rendered 湘 than to the 苏 it replaced
    assert gap(swapped[0], rendered) < 0.5 * gap(swapped[0], crop)
    with pytest.raises(ValueError, match="province"):
        swap_province(crop, np.random.default_rng(1), glyph=glyph)
