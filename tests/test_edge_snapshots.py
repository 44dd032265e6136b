"""Snapshots on the edge: crop and downscaled frame per arrival, day-folder retention, the read-only endpoint."""

from __future__ import annotations

import http.client
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import SecretStr

from dealergate.contract import ArrivalEvent
from edge.config import EdgeSettings
from edge.runner import _start_snapshot_server
from edge.snapshot_server import SnapshotServer, resolve_ref
from edge.snapshots import SnapshotRetention, SnapshotStore, purge_snapshots

TZ = timezone(timedelta(hours=8))


def _event() -> ArrivalEvent:
    return ArrivalEvent(
        site="demo",
        camera="gate-1",
        plate="京A12345",
        confidence=0.9,
        captured_at=datetime(2026, 3, 1, 9, 0, tzinfo=TZ),
    )


def _images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    return frame[500:548, 800:950].copy(), frame


def test_crop_and_downscaled_frame_are_kept_and_referenced(tmp_path: Path) -> None:
    crop, frame = _images()
    sent = _event()
    saved = SnapshotStore(tmp_path, frame_max_width=1280, frame_quality=70).save(sent, crop, frame)
    assert saved.crop_ref == f"gate-1/2026-03-01/{sent.event_id}.jpg"
    assert saved.frame_ref == f"gate-1/2026-03-01/{sent.event_id}.frame.jpg"
    kept = cv2.imread(str(tmp_path / saved.frame_ref))
    assert kept is not None and kept.shape == (720, 1280, 3)
    assert cv2.imread(str(tmp_path / saved.crop_ref)).shape == crop.shape
    assert not list(tmp_path.rglob("*.tmp"))
    again = ArrivalEvent.from_payload(saved.to_payload())  # a valid wire event, refs included
    assert again.frame_ref == saved.frame_ref
    small = np.zeros((480, 640, 3), np.uint8)  # already small enough: kept as it is
    assert (
        cv2.imread(str(tmp_path / SnapshotStore(tmp_path).save(sent, crop, small).frame_ref)).shape
        == small.shape
    )


def test_frames_can_be_turned_off(tmp_path: Path) -> None:
    crop, frame = _images()
    saved = SnapshotStore(tmp_path, frame_max_width=0).save(_event(), crop, frame)
    assert saved.crop_ref and saved.frame_ref is None
    assert [p.name for p in tmp_path.rglob("*.jpg")] == [Path(saved.crop_ref).name]
    assert "frame_ref" not in saved.to_payload().decode()  # the wire stays as before


def _tree(root: Path) -> None:
    for cam in ("gate-1", "gate-2"):
        for day in ("2026-01-01", "2026-01-30", "2026-01-31", "2026-02-15"):
            (root / cam / day).mkdir(parents=True)
            (root / cam / day / "x.jpg").write_bytes(b"jpg")
    (root / "stray.txt").write_text("stray", encoding="utf-8")
    (root / "gate-1" / "2025-12-31").write_text("a file named like a day", encoding="utf-8")
    (root / "gate-1" / "notes").mkdir()
    (root / "gate-1" / "2025-13-45").mkdir()  # not a date


def test_purge_deletes_only_old_day_folders(tmp_path: Path) -> None:
    root = tmp_path / "snaps"
    _tree(root)
    outside = tmp_path / "outside" / "2020-01-01"
    outside.mkdir(parents=True)
    (outside / "keep.jpg").write_bytes(b"jpg")
    os.symlink(outside, root / "gate-2" / "2020-01-01")  # a link out of the root is never followed
    os.symlink(tmp_path / "outside", root / "linked-camera")
    deleted = purge_snapshots(root, date(2026, 3, 1), 30)  # cut-off 2026-01-30: that day is kept
    assert sorted(p.relative_to(root).as_posix() for p in deleted) == [
        "gate-1/2026-01-01",
        "gate-2/2026-01-01",
    ]
    assert (outside / "keep.jpg").is_file()
    for cam in ("gate-1", "gate-2"):
        assert sorted(p.name for p in (root / cam).iterdir() if p.name.startswith("2026")) == [
            "2026-01-30",
            "2026-01-31",
            "2026-02-15",
        ]
    assert (root / "stray.txt").is_file() and (root / "gate-1" / "2025-12-31").is_file()
    assert (root / "gate-1" / "notes").is_dir() and (root / "gate-1" / "2025-13-45").is_dir()
    assert purge_snapshots(root, date(2026, 3, 1), 30) == []
    assert purge_snapshots(tmp_path / "missing", date(2026, 3, 1), 30) == []
    assert purge_snapshots(root / "stray.txt", date(2026, 3, 1), 30) == []


