"""The projection-profile deskew of plate crops (`edge.skew`), on rendered plates."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dealergate.plates import PlateType
from dealergate.synth.plate_render import render_plate
from edge.skew import MAX_SKEW_DEG, rotate_level, text_skew


def tilted_crop(plate_type: PlateType, text: str, angle: float, background: tuple[int, int, int]) -> np.ndarray:
    """A rendered plate on a plain canvas, turned by `angle` degrees (counter-clockwise positive)."""
    plate = render_plate(text, plate_type)
    h, w = plate.shape[:2]
    plate = cv2.resize(plate, (round(w * 48 / h), 48), interpolation=cv2.INTER_AREA)
    canvas = cv2.copyMakeBorder(plate, 24, 24, 16, 16, cv2.BORDER_CONSTANT, value=background)
    turn = cv2.getRotationMatrix2D((canvas.shape[1] / 2, canvas.shape[0] / 2), angle, 1.0)
    return cv2.warpAffine(canvas, turn, canvas.shape[1::-1], borderValue=background)


@pytest.mark.parametrize("angle", [-15.0, -8.0, 6.0, 12.0])
@pytest.mark.parametrize(
    ("plate_type", "text"),
    [(PlateType.BLUE, "京A12345"), (PlateType.YELLOW_DOUBLE, "鲁B7Z261"), (PlateType.NEW_ENERGY_SMALL, "沪AD12345")],
)
def test_the_skew_found_is_the_turn_that_levels_the_characters(plate_type: PlateType, text: str, angle: float) -> None:
    crop = tilted_crop(plate_type, text, angle, (110, 110, 110))
    assert text_skew(crop) == pytest.approx(-angle, abs=1.0)
    assert abs(text_skew(rotate_level(crop, text_skew(crop)))) <= 1.0


def test_a_level_plate_has_no_skew_and_colour_does_not_matter() -> None:
    level = tilted_crop(PlateType.BLUE, "苏E6T2M8", 0.0, (110, 110, 110))
    assert abs(text_skew(level)) <= 1.0
    # a blue plate on a blue car: no colour region to level by, the strokes still tell
    on_blue = tilted_crop(PlateType.BLUE, "苏E6T2M8", 9.0, (160, 70, 20))
    assert text_skew(on_blue) == pytest.approx(-9.0, abs=1.5)


def test_crops_too_small_or_blank_to_tell_are_level() -> None:
    assert text_skew(np.zeros((6, 40, 3), np.uint8)) == 0.0
    assert text_skew(np.full((40, 120, 3), 128, np.uint8)) == 0.0
    assert abs(text_skew(tilted_crop(PlateType.BLUE, "京A12345", 35.0, (110, 110, 110)))) <= MAX_SKEW_DEG


def test_levelling_keeps_the_crop_size() -> None:
    crop = tilted_crop(PlateType.BLUE, "京A12345", 10.0, (110, 110, 110))
    assert rotate_level(crop, -10.0).shape == crop.shape
