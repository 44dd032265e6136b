"""Engine, sessions and time storage: SQLite by default, any SQLAlchemy URL (PostgreSQL) works.

Every timestamp is an aware datetime in Python and UTC in the database (`UtcDateTime`), because
SQLite silently drops time zones; "today" is decided in the dealership's time zone (`local_*`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, Table, event, insert, types
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine
from starlette.requests import HTTPConnection


def make_engine(database_url: str) -> Engine:
    """Engine for `database_url`; for a SQLite file, its folder is created and WAL is switched on.

    The arrival worker writes while request threads read, so SQLite gets `check_same_thread=False`,
    a generous busy timeout and WAL (readers never block the writer).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(database_url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        if url.database and url.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def request_session(conn: HTTPConnection) -> Iterator[Session]:
    """FastAPI dependency: one unit of work per request on the app's engine. Defined here, not in
    server.api, so that server.auth's login check shares the route's session (FastAPI reuses one
    dependency's value within a request)."""
    with session_scope(conn.app.state.engine) as session:
        yield session


def insert_new(session: Session, row: SQLModel) -> None:
    """Insert a new entity with one Core `INSERT … RETURNING id` in the session's transaction and set
    its id. As a flush would, columns left None get their defaults (or NULL). The entity stays out of
    the session: nothing is flushed for it and later changes to it are not saved. Why: on the arrival
    path the ORM's unit of work took more Python time than the insert itself (`dealergate bench
    server`)."""
    table = table_of(type(row))
    values = {c.key: value for c in table.c if (value := getattr(row, c.key)) is not None}
    row.id = session.connection().execute(_insert_returning_id(table), values).scalar_one()  # type: ignore[attr-defined]


def table_of(model: type[SQLModel]) -> Table:
    """The table of an entity class, for statements that return rows instead of entities."""
    return model.__table__  # type: ignore[attr-defined]


@cache
def _insert_returning_id(table: Table) -> Insert:
    """Built once per table, values bound at execution (see `server.matching`)."""
    return insert(table).returning(table.c.id)


def check_db(engine: Engine) -> str:
    """'ok' when a trivial query runs, else the error class name (for /healthz)."""
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - health reports any failure, it does not raise
        return f"error: {type(exc).__name__}"


class UtcDateTime(types.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the database does with zones."""

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("refusing to store a naive datetime: its time zone is unknown")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, for 'arrivals today' queries."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def local_today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()
