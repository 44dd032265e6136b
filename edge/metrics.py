"""Prometheus metrics of a running edge on `metrics_port` (off by default).

The heartbeat tells the dealership's screens; this endpoint is for whoever runs monitoring
(Prometheus, Grafana alerts on "outbox depth > 0 for 10 min" or "no frames"). Values are read
from the live objects at scrape time, so nothing is counted twice and an idle edge does no work
for metrics between scrapes. No plate or personal data is exported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from dealergate import __version__
from edge.telemetry import Telemetry

log = logging.getLogger(__name__)

_STATES = ("connected", "reconnecting", "stalled", "ended")


class _SourceView(Protocol):
    """What the metrics read of the video source (`edge.capture.VideoSource`)."""

    @property
    def state(self) -> str: ...

    @property
    def stats(self) -> object: ...


@dataclass
class EdgeReadings:
    """Where each figure comes from (callables, read at scrape time)."""

    site: str
    camera: str
    telemetry: Telemetry
    source: _SourceView
    outbox_depth: Callable[[], int]
    outbox_dropped: Callable[[], int]
    arrivals: Callable[[], int]
    delivered: Callable[[], int]
    broker_connected: Callable[[], bool]


class EdgeCollector(Collector):
    """Turns an `EdgeReadings` into Prometheus metric families."""

    def __init__(self, readings: EdgeReadings) -> None:
        self.r = readings

    def collect(self) -> Iterator[Metric]:
        r, t = self.r, self.r.telemetry
        stats = r.source.stats
        info = InfoMetricFamily("dealergate_edge", "Which edge this is.")
        info.add_metric([], {"site": r.site, "camera": r.camera, "version": __version__})
        yield info
        counters = {
            "frames": ("Frames taken from the source.", t.frames_total),
            "frames_gated": ("Frames not read because nothing moved.", t.gated_total),
            "frames_dropped": ("Frames skipped to keep up with real time.", getattr(stats, "skipped_late", 0)),
            "frames_corrupt": ("Empty or undecodable frames skipped.", getattr(stats, "corrupt", 0)),
            "source_reconnects": ("Times the video source was reopened.", getattr(stats, "reconnects", 0)),
            "source_stalls": ("Times the video source stopped sending and was abandoned.", getattr(stats, "stalls", 0)),
            "arrivals": ("Arrivals decided and stored in the outbox.", r.arrivals()),
            "arrivals_delivered": ("Arrivals acknowledged by the broker.", r.delivered()),
            "outbox_dropped": ("Undelivered arrivals dropped because the outbox was full.", r.outbox_dropped()),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(f"dealergate_edge_{name}", doc, value=value)
        yield SummaryMetricFamily(
            "dealergate_edge_frame_seconds", "Processing time per frame.", count_value=t.frames_total, sum_value=t.busy_total_s
        )
        yield SummaryMetricFamily(
            "dealergate_edge_arrival_latency_seconds",
            "First readable frame of a car to the broker's PUBACK.",
            count_value=t.latency_count,
            sum_value=t.latency_total_s,
        )
        yield GaugeMetricFamily("dealergate_edge_outbox_depth", "Arrivals waiting for the broker.", value=r.outbox_depth())
        yield GaugeMetricFamily(
            "dealergate_edge_broker_connected", "1 while connected to the MQTT broker.", value=float(r.broker_connected())
        )
        state = GaugeMetricFamily("dealergate_edge_source_state", "1 for the video source's current state.", labels=["state"])
        for name in _STATES:
            state.add_metric([name], float(r.source.state == name))
        yield state


class MetricsServer:
    """The HTTP endpoint (`/metrics`) on its own registry, started and stopped with the edge."""

    def __init__(self, readings: EdgeReadings, port: int, host: str = "127.0.0.1") -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(EdgeCollector(readings))
        self.port, self.host = port, host
        self._server: object | None = None

    def start(self) -> None:
        server, _thread = start_http_server(self.port, addr=self.host, registry=self.registry)
        self._server = server
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]
