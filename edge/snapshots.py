"""Snapshots kept on the edge for each arrival: the plate crop, a downscaled frame, retention.

Files live under `<root>/<camera>/<YYYY-MM-DD>/`: `<event_id>.jpg` is the plate crop (what the OCR
read) and `<event_id>.frame.jpg` the whole frame it was read on, downscaled to at most
`frame_max_width` pixels (`snapshot_frame_width`, 0 keeps no frame: less personal data at rest).
One folder per day, so retention (`purge_snapshots`) deletes whole days; `crop_ref` and
`frame_ref` in the event are those paths relative to the root, which `edge.snapshot_server`
serves to the server.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np

from dealergate.contract import ArrivalEvent

log = logging.getLogger(__name__)

INLINE_MAX_B64 = 20_000
"""Largest `crop_jpeg_b64` put in an event: screens show it at once, the broker stays light."""

FRAME_MAX_WIDTH = 1280
"""Default width limit of the kept frame (a 1080p camera's frame is halved)."""

_DAY_DIR = re.compile(r"\d{4}-\d{2}-\d{2}")


def _encode(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def inline_jpeg_b64(crop: np.ndarray, max_chars: int = INLINE_MAX_B64) -> str | None:
    """Base64 JPEG of the crop within `max_chars`: lower quality first, then smaller size."""
    image = crop
    for _ in range(6):
        for quality in (85, 70, 50):
            text = base64.b64encode(_encode(image, quality)).decode("ascii")
            if len(text) <= max_chars:
                return text
        h, w = image.shape[:2]
        if w < 32:
            break
        image = cv2.resize(image, (w * 2 // 3, max(1, h * 2 // 3)), interpolation=cv2.INTER_AREA)
    return None


def downscale(image: np.ndarray, max_width: int) -> np.ndarray:
    """`image` itself when it is at most `max_width` wide, else resized to that width (aspect kept)."""
    h, w = image.shape[:2]
    if w <= max_width:
        return image
    return cv2.resize(image, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name and rename, so a reader never sees half a JPEG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class SnapshotStore:
    """Writes arrival crops (and frames) under `root` and attaches their references to the event."""

    def __init__(
        self, root: Path | str, *, frame_max_width: int = FRAME_MAX_WIDTH, frame_quality: int = 80
    ) -> None:
        self.root = Path(root)
        self.frame_max_width = frame_max_width
        self.frame_quality = frame_quality

    def ref_for(self, event: ArrivalEvent) -> str:
        day = event.captured_at.date().isoformat()
        return f"{event.camera}/{day}/{event.event_id}.jpg"

    def frame_ref_for(self, event: ArrivalEvent) -> str:
        return self.ref_for(event).removesuffix(".jpg") + ".frame.jpg"

    def save(
        self, event: ArrivalEvent, crop: np.ndarray | None, frame: np.ndarray | None = None
    ) -> ArrivalEvent:
        """The event with `crop_ref` and `crop_jpeg_b64` set, and `frame_ref` when a frame is given and
        frames are kept (unchanged when there is neither). A correction (same `event_id`) overwrites
        the files of the earlier revision. Raises OSError / ValueError when the crop cannot be
        written; a frame that cannot be written only costs the frame.
        """
        update: dict[str, str | None] = {}
        if crop is not None and crop.size:
            ref = self.ref_for(event)
            _write_atomic(self.root / ref, _encode(crop, 92))
            update.update(crop_ref=ref, crop_jpeg_b64=inline_jpeg_b64(crop))
        if frame is not None and frame.size and self.frame_max_width > 0:
            ref = self.frame_ref_for(event)
            try:
                _write_atomic(
                    self.root / ref, _encode(downscale(frame, self.frame_max_width), self.frame_quality)
                )
                update["frame_ref"] = ref
            except (OSError, ValueError) as exc:
                log.warning("frame of %s not saved: %s", event.event_id, exc)
        return event.model_copy(update=update) if update else event


def purge_snapshots(root: Path | str, today: date, retention_days: int) -> list[Path]:
    """Delete the day folders `<root>/<camera>/<YYYY-MM-DD>` older than `retention_days` days
    before `today` (the folder of `today - retention_days` is kept); returns those deleted.

    Only real folders two levels down whose name is a date are touched: stray files, symbolic
    links and other names are left alone, and nothing outside `root` is ever deleted. A folder
    that cannot be deleted is logged and skipped.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    base = root.resolve()
    cutoff = today - timedelta(days=retention_days)
    deleted: list[Path] = []
    for camera in sorted(root.iterdir()):
        if camera.is_symlink() or not camera.is_dir():
            continue
        for day_dir in sorted(camera.iterdir()):
            if day_dir.is_symlink() or not day_dir.is_dir() or not _DAY_DIR.fullmatch(day_dir.name):
                continue
            try:
                day = date.fromisoformat(day_dir.name)
            except ValueError:
                continue
            if day >= cutoff:
                continue
            resolved = day_dir.resolve()
            if resolved.parent.parent != base:  # belt and braces: stays inside the root
                continue
            try:
                shutil.rmtree(resolved)
            except OSError as exc:
                log.warning("snapshot folder %s not deleted: %s", day_dir, exc)
                continue
            deleted.append(day_dir)
    if deleted:
        log.info("snapshot retention: %d day folder(s) older than %s deleted", len(deleted), cutoff)
    return deleted


class SnapshotRetention:
    """Applies `purge_snapshots` at start-up and once a day while the edge runs (own thread)."""

    def __init__(
        self,
        root: Path | str,
        retention_days: int,
        *,
        today: Callable[[], date] = date.today,
        check_s: float = 3600.0,
    ) -> None:
        self.root, self.retention_days = Path(root), retention_days
        self._today, self._check_s = today, check_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: date | None = None

    def run_once(self) -> list[Path]:
        """Purge now if it has not been done today (never raises)."""
        today = self._today()
        if today == self._last:
            return []
        self._last = today
        try:
            return purge_snapshots(self.root, today, self.retention_days)
        except OSError as exc:
            log.warning("snapshot retention failed: %s", exc)
            return []

    def start(self) -> None:
        """Purge once synchronously (start-up), then check hourly for a new day on a daemon thread."""
        self.run_once()
        self._thread = threading.Thread(target=self._loop, name="snapshot-retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._check_s):
            self.run_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