def test_retention_runs_at_start_and_once_per_new_day(tmp_path: Path) -> None:
    _tree(tmp_path)
    today = [date(2026, 2, 1)]
    retention = SnapshotRetention(tmp_path, 30, today=lambda: today[0], check_s=3600)
    retention.start()
    try:
        assert not (tmp_path / "gate-1" / "2026-01-01").exists()  # purged at start-up
        assert retention.run_once() == []  # same day: nothing to do
        today[0] = date(2026, 3, 3)  # cut-off 2026-02-01
        assert len(retention.run_once()) == 4  # the 30th and 31st of January, both cameras
    finally:
        retention.stop()


# -- the endpoint ---------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path):
    root = tmp_path / "snaps"
    (root / "gate-1" / "2026-03-01").mkdir(parents=True)
    (root / "gate-1" / "2026-03-01" / "e1.jpg").write_bytes(b"\xff\xd8crop\xff\xd9")
    (root / "gate-1" / "2026-03-01" / "e1.jpg.tmp").write_bytes(b"half")
    (tmp_path / "secret.jpg").write_bytes(b"outside")
    os.symlink(tmp_path / "secret.jpg", root / "gate-1" / "link.jpg")
    server = SnapshotServer(root, 0, "127.0.0.1", token="s3cret")
    server.start()
    yield server
    server.stop()


def get(server: SnapshotServer, path: str, token: str | None = "s3cret") -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("Content-Type") or ""
    finally:
        conn.close()


def test_serves_a_kept_snapshot(served: SnapshotServer) -> None:
    status, body, ctype = get(served, "/snapshots/gate-1/2026-03-01/e1.jpg")
    assert (status, body, ctype) == (200, b"\xff\xd8crop\xff\xd9", "image/jpeg")
    assert get(served, "/snapshots/gate-1%2F2026-03-01%2Fe1.jpg?x=1")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/snapshots/../secret.jpg",
        "/snapshots/gate-1/../../secret.jpg",
        "/snapshots/%2e%2e/secret.jpg",
        "/snapshots/gate-1/2026-03-01/..%2f..%2f..%2fsecret.jpg",
        "/snapshots//etc/passwd",
        "/snapshots/%2Fetc%2Fpasswd",
        "/snapshots/gate-1/link.jpg",  # a link pointing out of the root
        "/snapshots/gate-1/2026-03-01/e1.jpg.tmp",  # not a finished JPEG
        "/snapshots/gate-1/2026-03-01/",
        "/snapshots/",
        "/etc/passwd",
        "/snapshots/gate-1/2026-03-01/missing.jpg",
    ],
)
def test_refuses_paths_outside_and_missing_files(served: SnapshotServer, path: str) -> None:
    status, body, _ = get(served, path)
    assert status == 404 and b"outside" not in body


def test_wrong_or_missing_token_is_401(served: SnapshotServer) -> None:
    for token in ("wrong", None):
        assert get(served, "/snapshots/gate-1/2026-03-01/e1.jpg", token)[0] == 401
    assert get(served, "/snapshots/../secret.jpg", "wrong")[0] == 401  # checked before the path


def test_resolve_ref(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.jpg").write_bytes(b"x")
    assert resolve_ref(tmp_path, "a/b.jpg") == (tmp_path / "a" / "b.jpg").resolve()
    for bad in ("", "/a/b.jpg", "a\\b.jpg", "a/../a/../../b.jpg", "a/b.jpg\x00", "a", "a/c.jpg"):
        assert resolve_ref(tmp_path, bad) is None


def test_edge_starts_the_endpoint_only_when_configured(tmp_path: Path) -> None:
    assert _start_snapshot_server(EdgeSettings(snapshot_dir=tmp_path)) is None
    (tmp_path / "gate-1").mkdir()
    (tmp_path / "gate-1" / "e.jpg").write_bytes(b"jpg")
    from dealergate.broker import free_port

    s = EdgeSettings(snapshot_dir=tmp_path, snapshot_port=free_port(), snapshot_token=SecretStr("tok"))
    server = _start_snapshot_server(s)
    assert server is not None
    try:
        assert get(server, "/snapshots/gate-1/e.jpg", "tok")[:2] == (200, b"jpg")
        assert get(server, "/snapshots/gate-1/e.jpg", None)[0] == 401
    finally:
        server.stop()
