"""Schema migrations (Alembic, `server/migrations/`) applied when the server starts.

Why `alembic upgrade head` at start-up rather than `create_all` + `stamp`: `create_all` only
creates missing tables, never alters an existing one, so a stamped database would silently keep
an old column layout while Alembic believed it current. Upgrading runs exactly the migrations a
database lacks, whatever state it is in. A database made by `create_all` before migrations
existed has tables but no `alembic_version`: it is stamped at the first revision (which
reproduces that schema) and then upgraded like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001"
"""The revision that reproduces the tables `create_all` made before migrations existed."""
_PG_LOCK_KEY = 0x6467_6174  # "dgat": one migrating process at a time per PostgreSQL database


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Alembic's config without an alembic.ini: the scripts ship inside the `server` package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection fit for DDL: SQLite without FK enforcement (tables are copied), PostgreSQL locked."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # must be set outside a transaction; batch migrations drop and rename tables
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                yield conn
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_database(engine: Engine, revision: str = "head") -> str:
    """Bring the schema to `revision`; returns what was done (for the start-up log line)."""
    with _migration_connection(engine) as conn:
        cfg = alembic_config(conn)
        before = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
        adopted = before is None and "customer" in tables
        if adopted:
            command.stamp(cfg, BASELINE_REVISION)
            before = BASELINE_REVISION
        command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if adopted:
        return f"adopted pre-migration schema, {before} → {after}"
    return "current" if before == after else f"{before or 'empty'} → {after}"


def downgrade_database(engine: Engine, revision: str) -> None:
    with _migration_connection(engine) as conn:
        command.downgrade(alembic_config(conn), revision)


def schema_differences(engine: Engine) -> list[Any]:
    """What the models declare that the database lacks, or the other way round ([] when in step)."""
    from server import models  # noqa: F401 - registers the tables

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, SQLModel.metadata)
    return [d for d in diffs if not _is_alembic_own(d)]


def _is_alembic_own(diff: Any) -> bool:
    return isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name == "alembic_version"


def new_revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models against an up-to-date database (developers only)."""
    with _migration_connection(engine) as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)
