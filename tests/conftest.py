"""Shared fixtures: a real MQTT broker per test session, free ports, the repository root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dealergate.broker import EmbeddedBroker, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[EmbeddedBroker]:
    """An amqtt broker on a free loopback port, shared by the tests that need MQTT."""
    broker = EmbeddedBroker("127.0.0.1", free_port()).start()
    yield broker
    broker.stop()
