"""Live sources recover by themselves: a cut stream, a stalled stream, empty frames, a camera that
is down at start; and a slow reader always gets the newest frame."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from dealergate.broker import free_port
from edge.capture import SourceError, VideoSource, open_source
from edge.grabber import FAILED_READS_BEFORE_RECONNECT, backoff_s


class MjpegCamera:
    """An HTTP MJPEG camera on loopback (multipart/x-mixed-replace, as IP cameras serve it).

    Frame i is a flat grey image of brightness i % 250, so a reader can tell frames apart.
    `cut()` drops every connection and refuses new ones until `restore()`; `stall()` keeps the
    connection open but stops sending.
    """

    def __init__(self, fps: float = 25.0) -> None:
        self.port = free_port()
        self.period = 1.0 / fps
        self.sent = 0
        self.stalled = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.restore()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                server = self.server
                while camera._server is server:
                    if camera.stalled.is_set():
                        time.sleep(0.02)
                        continue
                    image = np.full((96, 128, 3), camera.sent % 250, np.uint8)
                    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
                    head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg)
                    try:
                        self.wfile.write(head + jpeg + b"\r\n")
                    except OSError:
                        return
                    camera.sent += 1
                    time.sleep(camera.period)

        return Handler

    def restore(self) -> None:
        self.stalled.clear()
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def cut(self) -> None:
        server, self._server = self._server, None  # streaming handlers notice and return
        if server is not None:
            server.shutdown()
            server.server_close()

    def stall(self) -> None:
        self.stalled.set()


@pytest.fixture()
def camera() -> Iterator[MjpegCamera]:
    cam = MjpegCamera()
    yield cam
    cam.cut()


def read_for(source: VideoSource, seconds: float) -> list[float]:
    """Brightness of each frame read during `seconds` (the source must keep delivering)."""
    got: list[float] = []
    deadline = time.monotonic() + seconds
    for frame in source:
        got.append(float(frame.image.mean()))
        if time.monotonic() > deadline:
            break
    return got


def wait_frames(source: VideoSource, n: int, timeout_s: float) -> int:
    """Read until `n` frames came; returns how many came before `timeout_s`."""
    got = 0
    deadline = time.monotonic() + timeout_s
    stop_at = threading.Timer(timeout_s, source.close)
    stop_at.start()
    try:
        for _ in source:
            got += 1
            if got >= n or time.monotonic() > deadline:
                break
    finally:
        stop_at.cancel()
    return got


def test_a_cut_http_stream_recovers_by_itself(camera: MjpegCamera) -> None:
    with open_source(camera.url, stall_timeout_s=2.0, reconnect_max_s=0.5) as source:
        assert len(read_for(source, 0.3)) >= 3
        camera.cut()
        time.sleep(1.0)  # the camera is gone for a second: connections refused
        assert source.state == "reconnecting"
        camera.restore()
        assert wait_frames(source, 10, timeout_s=8.0) == 10
        assert source.state == "connected"
        assert source.stats.reconnects >= 1


def test_a_stream_that_stops_sending_is_reopened(camera: MjpegCamera) -> None:
    """The connection stays open but no frame comes: the read time-out ends the wait and the
    stream is reopened, by itself, as soon as the camera sends again."""
    with open_source(camera.url, stall_timeout_s=1.0, reconnect_max_s=0.5) as source:
        assert len(read_for(source, 0.2)) >= 2
        camera.stall()
        deadline = time.monotonic() + 6.0
        while source.state == "connected":
            assert time.monotonic() < deadline, "the silent stream was never given up"
            time.sleep(0.05)
        camera.stalled.clear()
        assert wait_frames(source, 10, timeout_s=8.0) == 10
        assert source.state == "connected" and source.stats.reconnects >= 1


class FakeCapture:
    """A stand-in `cv2.VideoCapture` playing a script of reads: an int n yields frame n, None a
    failed read, "empty" an empty image, "hang" blocks until `unblock` is set (a driver stuck
    inside read() that lets go much later)."""

    def __init__(self, script: list[int | str | None]) -> None:
        self.script = list(script)
        self.released = threading.Event()
        self.unblock = threading.Event()

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.005)
        step = self.script.pop(0) if self.script else None
        if step == "hang":
            self.unblock.wait(30)
            return False, None
        if step == "empty":
            return True, np.zeros((0, 0, 3), np.uint8)
        if step is None:
            return False, None
        return True, np.full((8, 8, 3), step, np.int32)

    def release(self) -> None:
        self.released.set()


class Opener:
    """Hands out the prepared captures in order; a None entry fails like an unreachable camera."""

    def __init__(self, captures: list[FakeCapture | None]) -> None:
        self.captures = list(captures)
        self.calls = 0

    def __call__(self, name: str) -> FakeCapture:
        self.calls += 1
        cap = self.captures.pop(0) if self.captures else None
        if cap is None:
            raise SourceError(f"cannot open video source: {name}")
        return cap


def values(source: VideoSource, n: int, timeout_s: float = 10.0) -> list[int]:
    got: list[int] = []
    deadline = time.monotonic() + timeout_s
    for frame in source:
        got.append(int(frame.image[0, 0, 0]))
        if len(got) >= n or time.monotonic() > deadline:
            break
    return got


def test_a_stalled_reader_is_abandoned_and_a_new_one_reconnects() -> None:
    """A driver that blocks in read() (no time-out of its own) is left behind after the stall
    time-out; the new reader's frames flow, and the stuck one exits when the driver lets go."""
    stuck = FakeCapture([1, 2, 3, "hang"])
    fresh = FakeCapture(list(range(10, 200)))
    opener = Opener([stuck, fresh])
    source = open_source("rtsp://cam/1", stall_timeout_s=0.5, reconnect_max_s=0.2, opener=opener)
    with source:
        got = values(source, 8)
        assert got[:3] == [1, 2, 3] and got[-1] >= 10
        assert source.stats.stalls == 1 and source.stats.reconnects == 1
        assert source.state == "connected"
        assert not stuck.released.is_set()  # nobody releases a capture another thread is reading
        stuck.unblock.set()
        assert stuck.released.wait(5)  # the abandoned reader cleans up after itself
    assert fresh.released.wait(5)


