"""The Prometheus endpoint of a running edge: live counters, and it goes away with the edge."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_edge_runner import ColourNamer, clip, settings  # noqa: F401 - clip is a fixture

from dealergate.broker import EmbeddedBroker, free_port
from edge.detect.color import ColorPlateDetector
from edge.reader import PlateReader
from edge.runner import run_edge


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
    return values


def test_metrics_follow_the_running_edge(
    clip: Path, tmp_path: Path, mqtt_broker: EmbeddedBroker  # noqa: F811 - the fixture
) -> None:
    port = free_port()
    s = settings(tmp_path, mqtt_broker, str(clip)).model_copy(
        update={"realtime": True, "loop": True, "metrics_port": port}
    )
    stop = threading.Event()
    runner = threading.Thread(target=run_edge, args=(s, stop), kwargs={"reader": PlateReader(ColorPlateDetector(), ColourNamer())})
    runner.start()
    try:
        time.sleep(2.5)  # the first car has been decided and delivered
        m = scrape(port)
    finally:
        stop.set()
        runner.join(timeout=20)
    assert not runner.is_alive()
    assert m[f"dealergate_edge_info{{camera=gate-1,site={s.site},version=0.1.0}}"] == 1
    assert 40 <= m["dealergate_edge_frames_total"] <= 70  # ~2.5 s of 25 fps
    assert m["dealergate_edge_frame_seconds_count"] == m["dealergate_edge_frames_total"]
    assert m["dealergate_edge_arrivals_total"] >= 1
    assert m["dealergate_edge_arrivals_delivered_total"] == m["dealergate_edge_arrivals_total"]
    assert m["dealergate_edge_arrival_latency_seconds_count"] == m["dealergate_edge_arrivals_delivered_total"]
    assert 0 < m["dealergate_edge_arrival_latency_seconds_sum"] < 5 * m["dealergate_edge_arrival_latency_seconds_count"]
    assert m["dealergate_edge_outbox_depth"] == 0 and m["dealergate_edge_broker_connected"] == 1
    assert m["dealergate_edge_source_state{state=connected}"] == 1
    assert m["dealergate_edge_source_state{state=reconnecting}"] == 0
    with pytest.raises(urllib.error.URLError):
        scrape(port)  # the endpoint stopped with the edge
