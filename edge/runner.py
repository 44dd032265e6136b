"""The edge loop: capture → read → track → snapshot → publish, until the clip ends or `stop` is set.

Real time is kept by the capture side (late file frames are dropped, live streams hand over only
their newest frame), so the loop simply processes whatever frame comes next; the OCR only runs on
frames where the detector found a plate candidate.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from edge.arrivals import Arrival, ArrivalTracker
from edge.capture import SourceError, open_source
from edge.config import EdgeSettings
from edge.publish import MqttPublisher
from edge.reader import PlateReader
from edge.snapshots import SnapshotStore

log = logging.getLogger("edge")

FLUSH_TIMEOUT_S = 10.0
"""How long the edge waits at exit for the broker to acknowledge the last arrivals."""


@dataclass
class EdgeStats:
    """What one run did, for the exit log line and the tests."""

    frames: int = 0
    frames_with_reads: int = 0
    frames_skipped_late: int = 0
    frames_corrupt: int = 0
    reads: int = 0
    arrivals: int = 0
    suppressed: int = 0
    unacknowledged: int = 0
    seconds: float = 0.0
    mean_frame_ms: float = 0.0


def run_edge(
    settings: EdgeSettings,
    stop: threading.Event | None = None,
    *,
    reader: PlateReader | None = None,
    publisher: MqttPublisher | None = None,
) -> EdgeStats:
    """Run until the file ends (unless looping) or `stop` is set; flushes pending publishes on exit.

    `reader` and `publisher` default to the configured ones (tests pass their own). Raises
    `SourceError` when the source cannot be opened and FileNotFoundError for a missing model.
    """
    stop = stop or threading.Event()
    if not settings.source.strip():
        raise SourceError("未配置视频源 / no video source: set DEALERGATE_EDGE_SOURCE or --source")
    reader = reader or PlateReader.from_settings(settings)
    tracker = ArrivalTracker.from_settings(settings)
    snapshots = SnapshotStore(settings.snapshot_root)
    publisher = publisher or MqttPublisher(settings.mqtt_url, settings.client_id)
    frames = open_source(settings.source, realtime=settings.realtime, loop=settings.loop, stop=stop)
    stats = EdgeStats()
    started = time.monotonic()
    busy_s = 0.0
    publisher.start()
    log.info(
        "edge start site=%s camera=%s source=%s detector=%s broker=%s:%d",
        settings.site,
        settings.camera,
        settings.source,
        settings.detector,
        publisher.address.host,
        publisher.address.port,
    )

    def deliver(arrivals: list[Arrival], received: float) -> None:
        """Snapshot and publish; `received` is when (perf_counter) the deciding frame arrived."""
        for arrival in arrivals:
            event = arrival.event
            try:
                event = snapshots.save(event, arrival.crop)
            except (OSError, ValueError) as exc:  # a full disk must not cost the arrival itself
                log.warning("snapshot of %s not saved: %s", event.event_id, exc)
            publisher.publish(event)
            stats.arrivals += 1
            # first sighting → decision in video time, then decision → publish in wall time:
            # meaningful for live cameras and for files played fast (realtime=False) alike
            voting_s = (arrival.decided_at - event.captured_at).total_seconds()
            latency_ms = (voting_s + time.perf_counter() - received) * 1000.0
            log.info(
                "arrival plate=%s conf=%.3f type=%s color=%s latency_ms=%.0f event_id=%s",
                event.plate,
                event.confidence,
                event.plate_type.value,
                event.plate_color.value,
                latency_ms,
                event.event_id,
            )

    try:
        with frames:
            for frame in frames:
                if stop.is_set():
                    break
                t0 = time.perf_counter()
                results = reader.read_frame(frame.image)
                stats.frames += 1
                stats.frames_with_reads += bool(results)
                stats.reads += len(results)
                deliver(tracker.update(frame.captured_at, results), t0)
                busy_s += time.perf_counter() - t0
            stats.frames_skipped_late = frames.stats.skipped_late
            stats.frames_corrupt = frames.stats.corrupt
        deliver(tracker.finish(), time.perf_counter())
    finally:
        if not publisher.flush(FLUSH_TIMEOUT_S):
            stats.unacknowledged = publisher.pending
        publisher.close()
        stats.suppressed = tracker.suppressed
        stats.seconds = time.monotonic() - started
        stats.mean_frame_ms = busy_s * 1000.0 / stats.frames if stats.frames else 0.0
        log.info(
            "edge stop frames=%d skipped_late=%d corrupt=%d reads=%d arrivals=%d suppressed=%d "
            "unacknowledged=%d mean_frame_ms=%.1f seconds=%.1f",
            stats.frames,
            stats.frames_skipped_late,
            stats.frames_corrupt,
            stats.reads,
            stats.arrivals,
            stats.suppressed,
            stats.unacknowledged,
            stats.mean_frame_ms,
            stats.seconds,
        )
    return stats
