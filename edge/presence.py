"""The edge's retained online/offline status on `dealergate/<site>/<camera>/status`.

A screen or monitor that subscribes at any time reads at once whether the gate camera's edge is
up: `online` is published (retained, QoS 1) on every connection; a clean stop replaces it with
`offline`/`shutdown`; and if the edge dies or loses its network, the broker publishes the last
will, `offline`/`connection_lost`, which was handed over in the CONNECT packet.
"""

from __future__ import annotations

import logging
from typing import Literal

from dealergate import __version__
from dealergate.contract import EdgeStatus, now_local
from edge.publish import MqttPublisher

log = logging.getLogger(__name__)


class Presence:
    """Wires the last will and the `online` message into a publisher that is not started yet."""

    def __init__(self, publisher: MqttPublisher, site: str, camera: str) -> None:
        self.publisher = publisher
        self.site, self.camera = site, camera
        will = self.status("offline", "connection_lost")
        publisher.set_will(will.topic(), will.to_payload(), qos=1, retain=True)
        publisher.add_connect_listener(self._online)

    def status(
        self, state: Literal["online", "offline"], reason: Literal["started", "shutdown", "connection_lost"]
    ) -> EdgeStatus:
        return EdgeStatus(
            site=self.site, camera=self.camera, at=now_local(), state=state, reason=reason, version=__version__
        )

    def _online(self) -> None:
        msg = self.status("online", "started")
        self.publisher.send(msg.topic(), msg.to_payload(), qos=1, retain=True)

    def go_offline(self, timeout_s: float) -> bool:
        """Publish `offline`/`shutdown` and wait for its PUBACK (call before a clean disconnect,
        which makes the broker discard the will). False when the broker is unreachable."""
        if not self.publisher.connected:
            return False
        msg = self.status("offline", "shutdown")
        mid = self.publisher.send(msg.topic(), msg.to_payload(), qos=1, retain=True)
        if not self.publisher.wait(mid, timeout_s):
            log.warning("offline status not acknowledged by the broker within %.1fs", timeout_s)
            return False
        return True
