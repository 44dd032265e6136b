"""Frame capture from files: timestamps, pacing, looping, corrupt frames and clear errors."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.capture import SourceError, is_live, open_source

FPS = 25


def write_clip(
    path: Path, frames: int = 20, fourcc: str = "mp4v", size: tuple[int, int] = (160, 120)
) -> Path:
    """A clip whose frame i has brightness ~ 10 * i (mod 250) and its number drawn on it."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, size)
    assert writer.isOpened()
    for i in range(frames):
        img = np.full((size[1], size[0], 3), (i * 10) % 250, np.uint8)
        cv2.putText(img, str(i), (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        writer.write(img)
    writer.release()
    return path


def test_reads_every_frame_with_consistent_times(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4")
    with open_source(str(clip), realtime=False) as source:
        frames = list(source)
    assert len(frames) == 20
    assert [f.index for f in frames] == list(range(20))
    assert frames[0].image.shape == (120, 160, 3)
    assert frames[0].captured_at.tzinfo is not None
    for a, b in itertools.pairwise(frames):
        assert b.pts_s - a.pts_s == pytest.approx(1 / FPS)
        assert (b.captured_at - a.captured_at).total_seconds() == pytest.approx(1 / FPS, abs=1e-5)
    assert (frames[-1].captured_at - frames[0].captured_at).total_seconds() == pytest.approx(frames[-1].pts_s)
    assert frames[5].image.mean() < frames[15].image.mean()  # in order
    assert source.stats.frames == 20 and source.stats.corrupt == 0


def test_realtime_paces_playback_and_drops_late_frames(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=25)  # one second of video
    t0 = time.monotonic()
    with open_source(str(clip), realtime=True) as source:
        got = []
        for frame in source:
            got.append(frame.index)
            if len(got) % 5 == 0:
                time.sleep(0.12)  # a slow reader: three frames' worth
    elapsed = time.monotonic() - t0
    assert 0.85 <= elapsed < 1.6  # the clip's own duration, not the reader's
    assert source.stats.skipped_late > 0
    assert source.stats.frames + source.stats.skipped_late == 25


def test_loop_replays_with_growing_timestamps(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=10)
    with open_source(str(clip), realtime=False, loop=True) as source:
        frames = [f for f, _ in zip(source, range(25), strict=False)]
    assert len(frames) == 25
    pts = [f.pts_s for f in frames]
    assert pts == sorted(pts) and pts[-1] == pytest.approx(24 / FPS)


def test_stop_event_ends_iteration(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", frames=50)
    stop = threading.Event()
    with open_source(str(clip), realtime=True, stop=stop) as source:
        n = 0
        for _ in source:
            n += 1
            if n == 3:
                stop.set()
    assert n == 3
    assert stop.is_set()


def test_corrupt_frames_are_skipped_and_counted(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.avi", frames=20, fourcc="MJPG")
    data = bytearray(clip.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    assert len(starts) == 20  # one JPEG per frame
    data[starts[10] + 2 : starts[10] + 400] = bytes(398)  # wipe frame 10's JPEG header
    clip.write_bytes(bytes(data))
    with open_source(str(clip), realtime=False) as source:
        frames = list(source)
    assert len(frames) == 19
    assert source.stats.corrupt == 1
    assert frames[-1].pts_s == pytest.approx(19 / FPS)  # time still follows the file


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SourceError, match="nope.mp4"):
        open_source(str(missing))


def test_unreadable_file_and_stream_are_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(SourceError, match="junk.mp4"):
        open_source(str(junk))


def test_a_camera_that_does_not_answer_yet_is_waited_for(caplog: pytest.LogCaptureFixture) -> None:
    """A camera that boots after the edge box is retried in the background, never a crash loop;
    logs name it without its password."""
    with caplog.at_level(logging.WARNING), open_source("rtsp://admin:secret@127.0.0.1:9/stream") as source:
        assert source.state == "reconnecting"  # nothing listens on port 9
    assert "rtsp://admin:***@127.0.0.1:9/stream" in caplog.text and "secret" not in caplog.text


def test_live_source_kinds() -> None:
    assert is_live("0") and is_live("rtsp://cam/1") and is_live("http://cam/video.mjpg")
    assert not is_live("/var/clips/gate.mp4") and not is_live("gate.mp4")


def test_live_sources_are_read_by_a_thread_that_reconnects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file opened as if it were a stream: a grabber thread reads it, the end of the "stream"
    counts as a lost connection and is reopened, and closing the source stops the thread."""
    clip = write_clip(tmp_path / "clip.mp4", frames=20)
    monkeypatch.setattr("edge.capture.is_live", lambda source: True)
    source = open_source(str(clip), realtime=True)
    seen: list[float] = []
    deadline = time.monotonic() + 10
    with source:
        for frame in source:
            seen.append(frame.pts_s)
            assert frame.captured_at.tzinfo is not None
            if source.stats.reconnects >= 1 and len(seen) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    assert source.stats.reconnects >= 1
    assert seen == sorted(seen)
    assert source._grabber is not None and source._grabber.readers_alive == 0