def test_empty_and_failed_frames_are_counted_and_skipped_without_reconnecting() -> None:
    few_failures = [None] * (FAILED_READS_BEFORE_RECONNECT - 1)
    cap = FakeCapture([1, "empty", 2, *few_failures, 3, "empty", 4, *range(5, 100)])
    with open_source("rtsp://cam/1", opener=Opener([cap])) as source:
        got = values(source, 4)
    assert got[0] == 1 and got == sorted(got) and len(got) == 4
    assert source.stats.corrupt == 2 + len(few_failures)
    assert source.stats.reconnects == 0


def test_a_camera_down_at_start_is_retried_with_growing_back_off() -> None:
    cap = FakeCapture(list(range(1, 100)))
    opener = Opener([None, None, None, cap])  # refuses three times, then answers
    t0 = time.monotonic()
    with open_source("rtsp://cam/1", reconnect_max_s=0.4, opener=opener) as source:
        assert source.state == "reconnecting"
        assert values(source, 3) == [1, 2, 3]
    elapsed = time.monotonic() - t0
    assert opener.calls == 4
    assert 0.5 + 0.4 + 0.4 - 0.1 <= elapsed < 4.0  # waited 0.5 s, then the 0.4 s cap twice
    assert [backoff_s(i, 30.0) for i in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_a_slow_reader_gets_the_newest_frame_not_a_backlog() -> None:
    cap = FakeCapture(list(range(1, 2000)))  # ~200 frames a second
    with open_source("rtsp://cam/1", opener=Opener([cap])) as source:
        got = []
        for frame in source:
            got.append(int(frame.image[0, 0, 0]))
            if len(got) == 5:
                break
            time.sleep(0.1)  # a reader far slower than the camera
    gaps = [b - a for a, b in itertools.pairwise(got)]
    assert all(g >= 5 for g in gaps), got  # frames in between were dropped, newest kept
