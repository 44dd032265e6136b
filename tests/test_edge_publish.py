"""Publishing arrivals over MQTT to a real (embedded amqtt) broker, and the crop snapshots."""

from __future__ import annotations

import base64
import queue
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.contract import ArrivalEvent, arrival_topic
from dealergate.plates import PlateColor, PlateType
from edge.publish import BrokerAddress, MqttPublisher
from edge.snapshots import INLINE_MAX_B64, SnapshotStore, inline_jpeg_b64

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=timezone(timedelta(hours=8)))


def event(site: str = "demo", plate: str = "京A12345") -> ArrivalEvent:
    return ArrivalEvent(
        site=site,
        camera="gate-1",
        plate=plate,
        confidence=0.97,
        char_confidences=[0.97] * len(plate),
        plate_color=PlateColor.BLUE,
        plate_type=PlateType.BLUE,
        captured_at=T0,
    )


class Subscriber:
    """A plain paho client collecting the payloads of one topic filter."""

    def __init__(self, broker: EmbeddedBroker, topic: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"sub-{free_port()}"
        )
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "subscription not acknowledged"

    def get(self, timeout: float = 10.0) -> tuple[str, bytes]:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_arrival_reaches_a_subscriber_and_validates(mqtt_broker: EmbeddedBroker) -> None:
    site = f"pub{free_port()}"  # own topic space on the shared broker
    sub = Subscriber(mqtt_broker, arrival_topic(site, "gate-1"))
    pub = MqttPublisher(mqtt_broker.url, client_id=f"edge-{site}")
    try:
        assert pub.start(wait_s=10)
        sent = event(site)
        mid = pub.publish(sent)
        assert pub.wait(mid, timeout_s=10)  # PUBACK received
        assert pub.flush(timeout_s=1) and pub.pending == 0 and pub.published == 1
        topic, payload = sub.get()
        assert topic == f"dealergate/{site}/gate-1/arrival"
        got = ArrivalEvent.from_payload(payload)
        assert got == sent
        assert "京A12345".encode() in payload  # Chinese kept readable on the wire
    finally:
        pub.close()
        sub.close()


def test_arrivals_published_during_an_outage_are_delivered_after_it() -> None:
    """QoS 1 messages wait in paho's queue while the broker is down and go out on reconnect."""
    port = free_port()
    pub = MqttPublisher(f"mqtt://127.0.0.1:{port}", client_id="edge-outage")
    broker: EmbeddedBroker | None = None
    try:
        assert not pub.start(wait_s=0.3)  # no broker yet
        pub.publish(event("outage"))
        assert not pub.flush(timeout_s=0.2) and pub.pending == 1
        broker = EmbeddedBroker("127.0.0.1", port).start()
        assert pub.flush(timeout_s=15), "queued arrival not delivered after the broker came up"
        assert pub.published == 1
    finally:
        pub.close()
        if broker is not None:
            broker.stop()


def test_broker_address_parsing() -> None:
    a = BrokerAddress.parse("mqtt://edge:s%40cret@broker.local:1884")
    assert (a.host, a.port, a.username, a.password, a.tls) == ("broker.local", 1884, "edge", "s@cret", False)
    assert BrokerAddress.parse("mqtt://127.0.0.1").port == 1883
    tls = BrokerAddress.parse("mqtts://broker.local")
    assert tls.tls and tls.port == 8883 and tls.username is None
    for bad in ("http://broker:1883", "mqtt://", "broker:1883"):
        with pytest.raises(ValueError, match="invalid MQTT URL"):
            BrokerAddress.parse(bad)


def test_snapshot_is_saved_and_referenced(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    crop = np.zeros((48, 150, 3), np.uint8)
    crop[:] = (160, 62, 12)
    cv2.putText(crop, "A12345", (8, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (240, 240, 240), 2)
    sent = event()
    saved = store.save(sent, crop)
    assert saved.event_id == sent.event_id and saved.plate == sent.plate
    assert saved.crop_ref == f"gate-1/2025-03-01/{sent.event_id}.jpg"
    path = tmp_path / saved.crop_ref
    image = cv2.imread(str(path))
    assert image is not None and image.shape == crop.shape
    assert not list(tmp_path.rglob("*.tmp"))
    assert saved.crop_jpeg_b64 is not None and len(saved.crop_jpeg_b64) <= INLINE_MAX_B64
    inline = cv2.imdecode(np.frombuffer(base64.b64decode(saved.crop_jpeg_b64), np.uint8), cv2.IMREAD_COLOR)
    assert inline is not None and inline.shape == crop.shape
    ArrivalEvent.from_payload(saved.to_payload())  # still a valid wire event
    assert store.save(sent, None) == sent


def test_inline_crop_shrinks_to_the_limit() -> None:
    noisy = np.random.default_rng(0).integers(0, 256, (220, 700, 3), dtype=np.uint8)  # JPEG's worst case
    text = inline_jpeg_b64(noisy)
    assert text is not None and len(text) <= INLINE_MAX_B64
    small = cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_COLOR)
    assert small.shape[1] < 700


def test_flush_gives_up_after_its_timeout() -> None:
    pub = MqttPublisher(f"mqtt://127.0.0.1:{free_port()}", client_id="edge-nobroker")
    try:
        pub.start()
        pub.publish(event())
        t0 = time.monotonic()
        assert not pub.flush(timeout_s=0.3)
        assert time.monotonic() - t0 < 2.0
    finally:
        pub.close()
