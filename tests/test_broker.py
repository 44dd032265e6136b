"""The embedded broker keeps a persistent subscriber's QoS 1 messages while it is away."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from dealergate.broker import EmbeddedBroker, free_port, port_open


def _subscriber(port: int, received: list[bytes], got: threading.Event) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="server-like", clean_session=False)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        received.append(msg.payload)
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe("dealergate/#", qos=1)
    client.loop_start()
    time.sleep(0.3)
    return client


def test_queued_while_subscriber_is_away() -> None:
    port = free_port()
    with EmbeddedBroker(port=port):
        assert port_open("127.0.0.1", port)
        received: list[bytes] = []
        got = threading.Event()
        sub = _subscriber(port, received, got)
        sub.disconnect()
        sub.loop_stop()

        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        pub.publish("dealergate/demo/gate-1/arrival", "粤A3K7F2", qos=1).wait_for_publish(5)
        pub.disconnect()
        pub.loop_stop()

        sub = _subscriber(port, received, got)
        assert got.wait(5)
        sub.disconnect()
        sub.loop_stop()
    assert received == ["粤A3K7F2".encode()]
    assert not port_open("127.0.0.1", port)


def test_port_in_use_is_a_clear_error() -> None:
    port = free_port()
    with EmbeddedBroker(port=port):
        try:
            EmbeddedBroker(port=port).start(timeout=5)
        except RuntimeError as exc:
            assert str(port) in str(exc)
        else:
            raise AssertionError("a second broker on the same port must fail")
