"""Province swap on plate crops: the first character is replaced, the rest of the plate is not."""

from __future__ import annotations

import numpy as np
import pytest

from dealergate.plates import PlateType
from dealergate.synth.plate_render import render_plate
from dealergate.synth.province_swap import find_first_char, swap_province


def _tight_crop(text: str, plate_type: PlateType = PlateType.BLUE) -> np.ndarray:
    """A rendered plate cut just inside its frame line, like the real crop sets (136×36 px)."""
    plate = render_plate(text, plate_type, height=44)  # 138 px wide
    return np.ascontiguousarray(plate[4:40, 1:137])


@pytest.mark.parametrize("plate_type", [PlateType.BLUE, PlateType.YELLOW])
def test_first_character_is_found_where_the_layout_puts_it(plate_type: PlateType) -> None:
    crop = _tight_crop("苏A12345", plate_type)
    found = find_first_char(crop)
    assert found is not None
    x0, y0, x1, y1, _ = found
    w = crop.shape[1]
    # GA 36: the first 45 mm box starts 15.5 mm into the 440 mm plate
    assert 0.0 <= x0 / w <= 0.06 and 0.10 <= x1 / w <= 0.16
    assert y1 - y0 >= 0.6 * crop.shape[0]


def test_swap_replaces_only_the_province() -> None:
    crop = _tight_crop("苏A12345")
    swapped = swap_province(crop, np.random.default_rng(3), province="湘")
    assert swapped is not None
    image, province = swapped
    assert province == "湘"
    assert image.shape == crop.shape
    x0, y0, x1, y1, _ = find_first_char(crop)  # type: ignore[misc]
    diff = np.abs(image.astype(int) - crop.astype(int)).max(axis=2)
    assert diff[y0:y1, x0:x1].mean() > 20  # a different glyph stands there
    assert diff[:, x1 + 8 :].max() == 0  # every other character is untouched


def test_random_province_is_one_of_the_31() -> None:
    from dealergate.plates import PROVINCES

    swapped = swap_province(_tight_crop("浙B88888"), np.random.default_rng(0))
    assert swapped is not None and swapped[1] in PROVINCES


@pytest.mark.parametrize(
    "image",
    [
        np.full((36, 136, 3), 128, np.uint8),  # nothing written on it
        np.zeros((10, 136, 3), np.uint8),  # too small to hold a row of characters
        np.full((100, 100, 3), 200, np.uint8),  # not plate shaped
    ],
)
def test_crops_without_a_clear_first_character_are_skipped(image: np.ndarray) -> None:
    assert swap_province(image, np.random.default_rng(0)) is None
