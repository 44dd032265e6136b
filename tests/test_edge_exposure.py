"""Exposure correction of under- and washed-out frames (`edge.exposure`) and its place in the reader."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from test_edge_reader import Scripted, good, scene_with_plate

from edge.detect.color import ColorPlateDetector
from edge.exposure import (
    BLACK_LEVEL_FROM,
    MAX_GAIN,
    TARGET_LEVEL,
    black_level,
    corrected,
    exposure_gain,
    is_monochrome,
)
from edge.reader import PlateReader, load_image


def bright_end(image: np.ndarray) -> float:
    return float(np.percentile(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 99))


def dark_end(image: np.ndarray) -> float:
    return float(np.percentile(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 1))


def test_a_well_exposed_frame_is_returned_untouched() -> None:
    grey = np.random.default_rng(0).integers(0, 256, (720, 1280, 1), dtype=np.uint8)
    frame = np.repeat(grey, 3, axis=2)  # every level from black to white
    assert exposure_gain(frame) == 1.0 and black_level(frame) == 0.0
    assert corrected(frame) is frame  # no copy on the common path


def test_a_dim_frame_is_lifted_until_its_bright_end_reaches_the_target() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(10, 100, (720, 1280, 3), dtype=np.uint8)  # nothing brighter than 99
    gain = exposure_gain(frame)
    assert 1.7 < gain < 2.0
    lifted = corrected(frame)
    assert lifted is not frame and lifted.shape == frame.shape and lifted.dtype == np.uint8
    assert abs(bright_end(lifted) - TARGET_LEVEL) <= 6
    assert int(frame.max()) <= 99  # the caller's frame is not changed in place


def test_a_black_frame_gets_at_most_the_gain_cap() -> None:
    frame = np.full((480, 640, 3), 3, np.uint8)
    assert exposure_gain(frame) == MAX_GAIN
    assert int(corrected(frame).max()) == round(3 * MAX_GAIN)
    grey = np.full((480, 640), 40, np.uint8)
    assert exposure_gain(grey) == MAX_GAIN  # a single-channel frame too


def test_a_washed_out_frame_has_its_black_level_taken_off() -> None:
    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (720, 1280, 1)).astype(np.float32)
    washed = np.repeat(np.clip(grey * 0.7 + 60, 0, 255), 3, axis=2).astype(np.uint8)  # blacks lifted to 60
    washed[:8, :8] = 255  # a headlight
    assert abs(black_level(washed) - 62) <= 3
    assert exposure_gain(washed) == 1.0  # its bright end is bright enough
    levelled = corrected(washed)
    assert dark_end(levelled) <= 3 and levelled.std() > 1.3 * washed.std()
    assert int(levelled[0, 0, 0]) == 255  # white stays white: the levels are stretched, not shifted
    assert int(washed.min()) >= 60  # the caller's frame is not changed in place


def test_a_dark_end_at_the_threshold_is_left_alone() -> None:
    frame = np.full((480, 640, 3), round(BLACK_LEVEL_FROM), np.uint8)
    frame[:, 320:] = 220
    assert black_level(frame) == 0.0 and corrected(frame) is frame


def test_the_still_image_reader_reads_crops_of_the_brightened_frame(tmp_path: Path) -> None:
    scene = load_image(str(scene_with_plate(tmp_path)))
    scene[420:] = 4  # the shadow under the car: this frame's blacks are black
    dark = (scene * 0.4).astype(np.uint8)
    ocr = Scripted(good())
    [result] = PlateReader(ColorPlateDetector(), ocr, correct_exposure=True).read_frame(dark)
    x1, y1, x2, y2 = result.detection.box
    assert abs(x1 - 240) <= 8 and abs(y1 - 300) <= 8  # boxes are the frame's own
    seen = ocr.crops[0]
    assert seen.mean() > 2.0 * dark[y1:y2, x1:x2].mean()  # the OCR saw the brightened plate

    stream = Scripted(good())
    PlateReader(ColorPlateDetector(), stream).read_frame(dark)  # a stream's reader: the frame as it is
    assert stream.crops[0].mean() < 1.2 * dark[y1:y2, x1:x2].mean()


def test_the_still_image_reader_reads_crops_of_the_levelled_frame(tmp_path: Path) -> None:
    scene = load_image(str(scene_with_plate(tmp_path))).astype(np.float32)
    washed = np.clip(scene * 0.7 + 80, 0, 255).astype(np.uint8)  # haze: no pixel darker than 80
    ocr = Scripted(good())
    [result] = PlateReader(ColorPlateDetector(), ocr, correct_exposure=True).read_frame(washed)
    x1, y1, x2, y2 = result.detection.box
    plate = washed[y1:y2, x1:x2]
    assert ocr.crops[0].std() > 1.5 * plate.std()  # the OCR saw the plate with its contrast back


def test_only_the_still_image_reader_corrects_exposure() -> None:
    from edge.config import EdgeSettings

    settings = EdgeSettings(detector="color", fallback_detector="", refine_detector="")
    assert PlateReader.from_settings(settings, stream=False).correct_exposure
    assert not PlateReader.from_settings(settings, stream=True).correct_exposure


def test_an_infrared_picture_is_monochrome_and_a_coloured_scene_is_not() -> None:
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (720, 1280), dtype=np.uint8)
    assert is_monochrome(grey)
    ir = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    assert is_monochrome(ir)
    chroma = rng.integers(-2, 3, ir.shape)  # decoded from YUV: a level or two apart
    assert is_monochrome(np.clip(ir.astype(np.int16) + chroma, 0, 255).astype(np.uint8))
    coloured = ir.copy()
    coloured[300:400, 500:700] = (180, 90, 20)  # a blue car's door: 2 % of the frame
    assert not is_monochrome(coloured)
