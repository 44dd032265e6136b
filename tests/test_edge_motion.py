"""Motion gating: an empty driveway is not read (one frame a second excepted), a car is, and
neither sensor noise at night nor motion outside the region wakes the reader."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dealergate.synth.gate_clip import make_gate_clip
from edge.motion import MotionGate

FPS = 25


def decisions(path: Path, gate: MotionGate) -> list[bool]:
    cap = cv2.VideoCapture(str(path))
    out: list[bool] = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        out.append(gate.should_read(image, len(out) / FPS))
    cap.release()
    return out


@pytest.mark.parametrize("exposure", ["day", "night", "infrared"])
def test_a_car_is_read_and_the_empty_driveway_is_not(tmp_path: Path, exposure: str) -> None:
    clip = tmp_path / f"{exposure}.mp4"
    make_gate_clip(
        clip, [("粤B12345", "blue")], size=(640, 360), seconds_per_car=3.0, min_duration_s=6.0, exposure=exposure  # type: ignore[arg-type]
    )
    read = decisions(clip, MotionGate(threshold=0.001, hold_s=0.5, idle_read_s=1.0))
    assert len(read) == 150
    driving = read[30:60]  # 1.2-2.4 s: the car comes close (it drives during 0-2.4 s)
    assert all(driving)
    empty = read[100:]  # 4-6 s: nobody there, noise (at night, in infrared) included
    assert sum(empty) == 2  # one frame a second, no more
    assert sum(read) < 100


def test_motion_outside_the_region_is_ignored() -> None:
    gate = MotionGate(threshold=0.001, roi=(0.0, 0.5, 1.0, 1.0), hold_s=0.0, idle_read_s=10.0)
    frames = []
    for i in range(20):
        image = np.full((360, 640, 3), 90, np.uint8)
        cv2.rectangle(image, (20 * i, 40), (20 * i + 80, 120), (255, 255, 255), -1)  # a flag in the sky
        frames.append(image)
    read = [gate.should_read(f, i / FPS) for i, f in enumerate(frames)]
    assert read[0] and not any(read[1:])  # the first frame has nothing to compare with
    bottom = frames[-1].copy()
    cv2.rectangle(bottom, (300, 250), (400, 330), (0, 0, 0), -1)  # a car in the driveway
    assert gate.should_read(bottom, 1.0) and gate.last_change > 0.01


def test_threshold_zero_reads_every_frame() -> None:
    gate = MotionGate(threshold=0.0)
    still = np.zeros((90, 160, 3), np.uint8)
    assert all(gate.should_read(still, i / FPS) for i in range(30))


def test_idle_check_reads_are_marked_not_moving() -> None:
    """The once-per-idle_read_s read of a still driveway is flagged, so the reader can keep to its
    cheap detector; frames within hold_s of motion are 'moving'."""
    gate = MotionGate(threshold=0.001, hold_s=0.5, idle_read_s=1.0)
    still = np.full((180, 320, 3), 90, np.uint8)
    assert gate.should_read(still, 0.0) and gate.moving  # first frame: everything changed
    assert not gate.should_read(still, 0.6)
    assert gate.should_read(still, 1.2) and not gate.moving  # idle check read
    car = still.copy()
    cv2.rectangle(car, (100, 80), (220, 160), (0, 0, 0), -1)
    assert gate.should_read(car, 1.3) and gate.moving
    assert MotionGate(threshold=0.0).moving
