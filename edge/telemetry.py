"""Measurements of the running edge: frame rate, frame cost, arrival latency.

Fed by the edge loop (one call per frame) and by the outbox courier (one call per PUBACK); read
by the heartbeat, which takes the figures of the interval since its previous reading, and by the
run summary. Thread-safe: those three run on different threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

KEEP_LATENCIES = 10_000
"""Latencies kept for the run summary (a long-running edge must not grow without bound)."""


@dataclass(frozen=True)
class Window:
    """What happened between two readings (`Telemetry.take_window`)."""

    seconds: float
    frames: int
    frames_gated: int
    fps: float
    mean_frame_ms: float
    arrivals: int
    mean_latency_ms: float | None


class Telemetry:
    """Counters for one edge run."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._frames = self._gated = 0
        self._busy_s = 0.0
        self._latencies: list[float] = []
        self._awaiting: dict[str, tuple[float, float]] = {}  # event id -> clock values: first read, readable
        self.latencies_ms: deque[float] = deque(maxlen=KEEP_LATENCIES)
        """The latest delivered arrivals' latencies, in delivery order."""
        self.readable_latencies_ms: deque[float] = deque(maxlen=KEEP_LATENCIES)
        """The same from the car's first confident read instead of its first read at all."""
        self.frames_total = 0
        self.gated_total = 0
        self.busy_total_s = 0.0
        self.latency_count = 0
        self.latency_total_s = 0.0

    def frame(self, busy_s: float, gated: bool = False) -> None:
        """One frame handled in `busy_s` seconds; `gated` when it was not read (nothing moved)."""
        with self._lock:
            self._frames += 1
            self._gated += gated
            self._busy_s += busy_s
            self.frames_total += 1
            self.gated_total += gated
            self.busy_total_s += busy_s

    def arrival_stored(
        self,
        event_id: str,
        since_first_read_s: float,
        frame_started: float,
        since_readable_s: float | None = None,
    ) -> None:
        """An arrival entered the outbox: it was first read `since_first_read_s` (video time) before
        the frame that decided it, whose processing began at `frame_started` (this clock), and
        first read confidently `since_readable_s` before it (None: same as the first read)."""
        readable = since_first_read_s if since_readable_s is None else since_readable_s
        with self._lock:
            self._awaiting[event_id] = (frame_started - since_first_read_s, frame_started - readable)

    def arrival_delivered(self, key: str) -> float | None:
        """The broker acknowledged an outbox row (`OutboxItem.key`); the arrival's latency in ms, or
        None for a row of an earlier run or a correction (whose key is not a bare event id)."""
        now = self._clock()
        with self._lock:
            starts = self._awaiting.pop(key, None)
            if starts is None:
                return None
            start, readable = starts
            ms = (now - start) * 1000.0
            self.readable_latencies_ms.append((now - readable) * 1000.0)
            self._latencies.append(ms)
            self.latencies_ms.append(ms)
            self.latency_count += 1
            self.latency_total_s += ms / 1000.0
        return ms

    def take_window(self) -> Window:
        """The figures since the previous call (or since start), and start a new interval."""
        now = self._clock()
        with self._lock:
            seconds = max(now - self._window_start, 1e-9)
            window = Window(
                seconds=seconds,
                frames=self._frames,
                frames_gated=self._gated,
                fps=self._frames / seconds,
                mean_frame_ms=self._busy_s * 1000.0 / self._frames if self._frames else 0.0,
                arrivals=len(self._latencies),
                mean_latency_ms=sum(self._latencies) / len(self._latencies) if self._latencies else None,
            )
            self._window_start = now
            self._frames = self._gated = 0
            self._busy_s = 0.0
            self._latencies = []
        return window
