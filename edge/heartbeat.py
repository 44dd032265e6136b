"""The periodic heartbeat on `dealergate/<site>/<camera>/heartbeat` (QoS 0, not retained).

The retained status says whether the edge is connected; the heartbeat says whether it is
healthy: is it keeping up (fps, frame cost), is the camera delivering, do arrivals reach the
broker (latency, outbox depth). A missed heartbeat costs nothing, so QoS 0; one is only sent
while connected (an old heartbeat is no news).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dealergate.contract import EdgeHeartbeat
from edge.publish import MqttPublisher

log = logging.getLogger(__name__)


class Heartbeat:
    """A thread publishing `build()` every `interval_s` seconds."""

    def __init__(self, publisher: MqttPublisher, interval_s: float, build: Callable[[], EdgeHeartbeat]) -> None:
        if interval_s <= 0:
            raise ValueError("heartbeat interval must be positive")
        self.publisher = publisher
        self.interval_s = interval_s
        self.build = build
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="edge-heartbeat", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                beat = self.build()  # also starts the next measuring interval: build even if offline
                if self.publisher.connected:
                    self.publisher.send(beat.topic(), beat.to_payload(), qos=0)
                    self.sent += 1
            except Exception:  # a heartbeat failure must never stop the edge
                log.exception("heartbeat not sent")

    def stop(self) -> None:
        """Stop the thread (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
