"""Exposure correction of underexposed frames (`edge.exposure`) and its place in the reader."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from test_edge_reader import Scripted, good, scene_with_plate

from edge.detect.color import ColorPlateDetector
from edge.exposure import MAX_GAIN, TARGET_LEVEL, corrected, exposure_gain
from edge.reader import PlateReader, load_image


def bright_end(image: np.ndarray) -> float:
    return float(np.percentile(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), 99))


def test_a_frame_bright_enough_is_returned_untouched() -> None:
    frame = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    assert exposure_gain(frame) == 1.0
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


def test_the_still_image_reader_reads_crops_of_the_brightened_frame(tmp_path: Path) -> None:
    scene = load_image(str(scene_with_plate(tmp_path)))
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


def test_only_the_still_image_reader_corrects_exposure() -> None:
    from edge.config import EdgeSettings

    settings = EdgeSettings(detector="color", fallback_detector="", refine_detector="")
    assert PlateReader.from_settings(settings, stream=False).correct_exposure
    assert not PlateReader.from_settings(settings, stream=True).correct_exposure
