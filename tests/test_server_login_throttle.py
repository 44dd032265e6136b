"""Failed-login throttle: counts per device in a sliding window, clears on success, stays bounded."""

from __future__ import annotations

import pytest

import server.login_throttle as throttle_module
from server.login_throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_device_waits_once_it_reaches_the_limit_until_its_oldest_failure_ages_out() -> None:
    clock = Clock()
    t = LoginThrottle(max_failures=3, window_s=600, clock=clock)
    for step in range(3):
        assert t.retry_after("10.0.0.5") == 0
        t.failed("10.0.0.5")
        clock.now += 100 if step < 2 else 0
    # failures at 1000, 1100, 1200: the one at 1000 counts until 1600
    assert t.retry_after("10.0.0.5") == 400
    assert t.retry_after("10.0.0.6") == 0, "another device is not affected"
    clock.now = 1_599.5
    assert t.retry_after("10.0.0.5") == 1
    clock.now = 1_600.0
    assert t.retry_after("10.0.0.5") == 0
    t.failed("10.0.0.5")  # 1100, 1200, 1600 count now: the next wait ends when 1100 ages out
    assert t.retry_after("10.0.0.5") == 100


def test_a_successful_login_clears_the_count() -> None:
    t = LoginThrottle(max_failures=2, window_s=600, clock=Clock())
    t.failed("pad")
    t.succeeded("pad")
    t.failed("pad")
    assert t.retry_after("pad") == 0
    t.failed("pad")
    assert t.retry_after("pad") == 600


def test_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle_module, "MAX_TRACKED_CLIENTS", 3)
    clock = Clock()
    t = LoginThrottle(max_failures=1, window_s=600, clock=clock)
    for n in range(5):
        clock.now += 1
        t.failed(f"10.0.0.{n}")
    assert sorted(t._failures) == ["10.0.0.2", "10.0.0.3", "10.0.0.4"], "the stalest are forgotten"
    clock.now += 600
    assert all(t.retry_after(f"10.0.0.{n}") == 0 for n in range(5))
    assert t._failures == {}, "aged-out entries are dropped as they are looked at"
