"""Generated gate-camera clips: cars carrying given plates drive up to the camera one by one.

Used by `make demo` (the sample gate clip) and the end-to-end tests. Everything is drawn here
from shapes and the project's own plate renderer, so the clip is reproducible from a seed and no
third-party footage is needed. A JSON manifest next to the video lists the cars in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from dealergate.plates import PlateType
from dealergate.synth.plate_render import render_plate

CAR_W, CAR_H = 640, 440
"""Size of a car sprite at its nearest; the plate is 200 px wide at that size."""
PLATE_W_NEAR = 200
CAR_COLOURS = [(235, 235, 235), (30, 30, 30), (185, 188, 190), (40, 40, 170), (150, 90, 30), (60, 60, 60)]


@dataclass(frozen=True)
class ClipCar:
    """One car of a generated clip: its plate and when it is in view (seconds from the start)."""

    plate: str
    plate_type: str
    enters_s: float
    leaves_s: float
    blur_px: int = 0
    """Length of the motion blur this car was drawn with (frame pixels, 0 = sharp)."""


def _background(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A dealership entrance: building band, sky, a driveway in perspective, a barrier post."""
    img = np.empty((h, w, 3), np.uint8)
    sky = np.linspace(215, 170, h // 3, dtype=np.float32)
    img[: h // 3] = np.stack([sky + 20, sky + 5, sky - 10], axis=1)[:, None, :].astype(np.uint8)
    img[h // 3 :] = (96, 98, 100)
    cv2.rectangle(img, (0, h // 6), (w, h // 3 + 20), (200, 198, 190), -1)  # showroom facade
    for x in range(30, w, 140):
        cv2.rectangle(img, (x, h // 6 + 18), (x + 100, h // 3 + 8), (140, 120, 95), -1)  # windows
    road = np.array([[w * 0.36, h // 3 + 20], [w * 0.64, h // 3 + 20], [w * 0.98, h], [w * 0.02, h]], np.int32)
    cv2.fillConvexPoly(img, road, (72, 74, 76))
    for y0 in range(h // 3 + 40, h, 70):  # centre dashes
        y1 = min(h, y0 + 30)
        cv2.line(img, (w // 2, y0), (w // 2, y1), (210, 210, 210), 2 + (y0 - h // 3) // 90)
    cv2.rectangle(img, (int(w * 0.8), h // 3 - 40), (int(w * 0.8) + 26, h - 120), (40, 160, 220), -1)
    cv2.line(img, (int(w * 0.8), h // 3 - 30), (int(w * 0.98), h // 3 - 30), (30, 30, 200), 10)
    noise = rng.normal(0, 4, img.shape).astype(np.int16)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _car_sprite(plate_img: np.ndarray, colour: tuple[int, int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Front view of a car with the plate on its bumper; returns (BGR sprite, alpha mask)."""
    car = np.zeros((CAR_H, CAR_W, 3), np.uint8)
    mask = np.zeros((CAR_H, CAR_W), np.uint8)
    body = np.array([[60, 170], [130, 60], [510, 60], [580, 170], [620, 230], [620, 400], [20, 400], [20, 230]], np.int32)
    cv2.fillConvexPoly(car, body, colour)
    cv2.fillConvexPoly(mask, body, 255)
    cv2.fillConvexPoly(car, np.array([[145, 75], [495, 75], [550, 170], [90, 170]], np.int32), (45, 40, 35))  # windscreen
    for x in (40, 460):
        cv2.rectangle(car, (x, 215), (x + 140, 255), (225, 235, 240), -1)  # headlights
    cv2.rectangle(car, (200, 205), (440, 270), (25, 25, 25), -1)  # grille
    cv2.rectangle(car, (20, 330), (620, 400), tuple(int(c * 0.7) for c in colour), -1)  # bumper
    for x in (20, 560):
        cv2.rectangle(car, (x, 400), (x + 60, 435), (20, 20, 20), -1)  # tyres
        cv2.rectangle(mask, (x, 400), (x + 60, 435), 255, -1)
    ph = int(round(plate_img.shape[0] * PLATE_W_NEAR / plate_img.shape[1]))
    plate = cv2.resize(plate_img, (PLATE_W_NEAR, ph), interpolation=cv2.INTER_AREA)
    y0 = 300 - ph // 2 + (15 if ph < 80 else 0)
    x0 = (CAR_W - PLATE_W_NEAR) // 2
    car[y0 : y0 + ph, x0 : x0 + PLATE_W_NEAR] = plate
    shade = rng.uniform(0.8, 1.1)
    return np.clip(car.astype(np.float32) * shade, 0, 255).astype(np.uint8), mask


def _motion_blur(image: np.ndarray, length: int) -> np.ndarray:
    """Blur along the direction of travel (towards the camera: vertical in the frame)."""
    kernel = np.full((length, 1), 1.0 / length, np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def _night(frame: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """A dusk exposure: dark, low contrast, with the sensor noise a gain-boosted camera shows."""
    dark = frame.astype(np.int16) * 7 // 25 + 14 + noise
    return np.clip(dark, 0, 255).astype(np.uint8)


def _infrared(frame: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """A monochrome picture, as a gate camera in its infrared night mode gives it: one grey level (the
    scene's luminance) in all three channels, with sensor noise. Only the loss of colour is modelled:
    the scene keeps its day brightness, and each plate its visible-light contrast (how the infrared
    lamp lights a plate's paint differs by paint)."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.int16) + noise[..., 0]
    return cv2.cvtColor(np.clip(grey, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _paste(
    frame: np.ndarray, sprite: np.ndarray, mask: np.ndarray, scale: float, cx: float, bottom: float, blur_px: int = 0
) -> None:
    """Alpha-paste the sprite scaled by `scale` with its bottom centre at (cx, bottom), clipped to the
    frame, motion-blurred over `blur_px` pixels."""
    w, h = max(2, int(CAR_W * scale)), max(2, int(CAR_H * scale))
    spr = cv2.resize(sprite, (w, h), interpolation=cv2.INTER_AREA)
    m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
    if blur_px > 1:
        spr, m = _motion_blur(spr, blur_px), _motion_blur(m, blur_px)
    x0, y0 = int(cx - w / 2), int(bottom - h)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(frame.shape[1], x0 + w), min(frame.shape[0], y0 + h)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    sub = spr[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    a = m[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None].astype(np.uint16)
    roi = frame[fy0:fy1, fx0:fx1]
    roi[:] = ((sub.astype(np.uint16) * a + roi.astype(np.uint16) * (255 - a)) // 255).astype(np.uint8)


def make_gate_clip(
    path: Path | str,
    plates: Sequence[tuple[str, PlateType | str]],
    *,
    fps: int = 25,
    size: tuple[int, int] = (1280, 720),
    seconds_per_car: float = 6.0,
    min_duration_s: float = 0.0,
    seed: int = 7,
    blur_px: Sequence[int] | None = None,
    exposure: Literal["day", "night", "infrared"] = "day",
) -> list[ClipCar]:
    """Write an mp4 clip where each plate's car approaches the camera, one car at a time.

    Each car drives in during the first ~80 % of its slot (its plate grows from ~50 to ~200 px
    wide, slightly tilted as from a pole-mounted camera) and leaves the frame at the bottom; the
    rest of the slot is an empty driveway. Returns the cars in order and writes `<path>.json`.

    `blur_px` gives each car a motion blur (frame pixels, 0 = sharp; default all sharp);
    `exposure="night"` renders the whole clip dark, low-contrast and noisy; `"infrared"` in grey, as a
    monochrome night camera gives it (`_infrared`).
    """
    blur = list(blur_px) if blur_px is not None else [0] * len(plates)
    if len(blur) != len(plates):
        raise ValueError("blur_px needs one value per plate")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w, h = size
    background = _background(w, h, rng)
    per_car = max(1, int(round(seconds_per_car * fps)))
    total = max(per_car * len(plates), int(round(min_duration_s * fps)))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    # a small fixed camera tilt: the whole frame is seen slightly from the side and above
    tilt = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [w, 0], [w, h], [0, h]]),
        np.float32([[0, 0], [w, 12], [w - 10, h], [8, h - 8]]),
    )
    cars: list[ClipCar] = []
    sprites = []
    for i, (text, ptype) in enumerate(plates):
        plate_img = render_plate(text, PlateType(ptype), np.random.default_rng(seed * 1000 + i))
        sprites.append(_car_sprite(plate_img, CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))], rng))
        drive = per_car * 0.8 / fps
        enters = round(i * per_car / fps, 3)
        cars.append(ClipCar(text, str(PlateType(ptype)), enters, round(enters + drive, 3), int(blur[i])))
    lateral = rng.uniform(-60, 60, len(plates))
    noise_rng = np.random.default_rng(seed + 1)  # its own stream: a day clip stays as it always was
    noises = [noise_rng.normal(0, 4, (h, w, 3)).astype(np.int16) for _ in range(4)] if exposure != "day" else []
    darken = _infrared if exposure == "infrared" else _night
    for f in range(total):
        frame = background.copy()
        car_i, k = divmod(f, per_car)
        progress = k / (per_car * 0.8)
        if car_i < len(plates) and progress <= 1.0:
            ease = progress**1.6  # slow far away, faster as it comes close
            scale = 0.22 + 0.9 * ease
            bottom = h * 0.42 + (h * 0.75) * ease
            cx = w / 2 + lateral[car_i] * (1 - ease) - 40 * ease
            _paste(frame, *sprites[car_i], scale, cx, bottom, blur[car_i])
        frame = cv2.warpPerspective(frame, tilt, (w, h), borderMode=cv2.BORDER_REPLICATE)
        if noises:
            frame = darken(frame, noises[f % len(noises)])
        writer.write(frame)
    writer.release()
    path.with_suffix(".json").write_text(
        json.dumps(
            {"fps": fps, "size": [w, h], "frames": total, "exposure": exposure, "cars": [asdict(c) for c in cars]},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return cars


def read_manifest(path: Path | str) -> list[ClipCar]:
    """The cars of a clip written by `make_gate_clip`, in order."""
    data = json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))
    return [ClipCar(**c) for c in data["cars"]]
