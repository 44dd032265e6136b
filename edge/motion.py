"""Motion gating: read plates only while something moves in the gate area.

Most of a gate camera's day is an empty driveway, and running the plate detector on every frame
of it costs most of a CPU core. A thumbnail difference of the region of interest is a few hundred
microseconds; frames where too little of it changed are not read. To keep every car that matters:
reading continues for `hold_s` after the last motion (a car slowing to a stop), and one frame every
`idle_read_s` is read anyway, so a car standing still at the barrier keeps its track alive and a
change the difference misses (slow dusk light) costs at most that long.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from edge.config import EdgeSettings

THUMB_WIDTH = 160
"""Width the region is reduced to before differencing: enough for a car, blind to sensor noise."""
PIXEL_DELTA = 10
"""Grey levels a thumbnail pixel must change by to count as moved (night noise stays below)."""

Roi = tuple[float, float, float, float]
"""(x1, y1, x2, y2) as fractions of the frame's width and height."""


class MotionGate:
    """Per-frame decision: read this frame or not. Times are the frames' own (video) seconds."""

    def __init__(
        self,
        threshold: float,
        roi: Roi | None = None,
        hold_s: float = 1.0,
        idle_read_s: float = 1.0,
    ) -> None:
        self.threshold = threshold
        self.roi = roi
        self.hold_s = hold_s
        self.idle_read_s = idle_read_s
        self.last_change = 0.0
        """Fraction of the region that changed between the last two frames."""
        self.moving = True
        """Whether the last frame was within `hold_s` of motion (False: an idle check read)."""
        self._previous: np.ndarray | None = None
        self._last_motion_s = float("-inf")
        self._last_read_s = float("-inf")

    @classmethod
    def from_settings(cls, settings: EdgeSettings) -> MotionGate:
        return cls(settings.motion_threshold, settings.motion_roi, settings.motion_hold_s, settings.idle_read_s)

    @property
    def enabled(self) -> bool:
        return self.threshold > 0.0

    def _thumbnail(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if self.roi is not None:
            x1, y1, x2, y2 = self.roi
            image = image[int(y1 * h) : max(int(y2 * h), int(y1 * h) + 1), int(x1 * w) : max(int(x2 * w), int(x1 * w) + 1)]
            h, w = image.shape[:2]
        size = (THUMB_WIDTH, max(1, round(THUMB_WIDTH * h / w)))
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        return cv2.GaussianBlur(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), (3, 3), 0)

    def should_read(self, image: np.ndarray, t_s: float) -> bool:
        """True when the frame at video time `t_s` should go through the plate reader."""
        if not self.enabled:
            self.moving = True
            return True
        thumb = self._thumbnail(image)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            self.last_change = 1.0
        else:
            moved = cv2.absdiff(thumb, previous) > PIXEL_DELTA
            self.last_change = float(np.count_nonzero(moved)) / moved.size
        if self.last_change >= self.threshold:
            self._last_motion_s = t_s
        self.moving = t_s - self._last_motion_s <= self.hold_s
        read = self.moving or t_s - self._last_read_s >= self.idle_read_s
        if read:
            self._last_read_s = t_s
        return read
