"""The daily jobs: the reminder run (90/60/30 tiers, contact timeline, idempotent) and the retention purge."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from dealergate.cli import app as cli
from server.auth import StaffSession, create_staff_user
from server.config import ServerSettings
from server.daily import run_daily_jobs, seconds_until
from server.db import make_engine
from server.migrate import upgrade_database
from server.models import (
    Arrival,
    ContactLog,
    Customer,
    PlateAlias,
    Policy,
    RenewalTask,
    Role,
    StaffUser,
    Vehicle,
)
from server.reminders import create_reminders
from server.retention import purge
from server.workflow import list_tasks

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 1)


@pytest.fixture
def engine(fresh_database_url: str) -> Engine:
    engine = make_engine(fresh_database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def add_car(s: Session, n: int, *ends: date) -> Vehicle:
    """A customer with one car and a policy ending on each of `ends`."""
    c = Customer(name=f"客户{n}", phone=f"1380000{n:04d}")
    s.add(c)
    s.flush()
    v = Vehicle(plate=f"粤A{n:05d}", brand="丰田", model="卡罗拉", customer_id=c.id)
    s.add(v)
    s.flush()
    for i, end in enumerate(ends):
        s.add(Policy(policy_no=f"P{n}-{i}", insurer="PICC", start_date=end - timedelta(days=365), end_date=end,
                     premium=4000, vehicle_id=v.id))  # fmt: skip
    s.flush()
    return v


def tasks_of(s: Session, v: Vehicle) -> set[tuple[str, str, date]]:
    rows = s.exec(select(RenewalTask).where(RenewalTask.vehicle_id == v.id)).all()
    return {(t.kind, t.step, t.due_date) for t in rows}


def test_reminders_follow_the_tiers_and_the_timeline_once(engine: Engine) -> None:
    with Session(engine) as s:
        a1 = create_staff_user(s, "adv1", "专员一", Role.ADVISOR, "password1")
        create_staff_user(s, "adv2", "专员二", Role.ADVISOR, "password2")
        end = lambda days: DAY + timedelta(days=days)
        far = add_car(s, 1, end(85))
        mid = add_car(s, 2, end(58))
        near = add_car(s, 3, end(20))
        today = add_car(s, 4, end(0))
        later = add_car(s, 5, end(120))
        lapsed = add_car(s, 6, end(-5))
        renewed = add_car(s, 7, end(20), end(385))
        lost = add_car(s, 8, end(40))
        s.add(ContactLog(customer_id=lost.customer_id, vehicle_id=lost.id, channel="phone", outcome="lost",
                         lapse_reason="price", at=datetime(2026, 2, 20, 10, tzinfo=UTC)))  # fmt: skip
        s.add(RenewalTask(vehicle_id=near.id, customer_id=near.customer_id, kind="arrival", due_date=DAY,
                          assigned_to=a1.id))  # fmt: skip
        s.commit()

        report = create_reminders(s, DAY, TZ)
        s.commit()
        assert (report.cars, report.tier_tasks, report.timeline_tasks) == (4, 4, 3)
        assert tasks_of(s, far) == {("reminder", "tier_90", end(85 - 90))}
        assert tasks_of(s, mid) == {("reminder", "tier_60", end(-2)), ("timeline", "first_contact", end(-2))}
        assert tasks_of(s, near) >= {("reminder", "tier_30", end(-10)), ("timeline", "push_again", end(-5))}
        assert tasks_of(s, today) == {("reminder", "tier_30", end(-30)), ("timeline", "lapse_warning", DAY)}
        for v in (later, lapsed, renewed, lost):
            assert tasks_of(s, v) == set(), v.plate
        near_new = s.exec(
            select(RenewalTask).where(RenewalTask.vehicle_id == near.id, RenewalTask.kind != "arrival")
        ).all()
        assert {t.assigned_to for t in near_new} == {a1.id}, "the advisor already working the car keeps it"
        counts = {}
        for t in s.exec(select(RenewalTask).where(RenewalTask.kind != "arrival")).all():
            counts[t.assigned_to] = counts.get(t.assigned_to, 0) + 1
        assert None not in counts and len(counts) == 2, "cars are spread over the active advisors"

        again = create_reminders(s, DAY, TZ)
        s.commit()
        assert (again.tier_tasks, again.timeline_tasks) == (0, 0), "a second run on the same day adds nothing"

        five_days_on = DAY + timedelta(days=5)
        create_reminders(s, five_days_on, TZ)
        s.commit()
        assert ("timeline", "follow_up", end(58 - 55)) in tasks_of(s, mid)
        assert sum(1 for k, step, _ in tasks_of(s, mid) if step == "tier_60") == 1
        mid_owner = s.exec(select(RenewalTask.assigned_to).where(RenewalTask.vehicle_id == mid.id)).first()
        user = s.get(StaffUser, mid_owner)
        staff = StaffSession(user.id, user.username, user.display_name, Role.ADVISOR, 2**31)
        overdue = list_tasks(s, staff, today=five_days_on, site="demo", which="overdue")
        assert ("first_contact", mid.id) in {(r.task.step, r.vehicle.id) for r in overdue}, (
            "missed steps surface"
        )


def test_retention_purges_snapshots_then_arrivals(engine: Engine) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with Session(engine) as s:
        v = add_car(s, 1, DAY)
        ages = {"fresh": 1, "old": 40, "ancient": 400}
        arrivals = {}
        for name, days in ages.items():
            a = Arrival(event_id=name, site="demo", camera="gate", plate=v.plate, confidence=0.9,
                        captured_at=now - timedelta(days=days), vehicle_id=v.id, crop_jpeg_b64="/9j/AAAA")  # fmt: skip
            s.add(a)
            s.flush()
            arrivals[name] = a.id
        task = RenewalTask(vehicle_id=v.id, kind="arrival", due_date=DAY, arrival_id=arrivals["ancient"])
        alias = PlateAlias(alias="粤A0000B", vehicle_id=v.id, arrival_id=arrivals["ancient"])
        s.add_all([task, alias])
        s.commit()
        report = purge(s, now, snapshot_days=30, arrival_days=365)
        s.commit()
        assert report.as_dict() == {"snapshots_purged": 2, "arrivals_deleted": 1}
        left = {a.event_id: a.crop_jpeg_b64 for a in s.exec(select(Arrival)).all()}
        assert left == {"fresh": "/9j/AAAA", "old": None}
        s.expire_all()
        assert (
            s.get(RenewalTask, task.id).arrival_id is None and s.get(PlateAlias, alias.id).arrival_id is None
        )
        assert purge(s, now, snapshot_days=30, arrival_days=365).as_dict() == {
            "snapshots_purged": 0,
            "arrivals_deleted": 0,
        }


def test_daily_jobs_run_both_and_schedule_at_the_hour(engine: Engine) -> None:
    settings = ServerSettings(database_url=str(engine.url.render_as_string(hide_password=False)))
    with Session(engine) as s:
        add_car(s, 1, DAY + timedelta(days=30))
        s.add(Arrival(event_id="e1", site="demo", camera="gate", plate="粤A00001", confidence=0.9,
                      captured_at=datetime(2024, 1, 1, tzinfo=UTC)))  # fmt: skip
        s.commit()
    done = run_daily_jobs(engine, settings, datetime(2026, 3, 1, 6, tzinfo=TZ))
    assert done == {
        "reminders": {"today": "2026-03-01", "cars": 1, "tier_tasks": 1, "timeline_tasks": 1},
        "retention": {"snapshots_purged": 0, "arrivals_deleted": 1},
    }
    assert seconds_until(6, datetime(2026, 3, 1, 5, 30, tzinfo=TZ)) == 1800
    assert seconds_until(6, datetime(2026, 3, 1, 6, 0, tzinfo=TZ)) == 86400
    assert seconds_until(6, datetime(2026, 3, 1, 23, 0, tzinfo=TZ)) == 7 * 3600


def test_remind_command(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'dg.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    with Session(engine) as s:
        add_car(s, 1, date(2026, 5, 1))
        s.commit()
    monkeypatch.setenv("DEALERGATE_DATABASE_URL", url)
    res = CliRunner().invoke(cli, ["server", "remind", "--today", "2026-03-02"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"today": "2026-03-02", "cars": 1, "tier_tasks": 1, "timeline_tasks": 1}
    res = CliRunner().invoke(cli, ["server", "remind", "--today", "2026-03-02"])
    assert json.loads(res.output)["tier_tasks"] == 0
    with Session(engine) as s:
        steps = s.exec(select(RenewalTask.step).order_by(col(RenewalTask.step))).all()
    assert steps == ["first_contact", "tier_60"]
    assert CliRunner().invoke(cli, ["server", "remind", "--today", "March"]).exit_code == 2
    engine.dispose()


def test_daily_loop_runs_the_jobs_at_the_hour_until_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from server import daily

    runs: list[int] = []
    waits: list[int] = []
    monkeypatch.setattr(daily, "seconds_until", lambda hour, now: waits.append(hour) or 0.0)
    monkeypatch.setattr(daily, "run_daily_jobs", lambda engine, settings: runs.append(1))
    settings = ServerSettings(daily_jobs_hour=4)

    async def main() -> None:
        task = daily.start_daily_jobs(None, settings)  # type: ignore[arg-type]
        while len(runs) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert daily.start_daily_jobs(None, ServerSettings(daily_jobs=False)) is None  # type: ignore[arg-type]

    asyncio.run(main())
    assert waits[:3] == [4, 4, 4]
