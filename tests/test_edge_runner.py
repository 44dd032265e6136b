"""The edge loop end to end on a generated gate clip: capture → detect → read → track → MQTT.

The recognizer is a stand-in that names the plate by its background colour, so the loop's wiring
is tested without the OCR model (tests/test_edge_recognize.py covers the model itself).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.contract import ArrivalEvent, arrival_topic
from dealergate.plates import PlateColor, PlateType
from dealergate.synth.gate_clip import make_gate_clip
from edge.capture import SourceError
from edge.config import EdgeSettings
from edge.detect.color import ColorPlateDetector, dominant_plate_color
from edge.reader import PlateReader
from edge.runner import EdgeStats, run_edge
from edge.types import PlateRead

PLATES = {PlateColor.BLUE: "京A12345", PlateColor.YELLOW: "苏E67890"}


class ColourNamer:
    """Reads a crop as the plate of its colour (what a perfect OCR would say on this clip)."""

    def read(self, crop_bgr: np.ndarray) -> PlateRead:
        text = PLATES.get(dominant_plate_color(crop_bgr), "")
        return PlateRead(text, 0.96 if text else 0.0, (0.96,) * len(text))

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[PlateRead]:
        return [self.read(c) for c in crops]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "gate.mp4"
    make_gate_clip(
        path,
        [(PLATES[PlateColor.BLUE], PlateType.BLUE), (PLATES[PlateColor.YELLOW], PlateType.YELLOW)],
        seconds_per_car=2.0,
        seed=3,
    )
    return path


def settings(tmp_path: Path, broker: EmbeddedBroker, source: str, **kw: object) -> EdgeSettings:
    site = f"run{free_port()}"
    return EdgeSettings(
        source=source, site=site, mqtt_url=broker.url, snapshot_dir=tmp_path / "snaps", realtime=False, **kw
    )  # type: ignore[arg-type]


def subscribe(broker: EmbeddedBroker, topic: str) -> tuple[mqtt.Client, queue.Queue[bytes]]:
    got: queue.Queue[bytes] = queue.Queue()
    ready = threading.Event()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"sub-{free_port()}")
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda c, u, m: got.put(m.payload)
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert ready.wait(10)
    return client, got


def run_and_receive(s: EdgeSettings, broker: EmbeddedBroker, n: int) -> tuple[EdgeStats, list[ArrivalEvent]]:
    """Run the edge with the colour-naming reader and take the first `n` events it published."""
    client, got = subscribe(broker, arrival_topic(s.site, s.camera))
    try:
        stats = run_edge(s, reader=PlateReader(ColorPlateDetector(), ColourNamer()))
        events = [ArrivalEvent.from_payload(got.get(timeout=10)) for _ in range(n)]
    finally:
        client.disconnect()
        client.loop_stop()
    return stats, events


def test_clip_to_mqtt_one_event_per_car(
    clip: Path, tmp_path: Path, mqtt_broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    s = settings(tmp_path, mqtt_broker, str(clip))
    expired = s.snapshot_root / s.camera / "2000-01-01"  # far past the retention: purged at start-up
    expired.mkdir(parents=True)
    (expired / "old.jpg").write_bytes(b"jpg")
    client, got = subscribe(mqtt_broker, arrival_topic(s.site, s.camera))
    try:
        with caplog.at_level(logging.INFO, logger="edge"):
            stats = run_edge(s, reader=PlateReader(ColorPlateDetector(), ColourNamer()))
        events = [ArrivalEvent.from_payload(got.get(timeout=10)) for _ in range(2)]
    finally:
        client.disconnect()
        client.loop_stop()
    assert [e.plate for e in events] == ["京A12345", "苏E67890"]
    assert [e.plate_color for e in events] == [PlateColor.BLUE, PlateColor.YELLOW]
    assert [e.plate_type for e in events] == [PlateType.BLUE, PlateType.YELLOW]
    assert events[0].captured_at < events[1].captured_at
    assert got.empty()
    assert stats.arrivals == 2 and stats.frames == 100 and stats.unacknowledged == 0
    for e in events:
        assert e.crop_ref and (s.snapshot_root / e.crop_ref).is_file() and e.crop_jpeg_b64
        assert e.frame_ref and e.frame_ref.startswith(e.crop_ref.removesuffix(".jpg"))
        frame = cv2.imread(str(s.snapshot_root / e.frame_ref))
        assert frame is not None and 0 < frame.shape[1] <= s.snapshot_frame_width
    assert not expired.exists()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("arrival ")]
    assert len(lines) == 2 and "plate=京A12345" in lines[0] and "latency_ms=" in lines[0]


def test_a_gate_line_turns_cars_driving_out_into_departures(
    clip: Path, tmp_path: Path, mqtt_broker: EmbeddedBroker
) -> None:
    """The clip's cars drive down the picture; with the dealership side at the top they are
    leaving: the loop places each plate against the line using the frame's own size."""
    s = settings(tmp_path, mqtt_broker, str(clip), gate_line=((0.0, 0.5), (1.0, 0.5)), gate_inside=(0.5, 0.0))
    stats, events = run_and_receive(s, mqtt_broker, 2)
    assert [(e.plate, e.kind) for e in events] == [("京A12345", "departure"), ("苏E67890", "departure")]
    assert (stats.departures, stats.arrivals, stats.updates) == (2, 0, 0)


def test_stop_event_ends_a_looping_realtime_run(
    clip: Path, tmp_path: Path, mqtt_broker: EmbeddedBroker
) -> None:
    s = settings(tmp_path, mqtt_broker, str(clip)).model_copy(update={"realtime": True, "loop": True})
    stop = threading.Event()
    result: list = []
    runner = threading.Thread(
        target=lambda: result.append(
            run_edge(s, stop, reader=PlateReader(ColorPlateDetector(), ColourNamer()))
        )
    )
    runner.start()
    time.sleep(1.5)
    stop.set()
    runner.join(timeout=15)
    assert not runner.is_alive() and result
    stats = result[0]
    assert 20 <= stats.frames + stats.frames_skipped_late <= 50  # about 1.5 s of 25 fps video
    assert stats.mean_frame_ms < 40.0  # keeps up with 25 fps


def test_missing_source_is_reported(tmp_path: Path, mqtt_broker: EmbeddedBroker) -> None:
    reader = PlateReader(ColorPlateDetector(), ColourNamer())
    with pytest.raises(SourceError, match="no video source"):
        run_edge(settings(tmp_path, mqtt_broker, ""), reader=reader)
    with pytest.raises(SourceError, match="gone.mp4"):
        run_edge(settings(tmp_path, mqtt_broker, str(tmp_path / "gone.mp4")), reader=reader)


def test_a_failing_snapshot_store_does_not_lose_the_arrival(
    clip: Path, tmp_path: Path, mqtt_broker: EmbeddedBroker
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the snapshot folder should be", encoding="utf-8")
    s = settings(tmp_path, mqtt_broker, str(clip)).model_copy(update={"snapshot_dir": blocker})
    stats, events = run_and_receive(s, mqtt_broker, 2)
    assert stats.arrivals == 2
    assert [e.plate for e in events] == ["京A12345", "苏E67890"]
    assert all(e.crop_ref is None for e in events)
