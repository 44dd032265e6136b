"""Alembic migrations (server/migrations) on SQLite and PostgreSQL: same schema as the models,
adopting a pre-migration database, moving coverages out of JSON and back, sites from the arrivals."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from server.db import make_engine
from server.migrate import (
    BASELINE_REVISION,
    alembic_config,
    current_revision,
    downgrade_database,
    head_revision,
    schema_differences,
    upgrade_database,
)

COVERS = [
    {"code": "compulsory", "sum_insured": 200000},
    {"code": "third_party", "sum_insured": 2000000},
    {"code": "no_deductible", "sum_insured": None},
]


@pytest.fixture()
def engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _old_rows(conn: Connection) -> None:
    """A customer, car and policy as the pre-migration server stored them (coverages as JSON)."""
    conn.execute(
        text(
            "INSERT INTO customer (id, name, phone, gender, city, consent_greeting, created_at) "
            "VALUES (1, '王伟', '13800000000', 'M', '广州', false, '2025-01-01 00:00:00')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO vehicle (id, plate, plate_type, vin, brand, model, series, price_class, customer_id) "
            "VALUES (1, '粤A12345', 'blue', '', '丰田', '凯美瑞', '', 'mid', 1)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO policy (id, policy_no, insurer, start_date, end_date, premium, ncd_factor, coverages, "
            "channel, vehicle_id) VALUES (1, 'P1', '人保', '2025-01-01', '2025-12-31', 4000, 0.8, :c, 'dealer', 1)"
        ),
        {"c": json.dumps(COVERS)},
    )


def test_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    assert upgrade_database(engine) == f"empty → {head_revision()}"
    assert schema_differences(engine) == []
    assert upgrade_database(engine) == "current"


def test_schema_check_notices_a_drift(engine: Engine) -> None:
    """The check above can fail: a database missing an index the models declare is reported."""
    upgrade_database(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_vehicle_vin"))
    diffs = schema_differences(engine)
    assert any(d[0] == "add_index" and d[1].name == "ix_vehicle_vin" for d in diffs), diffs


def test_pre_migration_database_is_adopted_and_its_coverages_moved(engine: Engine) -> None:
    upgrade_database(engine, BASELINE_REVISION)
    with engine.begin() as conn:
        _old_rows(conn)
        conn.execute(text("DROP TABLE alembic_version"))  # as create_all left it
    result = upgrade_database(engine)
    assert result.startswith("adopted pre-migration schema") and result.endswith(head_revision())
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code, sum_insured FROM coverage WHERE policy_id = 1 ORDER BY id")
        ).all()
    assert [(code, si) for code, si in rows] == [(c["code"], c["sum_insured"]) for c in COVERS]
    assert "coverages" not in {c["name"] for c in inspect(engine).get_columns("policy")}


def test_downgrade_puts_coverages_back_into_json(engine: Engine) -> None:
    upgrade_database(engine, BASELINE_REVISION)
    with engine.begin() as conn:
        _old_rows(conn)
    upgrade_database(engine)
    downgrade_database(engine, BASELINE_REVISION)
    assert current_revision(engine) == BASELINE_REVISION
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT coverages FROM policy WHERE id = 1")).scalar_one()
    restored = raw if isinstance(raw, list) else json.loads(raw)
    assert [(c["code"], c["sum_insured"]) for c in restored] == [
        (c["code"], c["sum_insured"]) for c in COVERS
    ]
    assert not inspect(engine).has_table("coverage")
    downgrade_database(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_one_linear_history() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1
    revisions = [r.revision for r in scripts.walk_revisions()]
    assert revisions[-1] == BASELINE_REVISION and revisions[0] == head_revision()


def _arrival_at(conn: Connection, n: int, site: str) -> None:
    conn.execute(
        text(
            "INSERT INTO arrival (event_id, site, camera, plate, confidence, plate_color, plate_type, captured_at, "
            "received_at, match, alerted, revision) VALUES (:e, :s, 'gate-1', '粤A12345', 0.9, 'blue', 'blue', "
            "'2025-06-01 02:00:00', '2025-06-01 02:00:01', 'none', true, 0)"
        ),
        {"e": f"00000000-0000-4000-8000-{n:012d}", "s": site},
    )


def test_sites_come_from_the_arrivals_and_go_on_downgrade(engine: Engine) -> None:
    """0008 seeds a site for every site an arrival names (the tasks' site is their arrival's) and files
    nothing yet: customers, cars and staff get an empty `site`, which refers to a site's code."""
    upgrade_database(engine, BASELINE_REVISION)
    with engine.begin() as conn:
        _old_rows(conn)
    upgrade_database(engine, "0007")
    with engine.begin() as conn:
        for n, site in enumerate(("store-b", "store-a", "store-b"), start=1):
            _arrival_at(conn, n, site)
    upgrade_database(engine)
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        sites = conn.execute(text("SELECT code, name_zh, name_en, active FROM site ORDER BY code")).all()
        filed = conn.execute(text("SELECT site FROM customer UNION ALL SELECT site FROM vehicle")).all()
    assert [tuple(r) for r in sites] == [
        ("store-a", "store-a", "store-a", True),
        ("store-b", "store-b", "store-b", True),
    ]
    assert [r[0] for r in filed] == [None, None]
    with engine.begin() as conn:
        conn.execute(text("UPDATE customer SET site = 'store-a' WHERE id = 1"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE vehicle SET site = 'nowhere' WHERE id = 1"))
    downgrade_database(engine, "0007")
    inspector = inspect(engine)
    assert not inspector.has_table("site")
    for table in ("customer", "vehicle", "staffuser"):
        assert "site" not in {c["name"] for c in inspector.get_columns(table)}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM arrival")).scalar_one() == 3
