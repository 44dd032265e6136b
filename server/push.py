"""WebSocket fan-out per role: front desk, advisor, kiosk.

Each connected screen owns a bounded queue; publishing only enqueues, so one slow tablet can
never hold up the MQTT thread or the other screens (a screen whose queue overflows is dropped
and reconnects, getting a fresh snapshot).
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum
from typing import Any

from server.logs import log_event

log = logging.getLogger(__name__)
QUEUE_SIZE = 256


class Audience(StrEnum):
    FRONTDESK = "frontdesk"
    ADVISOR = "advisor"
    KIOSK = "kiosk"


class Subscriber:
    """One connected screen: the hub fills its queue, its WebSocket handler drains it."""

    def __init__(self, audience: Audience, label: str) -> None:
        self.audience = audience
        self.label = label
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=QUEUE_SIZE)


class PushHub:
    """Registry of connected screens; thread-safe `publish_threadsafe` for the MQTT thread."""

    def __init__(self) -> None:
        self._subs: dict[Audience, set[Subscriber]] = {a: set() for a in Audience}
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server's event loop (called from the lifespan, on that loop)."""
        self._loop = loop

    def subscribe(self, audience: Audience, label: str) -> Subscriber:
        sub = Subscriber(audience, label)
        self._subs[audience].add(sub)
        log_event(log, "ws.connected", audience=audience.value, who=label, screens=len(self._subs[audience]))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self._subs[sub.audience]:
            self._subs[sub.audience].discard(sub)
            log_event(
                log,
                "ws.disconnected",
                audience=sub.audience.value,
                who=sub.label,
                screens=len(self._subs[sub.audience]),
            )

    def count(self, audience: Audience) -> int:
        return len(self._subs[audience])

    def publish(self, audience: Audience, message: dict[str, Any]) -> int:
        """Enqueue `message` for every screen of `audience` (call on the event loop); returns how many."""
        delivered = 0
        for sub in list(self._subs[audience]):
            try:
                sub.queue.put_nowait(message)
                delivered += 1
            except asyncio.QueueFull:
                log_event(log, "ws.overflow", level=logging.WARNING, audience=audience.value, who=sub.label)
                self._subs[audience].discard(sub)
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)  # tells the handler to close; the screen reconnects
        return delivered

    def publish_threadsafe(self, messages: dict[Audience, dict[str, Any]]) -> bool:
        """Hand messages from any thread to the event loop; False when the server loop is not running."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False

        def _deliver() -> None:
            for audience, message in messages.items():
                self.publish(audience, message)

        try:
            loop.call_soon_threadsafe(_deliver)
        except RuntimeError:  # loop closed between the check and the call (shutdown)
            return False
        return True

    def close_all(self) -> None:
        """Ask every handler to close (server shutdown)."""
        for subs in self._subs.values():
            for sub in list(subs):
                while not sub.queue.empty():  # make room: the close signal must get through
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)
            subs.clear()
