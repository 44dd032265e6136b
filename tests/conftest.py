"""Shared fixtures: a real MQTT broker per test session, free ports, the repository root, and the
databases the server supports (SQLite files and a throw-away PostgreSQL cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dealergate.broker import EmbeddedBroker, free_port
from server.pgcluster import ClusterError, PostgresCluster, postgres_bindir

ROOT = Path(__file__).resolve().parent.parent
DB_BACKENDS = ("sqlite", "postgresql")
"""Every server test that touches the database runs on each of these."""


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[EmbeddedBroker]:
    """An amqtt broker on a free loopback port, shared by the tests that need MQTT."""
    broker = EmbeddedBroker("127.0.0.1", free_port()).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One cluster per test session; skipped only where Debian's postgresql is not installed."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not installed (scripts/setup-system.sh installs `postgresql`)"
        )
    try:
        cluster = PostgresCluster(bindir).start()
    except ClusterError as exc:
        pytest.fail(str(exc))
    yield cluster
    cluster.stop()


def _database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'dealergate.db'}"
    return request.getfixturevalue("postgres_cluster").create_database()


@pytest.fixture(scope="module", params=DB_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database per test module, once per backend."""
    return _database_url(request, tmp_path_factory)


@pytest.fixture(params=DB_BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty database per test, once per backend."""
    return _database_url(request, tmp_path_factory)
