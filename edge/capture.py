"""Frames from a gate camera or a recorded clip, with timestamps the rest of the edge can trust.

Files are paced at their own frame rate when `realtime` is set, so a recorded clip behaves like a
camera: late frames are dropped rather than queued, and each frame's `captured_at` is the start
time plus its presentation time. Live sources (RTSP, HTTP, USB) are read by a background thread
that keeps only the newest frame, so a slow reader sees fresh frames instead of a growing backlog.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

import cv2
import numpy as np

from dealergate.contract import now_local

log = logging.getLogger(__name__)

_LIVE_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")
_MAX_CORRUPT_IN_A_ROW = 50
"""A file that fails this many reads in a row has ended (or is unreadable from here on)."""
_RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0)


class SourceError(RuntimeError):
    """The source cannot be opened; the message names the path or URL."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame: BGR pixels, when it was captured, and its time since the source opened."""

    index: int
    image: np.ndarray
    captured_at: datetime
    pts_s: float


@dataclass
class CaptureStats:
    """Counters the runner reports at exit."""

    frames: int = 0
    skipped_late: int = 0
    corrupt: int = 0
    reconnects: int = 0


def is_live(source: str) -> bool:
    """True for network streams and USB indexes, False for files."""
    return source.strip().isdigit() or source.lower().startswith(_LIVE_PREFIXES)


def _redact(source: str) -> str:
    """The URL without its password, for logs and error messages."""
    if "://" in source and "@" in source:
        scheme, rest = source.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return source


def _open_capture(source: str) -> cv2.VideoCapture:
    src: int | str = int(source) if source.strip().isdigit() else source
    cap = cv2.VideoCapture(src)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"无法打开视频源 / cannot open video source: {_redact(source)}")
    return cap


class VideoSource:
    """Iterator of `Frame`s; use as a context manager so the capture is released."""

    def __init__(
        self,
        source: str,
        realtime: bool = True,
        loop: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.live = is_live(source)
        self.realtime = realtime
        self.loop = loop
        self.stats = CaptureStats()
        self._stop = stop or threading.Event()  # the caller's: never set here
        self._closed = threading.Event()
        self._grabber: threading.Thread | None = None
        if not self.live and not Path(source).is_file():
            raise SourceError(f"找不到视频文件 / video file not found: {source}")
        self._cap = _open_capture(source)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1.0 <= fps <= 240.0 else 25.0
        self._frames = self._live_frames() if self.live else self._file_frames()

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        return next(self._frames)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop iterating and release the capture (a live grabber releases it on its way out)."""
        self._closed.set()
        self._frames.close()
        if not self.live or self._grabber is None:
            self._cap.release()

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._closed.is_set()

    def _wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True as soon as the edge stops or the source is closed."""
        deadline = time.monotonic() + seconds
        while not self._stopping():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._stop.wait(min(left, 0.1))
        return True

    # -- files ---------------------------------------------------------------------------------

    def _file_frames(self) -> Generator[Frame, None, None]:
        started_at = now_local()
        t0 = time.monotonic()
        period = 1.0 / self.fps
        offset_s = 0.0  # presentation time of the current pass's first frame when looping
        index = 0
        while not self._stopping():
            in_a_row = 0
            position = 0  # frame number within this pass
            while not self._stopping():
                pts_s = offset_s + position * period
                if self.realtime:
                    ahead = t0 + pts_s - time.monotonic()
                    if ahead > 0:
                        if self._wait(ahead):
                            return
                    elif -ahead > period:  # already a frame late: drop it without converting it
                        if not self._cap.grab():
                            break
                        position += 1
                        self.stats.skipped_late += 1
                        continue
                ok, image = self._cap.read()
                if not ok or image is None or image.size == 0:
                    if self._at_end(position):
                        break
                    in_a_row += 1
                    self.stats.corrupt += 1
                    if in_a_row >= _MAX_CORRUPT_IN_A_ROW:
                        log.warning("giving up on %s after %d unreadable frames", self.source, in_a_row)
                        break
                    position += 1
                    continue
                in_a_row = 0
                self.stats.frames += 1
                yield Frame(index, image, started_at + timedelta(seconds=pts_s), pts_s)
                index += 1
                position += 1
            if not self.loop or position == 0 or self.stats.frames == 0:
                return
            offset_s += position * period
            self._cap.release()  # reopening rewinds every container, seeking to 0 does not
            self._cap = _open_capture(self.source)

    def _at_end(self, position: int) -> bool:
        total = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        return total <= 0 or position >= total - 1

    # -- live streams --------------------------------------------------------------------------

    def _live_frames(self) -> Generator[Frame, None, None]:
        latest: list[tuple[np.ndarray, datetime, float] | None] = [None]
        fresh = threading.Condition()
        t0 = time.monotonic()

        def grab_forever() -> None:
            failures = 0
            while not self._stopping():
                ok, image = self._cap.read()
                if ok and image is not None and image.size:
                    failures = 0
                    with fresh:
                        latest[0] = (image, now_local(), time.monotonic() - t0)
                        fresh.notify()
                    continue
                failures += 1
                self.stats.corrupt += 1
                if failures >= 10:
                    self._reconnect()
                    failures = 0
            self._cap.release()

        grabber = self._grabber = threading.Thread(target=grab_forever, name="edge-capture", daemon=True)
        grabber.start()
        index = 0
        try:
            while not self._stopping():
                with fresh:
                    while latest[0] is None and not self._stopping():
                        fresh.wait(0.2)
                    item, latest[0] = latest[0], None
                if item is None:
                    continue
                image, captured_at, pts_s = item
                self.stats.frames += 1
                yield Frame(index, image, captured_at, pts_s)
                index += 1
        finally:
            self._closed.set()
            grabber.join(timeout=2.0)

    def _reconnect(self) -> None:
        """Reopen a dropped stream with growing back-off until it answers or the edge stops."""
        self._cap.release()
        for attempt in itertools.count():
            delay = _RECONNECT_DELAYS_S[min(attempt, len(_RECONNECT_DELAYS_S) - 1)]
            log.warning("video source lost, reconnecting in %.1fs: %s", delay, _redact(self.source))
            if self._wait(delay):
                return
            try:
                self._cap = _open_capture(self.source)
            except SourceError:
                continue
            self.stats.reconnects += 1
            return


def open_source(
    source: str, realtime: bool = True, loop: bool = False, stop: threading.Event | None = None
) -> VideoSource:
    """Open a file path, stream URL or USB index; raises `SourceError` naming it when it cannot.

    Setting `stop` ends the iteration (also interrupts pacing waits and reconnect back-off).
    """
    return VideoSource(source, realtime=realtime, loop=loop, stop=stop)
