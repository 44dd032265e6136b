"""The edge's MQTT connection (paho-mqtt v2): QoS 1 publishes confirmed by PUBACK, last will.

paho keeps QoS 1 messages in memory and resends them after a reconnect, so a short broker outage
delays messages instead of losing them; `flush` waits for every PUBACK before the edge exits.
(Surviving an edge restart during an outage is the on-disk outbox's job, `edge.outbox`; this
module tells it about each PUBACK through `add_ack_listener`.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dealergate.contract import ArrivalEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is, parsed from mqtt[s]://[user[:password]@]host[:port]."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
            raise ValueError(f"MQTT 地址无效 / invalid MQTT URL (want mqtt://host:port): {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


class MqttPublisher:
    """A background MQTT connection that publishes messages and tracks their PUBACKs."""

    def __init__(self, url: str, client_id: str, keepalive_s: int = 30) -> None:
        self.address = BrokerAddress.parse(url)
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        if self.address.username is not None:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._keepalive = keepalive_s
        self._lock = threading.Condition()
        self._pending: dict[int, str] = {}  # mid -> label (event id, topic), until PUBACK
        self._acked_early: set[int] = set()  # PUBACK (or QoS 0 send) that beat send() returning
        self._unconfirmed: set[int] = set()  # QoS 0 mids whose send paho has not reported yet
        self._connect_listeners: list[Callable[[], None]] = []
        self._ack_listeners: list[Callable[[int], None]] = []
        self._connected = threading.Event()
        self._started = False
        self._closing = False
        self.published = 0

    # -- paho callbacks (network thread) ---------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT broker refused the connection: %s", reason)
            return
        self._connected.set()
        log.info("MQTT connected to %s:%d", self.address.host, self.address.port)
        for listener in list(self._connect_listeners):
            listener()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        if self._connected.is_set() and not self._closing:
            log.warning("MQTT connection lost (%s); paho reconnects and resends", reason)
        self._connected.clear()

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object
    ) -> None:
        with self._lock:
            if self._pending.pop(mid, None) is not None:
                self.published += 1
            elif mid in self._unconfirmed:
                self._unconfirmed.discard(mid)
            else:
                self._acked_early.add(mid)
            self._lock.notify_all()
        for listener in list(self._ack_listeners):
            listener(mid)

    # -- API ---------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def set_will(self, topic: str, payload: bytes, qos: int = 1, retain: bool = True) -> None:
        """What the broker publishes when this connection dies without a clean disconnect.

        Must be called before `start` (the will travels in the CONNECT packet).
        """
        if self._started:
            raise RuntimeError("set_will must be called before start")
        self._client.will_set(topic, payload, qos=qos, retain=retain)

    def add_connect_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every successful (re)connection, on paho's network thread."""
        self._connect_listeners.append(listener)

    def add_ack_listener(self, listener: Callable[[int], None]) -> None:
        """Call `listener(mid)` for every PUBACK (and every QoS 0 send), on paho's network thread."""
        self._ack_listeners.append(listener)

    def start(self, wait_s: float = 0.0) -> bool:
        """Connect in the background (retrying forever); True if connected within `wait_s`."""
        if not self._started:
            self._client.connect_async(self.address.host, self.address.port, keepalive=self._keepalive)
            self._client.loop_start()
            self._started = True
        return self._connected.wait(wait_s) if wait_s > 0 else self.connected

    def send(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, label: str = "") -> int:
        """Queue one message; returns its message id (for QoS 1, wait on it with `wait`).

        With no connection paho keeps a QoS 1 message and sends it once the connection is back;
        a QoS 0 message is simply not sent.
        """
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise RuntimeError(f"MQTT publish failed: {mqtt.error_string(info.rc)}")
        with self._lock:
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
                self.published += qos > 0
            elif qos > 0:
                self._pending[info.mid] = label or topic
            elif info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._unconfirmed.add(info.mid)
        return info.mid

    def publish(self, event: ArrivalEvent) -> int:
        """Queue the event (QoS 1) on its topic; returns the message id to wait on."""
        return self.send(event.topic(), event.to_payload(), qos=1, label=str(event.event_id))

    def wait(self, mid: int, timeout_s: float) -> bool:
        """True once the broker has acknowledged message `mid`."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while mid in self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait for every outstanding PUBACK; False (and a warning) when some are still missing."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning(
                        "%d message(s) not acknowledged by the broker: %s",
                        len(self._pending),
                        ", ".join(self._pending.values()),
                    )
                    return False
                self._lock.wait(left)
        return True

    def close(self) -> None:
        """Disconnect and stop the network thread (call `flush` first to keep pending arrivals)."""
        if self._started:
            self._closing = True
            self._client.disconnect()
            self._client.loop_stop()
            self._started = False
