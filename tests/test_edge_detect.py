"""The colour plate detector on synthetic gate frames: finds every layout, invents nothing, keeps up.

Frames are a 1280×720 driveway with a car body and a rendered plate pasted in with a slight
perspective, 80 to 300 px wide, so the expected box is known exactly.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from dealergate.plates import PLATE_COLORS, PlateColor, PlateType
from dealergate.synth.plate_render import random_plate_text, render_plate
from edge.detect import Detector, available_detectors, make_detector
from edge.detect.color import ColorPlateDetector, dominant_plate_color, order_corners, plate_corners_in_crop

BODIES = [(150, 150, 155), (40, 40, 170), (230, 230, 230), (30, 30, 30), (90, 90, 95)]
"""Car colours (BGR): silver, red, white, black, grey."""


def road_scene(rng: np.random.Generator, w: int = 1280, h: int = 720) -> np.ndarray:
    """Sky, a building with windows, asphalt with lane markings, sensor noise."""
    img = np.empty((h, w, 3), np.uint8)
    img[: h // 3] = (200, 185, 170)
    img[h // 3 :] = (88, 90, 92)
    for x in range(0, w, 160):
        cv2.rectangle(img, (x + 20, h // 3 - 90), (x + 120, h // 3 - 20), (120, 110, 100), -1)
    cv2.line(img, (w // 2, h // 3), (w // 2, h), (220, 220, 220), 6)
    cv2.line(img, (w // 5, h), (w // 2 - 60, h // 3), (200, 200, 200), 4)
    return np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)


def add_car(
    img: np.ndarray,
    rng: np.random.Generator,
    plate_type: PlateType,
    plate_w: int,
    body: tuple[int, int, int],
    with_plate: bool = True,
) -> tuple[int, int, int, int] | None:
    """Draw a car body (with a dark windscreen) and its plate; returns the plate's true box."""
    h, w = img.shape[:2]
    plate = render_plate(random_plate_text(plate_type, rng), plate_type, rng, height=140)
    ph = round(plate_w * plate.shape[0] / plate.shape[1])
    cx, cy = int(rng.uniform(0.35, 0.65) * w), int(rng.uniform(0.55, 0.75) * h)
    car_w, car_h = int(plate_w * 3.2), int(plate_w * 2.0)
    x0, y0 = cx - car_w // 2, cy - int(car_h * 0.7)
    cv2.rectangle(img, (max(0, x0), max(0, y0)), (min(w, x0 + car_w), min(h, y0 + car_h)), body, -1)
    cv2.rectangle(
        img, (x0 + car_w // 10, y0 + car_h // 10), (x0 + car_w * 9 // 10, y0 + car_h // 3), (40, 38, 36), -1
    )
    if not with_plate:
        return None
    ph_src, pw_src = plate.shape[:2]
    src = np.float32([[0, 0], [pw_src, 0], [pw_src, ph_src], [0, ph_src]])
    dst = np.float32(
        [
            [cx - plate_w / 2, cy - ph / 2],
            [cx + plate_w / 2, cy - ph / 2],
            [cx + plate_w / 2, cy + ph / 2],
            [cx - plate_w / 2, cy + ph / 2],
        ]
    )
    dst += (rng.uniform(-0.04, 0.04, size=(4, 2)) * [plate_w, ph]).astype(np.float32)  # slight perspective
    matrix = cv2.getPerspectiveTransform(src, dst)
    mask = cv2.warpPerspective(np.full((ph_src, pw_src), 255, np.uint8), matrix, (w, h)) > 127
    img[mask] = cv2.warpPerspective(plate, matrix, (w, h))[mask]
    (x1, y1), (x2, y2) = dst.min(axis=0), dst.max(axis=0)
    return int(x1), int(y1), int(x2), int(y2)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


LAYOUTS = [
    PlateType.BLUE,
    PlateType.YELLOW,
    PlateType.YELLOW_DOUBLE,
    PlateType.NEW_ENERGY_SMALL,
    PlateType.NEW_ENERGY_LARGE,
    PlateType.POLICE,
    PlateType.HK_MACAO,
]


@pytest.mark.parametrize("plate_w", [80, 160, 300])
@pytest.mark.parametrize("plate_type", LAYOUTS)
def test_finds_the_plate(plate_type: PlateType, plate_w: int) -> None:
    detector = ColorPlateDetector()
    for i, body in enumerate(BODIES[:3]):
        rng = np.random.default_rng(1000 * plate_w + 10 * LAYOUTS.index(plate_type) + i)
        frame = road_scene(rng)
        truth = add_car(frame, rng, plate_type, plate_w, body)
        assert truth is not None
        hits = [d for d in detector.detect(frame) if iou(d.box, truth) >= 0.5]
        assert hits, f"{plate_type.value} plate {plate_w} px wide on body {body} not found"
        det = hits[0]
        assert det.corners is not None and det.corners.shape == (4, 2)
        assert 0.0 <= det.score <= 1.0
        if PLATE_COLORS[plate_type] in (PlateColor.BLUE, PlateColor.YELLOW, PlateColor.GREEN):
            assert det.color is PLATE_COLORS[plate_type]


@pytest.mark.parametrize("seed", range(6))
def test_nothing_on_an_empty_scene(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = road_scene(rng)
    add_car(
        frame, rng, PlateType.BLUE, int(rng.uniform(80, 300)), BODIES[seed % len(BODIES)], with_plate=False
    )
    assert ColorPlateDetector().detect(frame) == []
    assert ColorPlateDetector().detect(road_scene(rng)) == []


def test_small_frames_are_not_upscaled_and_boxes_stay_in_frame() -> None:
    rng = np.random.default_rng(7)
    frame = road_scene(rng, 400, 300)
    truth = add_car(frame, rng, PlateType.BLUE, 110, BODIES[0])
    assert truth is not None
    dets = ColorPlateDetector().detect(frame)
    assert any(iou(d.box, truth) >= 0.5 for d in dets)
    for d in dets:
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 < x2 <= 400 and 0 <= y1 < y2 <= 300


def test_corners_are_ordered_clockwise_from_top_left() -> None:
    shuffled = np.float32([[90, 42], [10, 40], [12, 12], [88, 10]])
    assert order_corners(shuffled).tolist() == [[12, 12], [88, 10], [90, 42], [10, 40]]


def test_dominant_colour_of_plate_crops() -> None:
    assert dominant_plate_color(render_plate("京A12345", PlateType.BLUE, height=48)) is PlateColor.BLUE
    assert dominant_plate_color(render_plate("京A12345", PlateType.YELLOW, height=48)) is PlateColor.YELLOW
    assert dominant_plate_color(np.full((40, 120, 3), 128, np.uint8)) is PlateColor.UNKNOWN


def test_registry() -> None:
    assert "color" in available_detectors()
    assert isinstance(make_detector("color"), Detector)
    with pytest.raises(ValueError, match="unknown plate detector 'yolo'"):
        make_detector("yolo")


def test_fast_enough_for_25_fps_at_720p() -> None:
    """The detector must leave most of a 40 ms frame budget to decoding and OCR on two cores."""
    rng = np.random.default_rng(3)
    frames = []
    for i in range(10):
        frame = road_scene(rng)
        add_car(frame, rng, LAYOUTS[i % len(LAYOUTS)], int(rng.uniform(80, 300)), BODIES[i % len(BODIES)])
        frames.append(frame)
    detector = ColorPlateDetector()
    detector.detect(frames[0])  # allocate the work buffers
    t0 = time.perf_counter()
    for frame in frames * 3:
        detector.detect(frame)
    ms = (time.perf_counter() - t0) * 1000 / (len(frames) * 3)
    assert ms < 20.0, f"{ms:.1f} ms per 1280x720 frame"


@pytest.mark.parametrize("margin", [0, 12])
def test_new_energy_plate_in_a_loose_box_on_a_white_car_is_green(margin: int) -> None:
    """Its pale top and the white body around a loose box outnumber the green of its lower half."""
    plate = render_plate("苏AD12345", PlateType.NEW_ENERGY_SMALL, height=48)
    crop = np.full((48 + 2 * margin, plate.shape[1] + 2 * margin, 3), 235, np.uint8)
    crop[margin : margin + 48, margin : margin + plate.shape[1]] = plate
    assert dominant_plate_color(crop) is PlateColor.GREEN
    police = render_plate("苏A1234警", PlateType.POLICE, height=48)
    framed = np.full_like(crop, 235)
    framed[margin : margin + 48, margin : margin + police.shape[1]] = police[:, : crop.shape[1] - 2 * margin]
    assert dominant_plate_color(framed) is PlateColor.WHITE


def tilted_crop(plate_type: PlateType, degrees: float) -> np.ndarray:
    """A plate crop as another system might hand it over: the plate turned, grey around it."""
    plate = cv2.resize(
        render_plate(random_plate_text(plate_type, np.random.default_rng(3)), plate_type), (176, 56)
    )
    canvas = cv2.copyMakeBorder(plate, 30, 30, 20, 20, cv2.BORDER_CONSTANT, value=(120, 120, 120))
    h, w = canvas.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(canvas, turn, (w, h), borderValue=(120, 120, 120))[18:-18, 6:-6]


@pytest.mark.parametrize("degrees", [-12.0, 0.0, 9.0])
def test_the_plate_inside_a_crop_is_found_with_its_tilt(degrees: float) -> None:
    crop = tilted_crop(PlateType.BLUE, degrees)
    corners = plate_corners_in_crop(crop, PlateColor.BLUE)
    assert corners is not None
    (x0, y0), (x1, y1) = corners[0], corners[1]
    assert abs(-np.degrees(np.arctan2(y1 - y0, x1 - x0)) - degrees) < 2.0  # image y points down
    assert 150 < np.hypot(x1 - x0, y1 - y0) < 200  # the plate's own width, not the crop's


def test_no_plate_corners_without_a_plate_coloured_blob() -> None:
    grey = np.full((60, 180, 3), 120, np.uint8)
    assert plate_corners_in_crop(grey, PlateColor.BLUE) is None
    assert plate_corners_in_crop(tilted_crop(PlateType.BLUE, 5.0), PlateColor.UNKNOWN) is None
    assert plate_corners_in_crop(tilted_crop(PlateType.BLUE, 5.0), PlateColor.YELLOW) is None
