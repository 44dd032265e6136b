"""Failed staff logins, counted per client address: after too many, that address has to wait.

scrypt already makes each guess cost tens of milliseconds; this caps a guesser at `max_failures`
wrong passwords per `window_s` from one machine, whichever user it tries, so the customer data
behind the staff screens cannot be reached by trying passwords. A receptionist who mistypes a few
times is not affected, and a successful login clears the count. Kept in memory: a restart forgets
it, which costs a guesser a restart of the dealership's server.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

MAX_TRACKED_CLIENTS = 10_000
"""Addresses remembered at most; beyond it the one whose last failure is oldest is forgotten."""


class LoginThrottle:
    """Sliding window of failed logins per client address; thread-safe (login routes run in a pool)."""

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Whole seconds `client` must wait before its next try; 0 when it may try now."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.max_failures:
                return 0
            # the try becomes possible again when the oldest failure that still counts leaves the window
            oldest_counting = times[len(times) - self.max_failures]
            return max(1, math.ceil(oldest_counting + self.window_s - self._clock()))

    def failed(self, client: str) -> None:
        with self._lock:
            times = self._recent(client)
            times.append(self._clock())
            while len(times) > self.max_failures:
                times.popleft()
            self._failures[client] = times
            if len(self._failures) > MAX_TRACKED_CLIENTS:
                stalest = min(self._failures, key=lambda c: self._failures[c][-1])
                del self._failures[stalest]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        """The client's failures still inside the window (older ones dropped); caller holds the lock."""
        times = self._failures.get(client, deque())
        horizon = self._clock() - self.window_s
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            self._failures.pop(client, None)
        return times
