"""The edge loop: capture → read → track → snapshot → outbox, until the clip ends or `stop` is set.

Real time is kept by the capture side (late file frames are dropped, live streams hand over only
their newest frame), so the loop simply processes whatever frame comes next; the OCR only runs on
frames where the detector found a plate candidate. A decided arrival is written to the on-disk
outbox and the loop moves on; the outbox courier publishes it (QoS 1) whenever the broker is
reachable, so neither a broker outage nor an edge restart loses a car. Alongside run the retained
online/offline status (with last will) and the heartbeat.

`run_cameras` runs several cameras of one config (`cameras:`) side by side, each in its own thread
with its own pipeline, outbox, MQTT connection, status and heartbeat; see its docstring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dealergate.contract import EdgeHeartbeat, now_local
from edge.arrivals import Arrival, ArrivalTracker
from edge.capture import SourceError, open_source
from edge.config import EdgeSettings
from edge.delivery import OutboxCourier
from edge.heartbeat import Heartbeat
from edge.metrics import EdgeReadings, MetricsServer
from edge.motion import MotionGate
from edge.outbox import Outbox
from edge.presence import Presence
from edge.publish import MqttPublisher
from edge.reader import PlateReader
from edge.snapshot_server import SnapshotServer
from edge.snapshots import SnapshotRetention, SnapshotStore
from edge.telemetry import Telemetry

log = logging.getLogger("edge")

FLUSH_TIMEOUT_S = 10.0
"""How long the edge waits at exit for the broker to acknowledge the last arrivals."""


@dataclass
class EdgeStats:
    """What one run did, for the exit log line and the tests."""

    frames: int = 0
    frames_with_reads: int = 0
    frames_gated: int = 0
    """Frames not read because nothing moved in the gate area."""
    frames_skipped_late: int = 0
    frames_corrupt: int = 0
    reads: int = 0
    arrivals: int = 0
    """First publications of cars driving in (revision 0)."""
    departures: int = 0
    """First publications of cars driving out across the gate line."""
    updates: int = 0
    """Corrections of an event already published (revision ≥ 1)."""
    suppressed: int = 0
    delivered: int = 0
    """Arrivals acknowledged by the broker during this run (earlier runs' leftovers included)."""
    unacknowledged: int = 0
    """Arrivals left in the outbox at exit: sent at the next start."""
    seconds: float = 0.0
    mean_frame_ms: float = 0.0
    arrival_latency_ms: list[float] = field(default_factory=list)
    """First read of the car → broker PUBACK, per arrival of this run, in delivery order."""
    readable_latency_ms: list[float] = field(default_factory=list)
    """First confident read of the car (the plate became readable) → broker PUBACK, likewise."""


def run_edge(
    settings: EdgeSettings,
    stop: threading.Event | None = None,
    *,
    reader: PlateReader | None = None,
    publisher: MqttPublisher | None = None,
    shared_services: bool = True,
) -> EdgeStats:
    """Run until the file ends (unless looping) or `stop` is set; drains the outbox on exit.

    `reader` and `publisher` default to the configured ones (tests pass their own; a publisher
    passed in must not be started yet). Raises `SourceError` when no source is set or a file source
    is missing or unreadable (a live camera that does not answer is waited for) and
    FileNotFoundError for a missing model. `shared_services=False` leaves the snapshot purge and
    endpoint to the caller (`run_cameras` runs them once for all cameras).
    """
    stop = stop or threading.Event()
    if not settings.source.strip():
        raise SourceError("未配置视频源 / no video source: set DEALERGATE_EDGE_SOURCE or --source")
    reader = reader or PlateReader.from_settings(settings)
    tracker = ArrivalTracker.from_settings(settings)
    gate = MotionGate.from_settings(settings)
    snapshots = SnapshotStore(
        settings.snapshot_root,
        frame_max_width=settings.snapshot_frame_width,
        frame_quality=settings.snapshot_frame_quality,
    )
    frames = open_source(
        settings.source,
        realtime=settings.realtime,
        loop=settings.loop,
        stop=stop,
        stall_timeout_s=settings.stall_timeout_s,
        reconnect_max_s=settings.reconnect_max_s,
    )
    publisher = publisher or MqttPublisher(settings.mqtt_url, settings.client_id)
    try:
        outbox = Outbox(
            settings.outbox_file, max_rows=settings.outbox_max_rows, retention_s=settings.outbox_retention_s
        )
    except Exception:
        frames.close()  # a live source's reader thread must not outlive a failed start
        raise
    telemetry = Telemetry()
    courier = OutboxCourier(outbox, publisher, on_delivered=telemetry.arrival_delivered)
    presence = Presence(publisher, settings.site, settings.camera)
    stats = EdgeStats()
    started = time.monotonic()

    def beat() -> EdgeHeartbeat:
        window = telemetry.take_window()
        return EdgeHeartbeat(
            site=settings.site,
            camera=settings.camera,
            at=now_local(),
            uptime_s=time.monotonic() - started,
            fps=window.fps,
            mean_frame_ms=window.mean_frame_ms,
            frames_gated=window.frames_gated,
            arrivals=window.arrivals,
            arrival_latency_ms=window.mean_latency_ms,
            outbox_depth=outbox.depth,
            frames_dropped=frames.stats.skipped_late,
            frames_corrupt=frames.stats.corrupt,
            source_state=frames.state,
            reconnects=frames.stats.reconnects,
        )

    heartbeat = Heartbeat(publisher, settings.heartbeat_s, beat)
    metrics = _start_metrics(
        settings,
        EdgeReadings(
            site=settings.site,
            camera=settings.camera,
            telemetry=telemetry,
            source=frames,
            outbox_depth=lambda: outbox.depth,
            outbox_dropped=lambda: outbox.dropped,
            arrivals=lambda: stats.arrivals,
            delivered=lambda: courier.delivered,
            broker_connected=lambda: publisher.connected,
        ),
    )
    retention = SnapshotRetention(settings.snapshot_root, settings.snapshot_retention_days)
    snapshot_server = None
    if shared_services:
        retention.start()  # the start-up purge runs here, then once a day on its own thread
        snapshot_server = _start_snapshot_server(settings)
    publisher.start()
    courier.start()
    heartbeat.start()
    log.info(
        "edge start site=%s camera=%s source=%s detector=%s broker=%s:%d outbox=%s",
        settings.site,
        settings.camera,
        settings.source,
        settings.detector,
        publisher.address.host,
        publisher.address.port,
        outbox.path,
    )

    def store(arrivals: list[Arrival], at: datetime, frame_started: float) -> None:
        """Snapshot each arrival and put it in the outbox; `at` is the deciding frame's capture
        time and `frame_started` (perf_counter) when its processing began. Latency is measured
        for first publications only: a correction is not a new car."""
        for arrival in arrivals:
            event = arrival.event
            try:
                event = snapshots.save(event, arrival.crop, arrival.frame)
            except (OSError, ValueError) as exc:  # a full disk must not cost the arrival itself
                log.warning("snapshot of %s not saved: %s", event.event_id, exc)
            since_first_read_s = max(0.0, (at - event.captured_at).total_seconds())
            if event.revision == 0:
                readable = arrival.readable_at or event.captured_at
                since_readable_s = max(0.0, (at - readable).total_seconds())
                telemetry.arrival_stored(str(event.event_id), since_first_read_s, frame_started, since_readable_s)
            try:
                outbox.add(event)
                courier.wake()
            except Exception:  # no disk for the outbox: still try the broker directly
                log.exception("出站队列写入失败 / outbox write failed: publishing %s directly", event.event_id)
                publisher.publish(event)
            if event.revision:
                stats.updates += 1
            elif event.kind == "departure":
                stats.departures += 1
            else:
                stats.arrivals += 1
            latency_ms = (since_first_read_s + time.perf_counter() - frame_started) * 1000.0
            log.info(
                "%s plate=%s conf=%.3f type=%s color=%s revision=%d latency_ms=%.0f event_id=%s",
                event.kind,
                event.plate,
                event.confidence,
                event.plate_type.value,
                event.plate_color.value,
                event.revision,
                latency_ms,  # first readable frame → stored in the outbox (PUBACK follows)
                event.event_id,
            )

    try:
        with frames:
            last_at = now_local()
            for frame in frames:
                if stop.is_set():
                    break
                t0 = time.perf_counter()
                read = gate.should_read(frame.image, frame.pts_s)
                # idle check reads (nothing moved) skip the slow fallback detector: a car that
                # stands still was read while it moved
                results = reader.read_frame(frame.image, allow_fallback=gate.moving) if read else []
                stats.frames += 1
                stats.frames_gated += not read
                stats.frames_with_reads += bool(results)
                stats.reads += len(results)
                height, width = frame.image.shape[:2]
                decided = tracker.update(frame.captured_at, results, (width, height), frame.image)
                store(decided, frame.captured_at, t0)
                last_at = frame.captured_at
                telemetry.frame(time.perf_counter() - t0, gated=not read)
            stats.frames_skipped_late = frames.stats.skipped_late
            stats.frames_corrupt = frames.stats.corrupt
        store(tracker.finish(), last_at, time.perf_counter())
    finally:
        heartbeat.stop()
        if metrics is not None:
            metrics.stop()
        retention.stop()
        if snapshot_server is not None:
            snapshot_server.stop()
        if not courier.drain(FLUSH_TIMEOUT_S):
            log.warning(
                "%d 条到店事件留在出站队列，下次启动时发送 / %d arrival(s) stay in the outbox %s and are "
                "sent at the next start",
                outbox.depth,
                outbox.depth,
                outbox.path,
            )
        courier.stop()
        if presence.go_offline(timeout_s=2.0):
            publisher.flush(timeout_s=1.0)
        publisher.close()
        stats.delivered = courier.delivered
        stats.unacknowledged = outbox.depth
        outbox.close()
        stats.suppressed = tracker.suppressed
        stats.arrival_latency_ms = list(telemetry.latencies_ms)
        stats.readable_latency_ms = list(telemetry.readable_latencies_ms)
        stats.seconds = time.monotonic() - started
        stats.mean_frame_ms = telemetry.busy_total_s * 1000.0 / stats.frames if stats.frames else 0.0
        log.info(
            "edge stop camera=%s frames=%d gated=%d skipped_late=%d corrupt=%d reads=%d arrivals=%d departures=%d "
            "updates=%d suppressed=%d delivered=%d unacknowledged=%d mean_frame_ms=%.1f seconds=%.1f",
            settings.camera,
            stats.frames,
            stats.frames_gated,
            stats.frames_skipped_late,
            stats.frames_corrupt,
            stats.reads,
            stats.arrivals,
            stats.departures,
            stats.updates,
            stats.suppressed,
            stats.delivered,
            stats.unacknowledged,
            stats.mean_frame_ms,
            stats.seconds,
        )
    return stats


@dataclass
class CameraRun:
    """How one camera of `run_cameras` ended: its stats, or the error that stopped it."""

    camera: str
    stats: EdgeStats | None = None
    error: BaseException | None = None


def run_cameras(
    settings: EdgeSettings,
    stop: threading.Event | None = None,
    *,
    reader_for: Callable[[EdgeSettings], PlateReader] | None = None,
) -> list[CameraRun]:
    """Run every camera of `settings` (`EdgeSettings.camera_settings()`) until all have ended or
    `stop` is set; one `CameraRun` per camera, in config order.

    Each camera runs `run_edge` in a thread of its own with its own `PlateReader` (`reader_for`,
    default `PlateReader.from_settings`): a reader keeps per-stream state (the fallback detector's
    pacing) and each camera may configure other detectors, so readers are not shared; the OCR model
    is small (one onnxruntime session per camera, of `EdgeSettings.inference_threads()` threads, as its
    learned detector's: the cores shared among the cameras unless `ocr_threads` is set). A camera that cannot
    start or fails (missing file, missing model, a crash) is logged and ends alone: the others go
    on. `stop` (SIGTERM) stops all of them; each drains its outbox and publishes `offline`. The
    snapshot purge and endpoint, shared by the cameras, run once here. With a single camera (no
    `cameras:`) this is `run_edge` itself, errors included.
    """
    stop = stop or threading.Event()
    cameras = settings.camera_settings()
    make_reader = reader_for or PlateReader.from_settings
    if not settings.cameras:
        reader = reader_for(settings) if reader_for else None  # run_edge checks the source first
        return [CameraRun(settings.camera, stats=run_edge(settings, stop, reader=reader))]
    runs = [CameraRun(cam.camera) for cam in cameras]

    def run_one(cam: EdgeSettings, run: CameraRun) -> None:
        try:
            run.stats = run_edge(cam, stop, reader=make_reader(cam), shared_services=False)
        except BaseException as exc:  # one camera's failure must not stop the others
            run.error = exc
            expected = isinstance(exc, (SourceError, FileNotFoundError))  # no traceback for a config problem
            log.error("camera %s stopped: %s", cam.camera, exc, exc_info=not expected)

    retention = SnapshotRetention(settings.snapshot_root, settings.snapshot_retention_days)
    retention.start()
    snapshot_server = _start_snapshot_server(settings)
    threads = [
        threading.Thread(target=run_one, args=(cam, run), name=f"edge-{cam.camera}", daemon=True)
        for cam, run in zip(cameras, runs)
    ]
    log.info("edge start site=%s cameras=%s", settings.site, ",".join(r.camera for r in runs))
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # short joins: the main thread keeps handling SIGTERM
                thread.join(timeout=0.5)
    except BaseException:
        stop.set()  # an exception here (KeyboardInterrupt) still stops and flushes every camera
        raise
    finally:
        for thread in threads:
            thread.join(timeout=FLUSH_TIMEOUT_S + 10.0)
        retention.stop()
        if snapshot_server is not None:
            snapshot_server.stop()
    failed = [r.camera for r in runs if r.error is not None]
    if failed:
        log.error("%d of %d camera(s) failed: %s", len(failed), len(runs), ", ".join(failed))
    return runs


def _start_metrics(settings: EdgeSettings, readings: EdgeReadings) -> MetricsServer | None:
    """The Prometheus endpoint when `metrics_port` is set; a port in use costs the metrics, not the edge."""
    if not settings.metrics_port:
        return None
    server = MetricsServer(readings, settings.metrics_port, settings.metrics_host)
    try:
        server.start()
    except OSError as exc:
        log.error("指标端口不可用 / metrics port %d unavailable: %s", settings.metrics_port, exc)
        return None
    return server


def _start_snapshot_server(settings: EdgeSettings) -> SnapshotServer | None:
    """The read-only snapshot endpoint when `snapshot_port` is set; a port in use costs the endpoint only."""
    if not settings.snapshot_port:
        return None
    token = settings.snapshot_token
    server = SnapshotServer(
        settings.snapshot_root,
        settings.snapshot_port,
        settings.snapshot_host,
        token.get_secret_value() if hasattr(token, "get_secret_value") else str(token or ""),
    )
    try:
        server.start()
    except OSError as exc:
        log.error("截图端口不可用 / snapshot port %d unavailable: %s", settings.snapshot_port, exc)
        return None
    return server
