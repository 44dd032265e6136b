"""Plate detectors: one protocol, one file per implementation, chosen by name in the settings.

A detector only says where plates are and what colour they look; reading them is the
recognizer's job. New backends (an ONNX YOLO model, say) register a factory in `_FACTORIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from edge.types import Detection


@runtime_checkable
class Detector(Protocol):
    """Finds plate candidates in a BGR frame; boxes and corners are in that frame's pixels."""

    def detect(self, image: np.ndarray) -> list[Detection]: ...


@runtime_checkable
class Refiner(Protocol):
    """Looks again, closely, at one candidate of a detector: its own box and corners, or None when it
    sees no plate there. Cheaper than `detect` on a whole frame; used on candidates that read unsurely."""

    def refine(self, image: np.ndarray, detection: Detection) -> Detection | None: ...


def _color(threads: int | None = None, **options: Any) -> Detector:
    from edge.detect.color import ColorPlateDetector

    return ColorPlateDetector(**options)  # no network, so no inference threads to size


def _retina(**options: Any) -> Detector:
    from edge.detect.retina import RetinaPlateDetector

    return RetinaPlateDetector(**options)


_FACTORIES: dict[str, Callable[..., Detector]] = {"color": _color, "retina": _retina}


def available_detectors() -> list[str]:
    """Names accepted by `make_detector` (and by the `detector` setting)."""
    return sorted(_FACTORIES)


def make_detector(name: str, threads: int | None = None, **options: Any) -> Detector:
    """A fresh detector by name, `options` passed to its constructor (e.g. the learned detector's
    `long_side`); `threads`, where given, sizes the inference threads of a detector that runs a
    network (the colour detector has none). Unknown names raise ValueError listing the known ones."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(available_detectors())
        raise ValueError(f"未知的车牌检测器 / unknown plate detector {name!r} (known: {known})") from None
    return factory(**options) if threads is None else factory(threads=threads, **options)
