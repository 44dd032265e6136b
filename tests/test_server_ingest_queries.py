"""The SQL one arrival costs, pinned (SQLite): a regression guard for `dealergate bench server`.

Each statement is a round trip on PostgreSQL and Python work on both databases; an arrival of a
known car used to issue 21 to 23 of them. Counted with SQLAlchemy's `before_cursor_execute`, on a
file where the car has every kind of history (policies with coverages, claims, a visit, a contact,
a quote, an appointment), after one warm-up arrival (the model statistics and the kiosk cards are
cached per database). The arrival and its task are written without the ORM's unit of work (a flush
cost more Python time than the insert), which is pinned too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from dealergate.contract import ArrivalEvent, now_local
from dealergate.plates import is_valid_plate
from server.bench import BenchPlan, bench_plate, seed
from server.config import ServerSettings
from server.db import make_engine
from server.ingest import ArrivalOutcome, ArrivalProcessor
from server.matching import confusable_variants
from server.migrate import upgrade_database
from server.models import Appointment, ContactLog, Quote, StaffUser, Vehicle

KNOWN_CAR_STATEMENTS = 12
"""Arrival lookup (same event / dwell window), plate + owner, insert arrival, five for the car's file,
advisors on shift, open tasks, today's appointment, insert task."""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path: Path = tmp_path_factory.mktemp("queries") / "dealergate.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    seed(engine, BenchPlan(customers=60, policies=200), now_local().date())
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def processor(engine: Engine) -> ArrivalProcessor:
    settings = ServerSettings(database_url=engine.url.render_as_string(hide_password=False), site="demo")
    processor = ArrivalProcessor(engine, settings)
    processor.handle_arrival(_event(bench_plate(1)))  # warm-up: model statistics, kiosk cards
    return processor


def _event(plate: str, **kw: object) -> ArrivalEvent:
    return ArrivalEvent(
        site="demo", camera="gate-1", plate=plate, confidence=0.96, **{"captured_at": now_local(), **kw}
    )


def _statements(
    engine: Engine, processor: ArrivalProcessor, e: ArrivalEvent
) -> tuple[ArrivalOutcome, list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        outcome = processor.handle_arrival(e)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return outcome, seen


@contextmanager
def _flushed() -> Iterator[list[object]]:
    """The objects any session's unit of work writes meanwhile."""
    written: list[object] = []

    def before_flush(session: OrmSession, _context: object, _instances: object) -> None:
        written.extend([*session.new, *session.dirty])

    event.listen(OrmSession, "before_flush", before_flush)
    try:
        yield written
    finally:
        event.remove(OrmSession, "before_flush", before_flush)


def _listing(statements: list[str]) -> str:
    return "\n".join(s[:100] for s in statements)


def test_a_known_car_with_a_full_file(engine: Engine, processor: ArrivalProcessor) -> None:
    plate = bench_plate(7)
    with Session(engine) as s:
        car = s.exec(select(Vehicle).where(Vehicle.plate == plate)).one()
        advisor = s.exec(select(StaffUser.id)).first()
        s.add(Appointment(customer_id=car.customer_id or 0, vehicle_id=car.id, scheduled_at=now_local(),
                          kind="maintenance"))  # fmt: skip
        s.add(Quote(vehicle_id=car.id or 0, customer_id=car.customer_id, package="economy", premium=4000.0))
        s.add(ContactLog(customer_id=car.customer_id or 0, vehicle_id=car.id, staff_id=advisor,
                         channel="phone", outcome="considering", at=now_local() - timedelta(days=3)))  # fmt: skip
        s.commit()
    with _flushed() as written:
        outcome, statements = _statements(engine, processor, _event(plate))
        assert outcome.status == "alerted" and outcome.alerts is not None
        assert outcome.alerts.frontdesk["appointment"] is not None and outcome.alerts.file.contacts
        assert len(statements) <= KNOWN_CAR_STATEMENTS, _listing(statements)
        # the next visit reuses the open arrival task: no more statements than the first
        outcome, again = _statements(
            engine, processor, _event(plate, captured_at=now_local() + timedelta(hours=1))
        )
        assert outcome.status == "alerted" and len(again) <= KNOWN_CAR_STATEMENTS, _listing(again)
        assert [t["kind"] for t in outcome.alerts.frontdesk["open_tasks"]] == ["arrival"]
    assert not written, written  # inserted (arrival, task) and updated (task) without a flush


def test_a_repeat_and_a_redelivery_are_cheap(engine: Engine, processor: ArrivalProcessor) -> None:
    first = _event(bench_plate(8))
    assert processor.handle_arrival(first).status == "alerted"
    outcome, statements = _statements(engine, processor, _event(bench_plate(8)))
    assert outcome.status == "repeat" and len(statements) <= 3, _listing(statements)  # lookup, match, insert
    outcome, statements = _statements(engine, processor, first)
    assert outcome.status == "duplicate" and len(statements) <= 2, _listing(statements)  # lookup, its row


def test_a_probable_match_is_matched_once(engine: Engine, processor: ArrivalProcessor) -> None:
    """A misread (one look-alike character) is matched once: the alert reuses its alternatives."""
    with Session(engine) as s:
        plates = set(s.exec(select(Vehicle.plate)).all())
    misread = next(
        m
        for i in range(20, 60)
        for m in confusable_variants(bench_plate(i))
        if m not in plates and is_valid_plate(m)
    )
    outcome, statements = _statements(engine, processor, _event(misread))
    assert outcome.status == "alerted" and outcome.alerts.frontdesk["match"] == "probable"
    # lookup, exact, alias, look-alikes, insert arrival; the car's file and task as for a known car
    assert len(statements) <= KNOWN_CAR_STATEMENTS + 2, _listing(statements)
    assert sum("FROM vehicle" in s for s in statements) == 3, statements  # exact, alias, look-alikes
