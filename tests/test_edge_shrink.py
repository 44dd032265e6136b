"""Frame shrinking: the size asked for, close to area averaging (plate strokes averaged, not sampled)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dealergate.plates import PlateType
from dealergate.synth.plate_render import render_plate
from edge.shrink import shrink


def _scene(h: int, w: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """A textured frame with a plate 20 % of its width wide (its place in output fractions)."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    pw = w // 5
    plate = cv2.resize(render_plate("苏E12345", PlateType.BLUE), (pw, pw * 140 // 440), interpolation=cv2.INTER_AREA)
    y, x = h // 2, w // 2
    image[y : y + plate.shape[0], x : x + pw] = plate
    return image, (slice(0.5 + 0.01, 0.5 + 0.2 * 140 / 440 * w / h - 0.01), slice(0.51, 0.69))


@pytest.mark.parametrize(("shape", "size"), [((1183, 1584), (640, 478)), ((1080, 1920), (640, 360)), ((400, 700), (640, 366))])
def test_matches_area_averaging(shape: tuple[int, int], size: tuple[int, int]) -> None:
    image, (rows, cols) = _scene(*shape)
    out = shrink(image, size)
    assert out.shape == (size[1], size[0], 3) and out.dtype == np.uint8
    area = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    h, w = size[1], size[0]

    def gap(other: np.ndarray) -> tuple[float, float]:
        """Mean difference from area averaging: the whole frame, the plate."""
        diff = np.abs(other.astype(int) - area.astype(int))
        plate = diff[int(rows.start * h) : int(rows.stop * h), int(cols.start * w) : int(cols.stop * w)]
        return float(diff.mean()), float(plate.mean())

    frame_gap, plate_gap = gap(out)
    sampled = gap(cv2.resize(image, size, interpolation=cv2.INTER_NEAREST))  # what skipping pixels gives
    assert frame_gap < 2.5 and plate_gap < 6.0
    assert plate_gap < 0.5 * sampled[1]  # the characters' strokes are averaged, not sampled


def test_a_whole_factor_is_area_averaging_itself() -> None:
    image, _ = _scene(1080, 1920)
    assert np.array_equal(shrink(image, (640, 360)), cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA))


def test_writes_into_the_given_buffer() -> None:
    image, _ = _scene(1183, 1584)
    dst = np.empty((478, 640, 3), np.uint8)
    assert shrink(image, (640, 478), dst=dst) is dst
    assert np.array_equal(dst, shrink(image, (640, 478)))
