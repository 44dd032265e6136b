"""`dealergate bench server` on a tiny dataset: it runs end to end on both backends, reuses its
SQLite cache untouched, and every per-arrival query is answered from an index (no timings asserted)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dealergate.cli import app as cli
from server.bench import BenchPlan, bench_plate, run_bench
from server.pgcluster import PostgresCluster


def test_bench_plates_are_distinct_and_valid() -> None:
    from dealergate.plates import is_valid_plate

    plates = [bench_plate(i) for i in range(1, 400_000, 997)]
    assert len(set(plates)) == len(plates) and all(is_valid_plate(p) for p in plates)


def test_smoke_bench_on_sqlite_and_postgresql(tmp_path: Path, postgres_cluster: PostgresCluster) -> None:
    plan = BenchPlan.smoke()
    notes: list[str] = []
    url = postgres_cluster.create_database()
    first = run_bench(plan, cache=tmp_path, database_url=url, note=notes.append)
    for backend in ("sqlite", "postgresql"):
        r = first[backend]
        assert r["seed_reused"] is False and r["arrivals"] == plan.latency_arrivals + plan.rate_arrivals
        assert r["alert_build_p95_ms"] >= r["alert_build_p50_ms"] > 0 and r["ingest_per_s"] > 0
        assert r["indexed"] == {
            "plate_lookup": True,
            "current_policy": True,
            "dwell_window": True,
            "advisor_busy": True,
            "advisor_load": True,
        }, backend
    assert any(n.startswith("sqlite: seeded") for n in notes)
    cached = tmp_path / plan.cache_name
    with sqlite3.connect(cached) as db:
        assert db.execute("SELECT count(*) FROM customer").fetchone()[0] == plan.customers
        assert db.execute("SELECT count(*) FROM policy").fetchone()[0] == plan.policies
        assert db.execute("SELECT count(*) FROM arrival").fetchone()[0] == 0, "runs measure on a copy"
    again = run_bench(plan, cache=tmp_path, database_url=url)
    assert again["sqlite"]["seed_reused"] is True and again["postgresql"]["seed_reused"] is True


def test_bench_command_prints_one_json_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    res = CliRunner().invoke(
        cli, ["bench", "server", "--smoke", "--json", "--no-postgres", "--cache", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout.strip().splitlines()[-1])
    assert body["sqlite"]["ingest_per_s"] > 0 and body["postgresql"] is None and "postgresql_note" in body
