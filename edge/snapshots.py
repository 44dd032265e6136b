"""Plate crops kept on the edge for each arrival, and the small inline copy sent with the event.

Only the plate crop is kept, never the whole frame (less personal data at rest). Files live under
`<root>/<camera>/<YYYY-MM-DD>/<event_id>.jpg`, one folder per day so a retention job can delete
whole days; `crop_ref` in the event is that path relative to the root.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import cv2
import numpy as np

from dealergate.contract import ArrivalEvent

INLINE_MAX_B64 = 20_000
"""Largest `crop_jpeg_b64` put in an event: screens show it at once, the broker stays light."""


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


class SnapshotStore:
    """Writes arrival crops under `root` and attaches their reference to the event."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def ref_for(self, event: ArrivalEvent) -> str:
        day = event.captured_at.date().isoformat()
        return f"{event.camera}/{day}/{event.event_id}.jpg"

    def save(self, event: ArrivalEvent, crop: np.ndarray | None) -> ArrivalEvent:
        """The event with `crop_ref` and `crop_jpeg_b64` set (unchanged when there is no crop).

        The file is written to a temporary name and renamed, so a reader never sees half a JPEG.
        """
        if crop is None or crop.size == 0:
            return event
        ref = self.ref_for(event)
        path = self.root / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".jpg.tmp")
        tmp.write_bytes(_encode(crop, 92))
        os.replace(tmp, path)
        return event.model_copy(update={"crop_ref": ref, "crop_jpeg_b64": inline_jpeg_b64(crop)})
