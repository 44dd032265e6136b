"""Shared fixtures: a real MQTT broker per test session, free ports, the repository root, and the
databases the server supports (SQLite files and a throw-away PostgreSQL cluster)."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dealergate.broker import EmbeddedBroker, free_port

ROOT = Path(__file__).resolve().parent.parent
DB_BACKENDS = ("sqlite", "postgresql")
"""Every server test that touches the database runs on each of these."""


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[EmbeddedBroker]:
    """An amqtt broker on a free loopback port, shared by the tests that need MQTT."""
    broker = EmbeddedBroker("127.0.0.1", free_port()).start()
    yield broker
    broker.stop()


def postgres_bindir() -> Path | None:
    """Debian's PostgreSQL server binaries (newest major version), or None when not installed."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


class PostgresCluster:
    """A private PostgreSQL cluster in a temp dir: unix socket only, trust auth, no durability.

    PostgreSQL refuses to run as root, so under root (CI, these machines) the server runs as the
    `postgres` system user that Debian's package creates, via `runuser`.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="dgpg-"))
        self.socket_dir = self.root / "sock"
        self.port = free_port()
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root needs the `postgres` user (scripts/setup-system.sh installs it)")
            self._as = ["runuser", "-u", "postgres", "--"]
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        cmd = [*self._as, *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")

    def start(self) -> PostgresCluster:
        data = self.root / "data"
        self._run(
            str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip
        self._run("mkdir", str(self.socket_dir))
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"dg_test_{next(self._names)}"
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One cluster per test session; skipped only where Debian's postgresql is not installed."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries not installed (scripts/setup-system.sh installs `postgresql`)"
        )
    cluster = PostgresCluster(bindir).start()
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
