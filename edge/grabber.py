"""Live camera streams: a grabber thread that keeps only the newest frame and never gives up.

A gate camera is a network device that reboots, drops off the network and sometimes keeps the
connection open while sending nothing. The grabber reads as fast as the camera delivers and keeps
only the newest frame, so the edge loop, however slow, always works on a fresh image (latest frame
wins: a growing backlog would delay every arrival). When the stream fails it is reopened with an
exponential back-off capped at `reconnect_max_s`, forever (a camera that boots after the edge box
must not turn into a crash loop). When no frame comes for `stall_timeout_s` while the stream is
supposedly open, the reader blocked inside the driver is abandoned (it releases its own capture
when the driver lets go) and a new one reconnects. An empty frame is counted and skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import numpy as np

from dealergate.contract import SourceState, now_local

log = logging.getLogger(__name__)

FAILED_READS_BEFORE_RECONNECT = 10
"""Consecutive failed reads that mean the stream is gone (one failure can be a dropped packet)."""
MAX_ABANDONED_READERS = 3
"""Readers stuck in the driver at once; beyond this no new one is started until one returns."""


class Capture(Protocol):
    """What the grabber needs of a `cv2.VideoCapture`."""

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


class GrabberStats(Protocol):
    """Counters the grabber updates (`edge.capture.CaptureStats`)."""

    corrupt: int
    reconnects: int
    stalls: int


def sleep_unless(seconds: float, *events: threading.Event) -> bool:
    """Sleep up to `seconds`; True as soon as any of `events` is set (stop, close)."""
    deadline = time.monotonic() + seconds
    while not any(e.is_set() for e in events):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        events[0].wait(min(left, 0.1))
    return True


def backoff_s(attempt: int, cap_s: float, first_s: float = 0.5) -> float:
    """Delay before reconnect attempt `attempt` (0-based): 0.5, 1, 2, 4 … seconds, at most `cap_s`."""
    return min(cap_s, first_s * 2.0 ** min(attempt, 30))


class LiveGrabber:
    """Reads a live stream on a background thread; `latest()` hands over the newest frame once."""

    def __init__(
        self,
        label: str,
        opener: Callable[[], Capture],
        stats: GrabberStats,
        *,
        stall_timeout_s: float,
        reconnect_max_s: float,
        stop: threading.Event,
        first: Capture | None = None,
    ) -> None:
        self.label = label  # the source as logs may show it (no password)
        self.opener = opener
        self.stats = stats
        self.stall_timeout_s = stall_timeout_s
        self.reconnect_max_s = reconnect_max_s
        self._stop = stop  # the edge's: never set here
        self._halt = threading.Event()  # set by close()
        self._fresh = threading.Condition()
        self._latest: tuple[np.ndarray, datetime, float] | None = None
        self._generation = 0
        self._progress_at = time.monotonic()  # last frame or (re)connection
        self._t0 = time.monotonic()
        self._threads: list[threading.Thread] = []
        self.state: SourceState = "connected" if first is not None else "reconnecting"
        self._spawn(first)

    # -- the reader threads ------------------------------------------------------------------------

    def _spawn(self, cap: Capture | None) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(
            target=self._read_forever, args=(self._generation, cap), name="edge-capture", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _current(self, generation: int) -> bool:
        return generation == self._generation and not self._stop.is_set() and not self._halt.is_set()


    def _read_forever(self, generation: int, cap: Capture | None) -> None:
        failures = 0  # failed reads in a row
        attempt = 0 if cap is not None else 1  # openings since the last good frame
        try:
            while self._current(generation):
                if cap is None:
                    cap, attempt = self._connect(generation, attempt)
                    if cap is None:
                        return
                ok, image = cap.read()
                if not self._current(generation):
                    return  # abandoned while blocked in read(), or stopping
                if ok and image is not None and image.size:
                    failures = attempt = 0
                    with self._fresh:
                        self._latest = (image, now_local(), time.monotonic() - self._t0)
                        self._progress_at = time.monotonic()
                        self.state = "connected"
                        self._fresh.notify_all()
                    continue
                failures += 1
                self.stats.corrupt += 1
                if failures >= FAILED_READS_BEFORE_RECONNECT:
                    log.warning("视频流中断 / video stream lost: %s", self.label)
                    cap.release()
                    cap, failures = None, 0
        finally:
            if cap is not None:
                cap.release()

    def _connect(self, generation: int, attempt: int) -> tuple[Capture | None, int]:
        """Open the stream, first waiting out the back-off earned by `attempt` openings without a
        frame; (None, _) when this reader should stop instead."""
        while True:
            if attempt:
                delay = backoff_s(attempt - 1, self.reconnect_max_s)
                if sleep_unless(delay, self._halt, self._stop) or not self._current(generation):
                    return None, attempt
            attempt += 1
            with self._fresh:
                if self._current(generation):
                    self.state = "reconnecting"
            try:
                cap = self.opener()
            except Exception as exc:  # noqa: BLE001 - any failure to open is retried
                delay = backoff_s(attempt - 1, self.reconnect_max_s)
                log.warning("视频源无法打开，%.1f 秒后重试 / %s; retrying in %.1fs", delay, exc, delay)
                continue
            if not self._current(generation):
                cap.release()
                return None, attempt
            with self._fresh:
                self.stats.reconnects += 1
                self._progress_at = time.monotonic()
                self.state = "connected"
            log.info("视频源已连接 / video source connected: %s", self.label)
            return cap, attempt

    # -- the consumer side --------------------------------------------------------------------------

    def latest(self, timeout_s: float) -> tuple[np.ndarray, datetime, float] | None:
        """The newest frame not handed out yet (image, capture time, seconds since start), waiting up
        to `timeout_s`; None when none came. Also the stall watchdog: call it regularly."""
        with self._fresh:
            if self._latest is None:
                self._fresh.wait(timeout_s)
            item, self._latest = self._latest, None
            stalled = (
                item is None
                and self.state == "connected"
                and time.monotonic() - self._progress_at > self.stall_timeout_s
            )
        if stalled:
            self._restart_stalled()
        return item

    def _restart_stalled(self) -> None:
        alive = [t for t in self._threads if t.is_alive()]
        if len(alive) > MAX_ABANDONED_READERS:
            return  # the driver holds too many readers already; wait for one to come back
        log.warning(
            "视频流停滞 %.1f 秒，重新连接 / no frame for %.1fs, reconnecting: %s",
            self.stall_timeout_s,
            self.stall_timeout_s,
            self.label,
        )
        with self._fresh:
            self.stats.stalls += 1
            self.state = "stalled"
            self._generation += 1
            self._progress_at = time.monotonic()
        self._spawn(None)

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop reading; waits briefly for the readers (a stuck one is left to finish alone)."""
        self._halt.set()
        with self._fresh:
            self._fresh.notify_all()
        for thread in self._threads:
            thread.join(timeout=timeout_s)

    @property
    def readers_alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)
