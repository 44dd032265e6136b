"""The courier thread: sends outbox rows over MQTT QoS 1, oldest first, and records each PUBACK.

Only rows not already in flight are sent, and only while the broker is connected: a message that
is in flight when the connection drops stays in paho's memory and paho resends it (same message,
DUP flag) after the reconnect, so an outage delays arrivals without duplicating them. A fresh
process has nothing in flight, so every row still pending on disk is sent again at start-up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from edge.outbox import Outbox, OutboxItem
from edge.publish import MqttPublisher

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 20
"""Unacknowledged arrivals on the wire at once (paho's own in-flight window)."""
PRUNE_EVERY_S = 3600.0
"""How often delivered rows past their retention are deleted."""


class OutboxCourier:
    """Delivers an `Outbox` through an `MqttPublisher`; `on_delivered(key)` follows each PUBACK
    (`OutboxItem.key`: the event id for a first publication, `<event id>#<revision>` for a correction)."""

    def __init__(
        self,
        outbox: Outbox,
        publisher: MqttPublisher,
        *,
        on_delivered: Callable[[str], None] | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.on_delivered = on_delivered
        self.max_in_flight = max_in_flight
        self.delivered = 0
        self._in_flight: dict[int, OutboxItem] = {}  # mid -> row; touched by the courier thread only
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()  # notified whenever a row is marked delivered
        self._thread: threading.Thread | None = None
        publisher.add_ack_listener(self._on_ack)
        publisher.add_connect_listener(self.wake)

    def _on_ack(self, mid: int) -> None:
        self._acks.put(mid)
        self._wake.set()

    def wake(self) -> None:
        """Look at the outbox now (a new row, a new connection) instead of at the next tick."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="edge-outbox", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        next_prune = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self._settle_acks()
                if self.publisher.connected:
                    self._send_more()
                if time.monotonic() >= next_prune:
                    self.outbox.prune()
                    next_prune = time.monotonic() + PRUNE_EVERY_S
            except Exception:  # a full disk or a bad row must not stop deliveries
                log.exception("出站队列发送出错 / outbox delivery error; retrying")
                self._stop.wait(1.0)
        try:
            self._settle_acks()
        except Exception:  # the database may be closed already
            log.exception("outbox: last acknowledgements not recorded")

    def _settle_acks(self) -> None:
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                return
            item = self._in_flight.pop(mid, None)
            if item is None:
                continue  # a status message, or an ack this courier did not wait for
            if self.outbox.mark_delivered(item.event_id, item.revision):
                self.delivered += 1
                if self.on_delivered is not None:
                    self.on_delivered(item.key)
            with self._idle:
                self._idle.notify_all()

    def _send_more(self) -> None:
        room = self.max_in_flight - len(self._in_flight)
        for item in self.outbox.pending(room, exclude={i.key for i in self._in_flight.values()}):
            self.outbox.mark_sent(item.event_id, item.revision)
            mid = self.publisher.send(item.topic, item.payload, qos=1, label=item.key)
            self._in_flight[mid] = item
            if item.attempts:
                log.info(
                    "resending arrival event_id=%s revision=%d (attempt %d)",
                    item.event_id,
                    item.revision,
                    item.attempts + 1,
                )

    def drain(self, timeout_s: float) -> bool:
        """Wait until the outbox has nothing pending; False when `timeout_s` passes first."""
        deadline = time.monotonic() + timeout_s
        self.wake()
        with self._idle:
            while self.outbox.depth:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.2))
        return True

    def stop(self) -> None:
        """Stop the thread (idempotent); rows not yet acknowledged stay pending on disk."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
