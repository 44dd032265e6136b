"""Frames from a gate camera or a recorded clip, with timestamps the rest of the edge can trust.

Files are paced at their own frame rate when `realtime` is set, so a recorded clip behaves like a
camera: late frames are dropped rather than queued, and each frame's `captured_at` is the start
time plus its presentation time. Live sources (RTSP, HTTP, USB) are read by `edge.grabber`, which
keeps only the newest frame (a slow reader sees fresh frames instead of a growing backlog) and
reconnects by itself after a loss or a stall; a camera that is down when the edge starts is
waited for, not an error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

import cv2
import numpy as np

from dealergate.contract import SourceState, now_local
from edge.grabber import Capture, LiveGrabber, sleep_unless

log = logging.getLogger(__name__)

_LIVE_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")
_MAX_CORRUPT_IN_A_ROW = 50
"""A file that fails this many reads in a row has ended (or is unreadable from here on)."""


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
    stalls: int = 0


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


def open_capture(source: str, timeout_s: float = 10.0) -> cv2.VideoCapture:
    """A `cv2.VideoCapture` of a file, URL or USB index; raises `SourceError` naming it (no password).

    Network streams go through FFmpeg with open and read time-outs, so a camera that accepts the
    connection but sends nothing makes `read()` fail after `timeout_s` instead of blocking forever.
    """
    if source.strip().isdigit():
        cap = cv2.VideoCapture(int(source))
    elif is_live(source):
        ms = int(timeout_s * 1000)
        cap = cv2.VideoCapture(
            source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        )
    else:
        cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"无法打开视频源 / cannot open video source: {_redact(source)}")
    return cap


def _fps(cap: object) -> float:
    """The frame rate the capture reports, 25 when it reports none or nonsense."""
    get = getattr(cap, "get", None)
    fps = float(get(cv2.CAP_PROP_FPS)) if get is not None else 0.0
    return fps if 1.0 <= fps <= 240.0 else 25.0


Opener = Callable[[str], Capture]
"""Opens a live source by name (raising on failure): `open_capture`, or a stand-in in tests."""


class VideoSource:
    """Iterator of `Frame`s from a file path, stream URL or USB index; use as a context manager so
    the capture is released.

    A missing or unreadable file raises `SourceError` naming it; a live source that does not answer
    yet is retried in the background (`state` says "reconnecting"). Setting `stop` ends the
    iteration (also interrupts pacing waits and reconnect back-off). `opener` replaces
    `open_capture` for live sources (tests).
    """

    def __init__(
        self,
        source: str,
        realtime: bool = True,
        loop: bool = False,
        stop: threading.Event | None = None,
        *,
        stall_timeout_s: float = 10.0,
        reconnect_max_s: float = 30.0,
        opener: Opener | None = None,
    ) -> None:
        self.source = source
        self.live = is_live(source)
        self.realtime = realtime
        self.loop = loop
        self.stats = CaptureStats()
        self._stop = stop or threading.Event()  # the caller's: never set here
        self._closed = threading.Event()
        self._open: Opener = opener or (lambda name: open_capture(name, stall_timeout_s))
        self._grabber: LiveGrabber | None = None
        self._state: SourceState = "connected"
        if self.live:
            first: Capture | None = None
            try:
                first = self._open(source)
            except SourceError as exc:  # the camera may boot later than the edge box
                log.warning("%s; 持续重试 / retrying until it answers", exc)
            self.fps = _fps(first)
            self._grabber = LiveGrabber(
                _redact(source),
                lambda: self._open(source),
                self.stats,
                stall_timeout_s=stall_timeout_s,
                reconnect_max_s=reconnect_max_s,
                stop=self._stop,
                first=first,
            )
            self._frames = self._live_frames(self._grabber)
            return
        if not Path(source).is_file():
            raise SourceError(f"找不到视频文件 / video file not found: {source}")
        self._cap = open_capture(source)
        self.fps = _fps(self._cap)
        self._frames = self._file_frames()

    @property
    def state(self) -> SourceState:
        """connected, reconnecting, stalled (live streams) or ended (a file played to its end)."""
        return self._grabber.state if self._grabber is not None else self._state

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        return next(self._frames)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop iterating and release the capture (live readers release theirs on their way out)."""
        self._closed.set()
        self._frames.close()
        if self._grabber is not None:
            self._grabber.close()
        else:
            self._cap.release()

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._closed.is_set()


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
                        if sleep_unless(ahead, self._stop, self._closed):
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
                self._state = "ended"
                return
            offset_s += position * period
            self._cap.release()  # reopening rewinds every container, seeking to 0 does not
            self._cap = open_capture(self.source)

    def _at_end(self, position: int) -> bool:
        total = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        return total <= 0 or position >= total - 1

    # -- live streams --------------------------------------------------------------------------

    def _live_frames(self, grabber: LiveGrabber) -> Generator[Frame, None, None]:
        index = 0
        while not self._stopping():
            item = grabber.latest(timeout_s=0.2)
            if item is None:
                continue
            image, captured_at, pts_s = item
            self.stats.frames += 1
            yield Frame(index, image, captured_at, pts_s)
            index += 1


open_source = VideoSource
"""Open a file path, stream URL or USB index (see `VideoSource`)."""
