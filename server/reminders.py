"""The daily reminder run (续保清单): renewal tasks at the 90 / 60 / 30-day tiers and at each step of
the insurer contact timeline, for every car whose latest policy runs out within 90 days.

Idempotent: a task is keyed by (policy, kind, step) and created at most once whatever its status,
so running twice a day, or again after a restart, adds nothing. Only the tier and the step a car
has reached today are created; earlier ones missed while the server was off are not back-filled
(the task still open from then shows as overdue in the advisor's queue instead).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from server.db import session_scope
from server.logs import log_event
from server.models import ContactLog, Policy, RenewalTask, Role, StaffUser, Vehicle
from server.queries import OPEN_TASK
from server.renewal import contact_step, reminder_tier
from server.renewal.facts import ContactOutcome

log = logging.getLogger(__name__)
HORIZON_DAYS = 90
"""The renewal list starts 90 days before expiry (the first reminder tier)."""
BATCH = 500
DECIDED = (ContactOutcome.RENEWED.value, ContactOutcome.LOST.value)


@dataclass(frozen=True)
class RemindReport:
    today: date
    cars: int
    """Cars whose latest policy ends within the horizon (and not yet decided)."""
    tier_tasks: int
    timeline_tasks: int

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "cars": self.cars,
            "tier_tasks": self.tier_tasks,
            "timeline_tasks": self.timeline_tasks,
        }


def _chunks(items: Sequence[int], size: int = BATCH) -> Iterator[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def due_policies(session: Session, today: date) -> list[tuple[Policy, int | None]]:
    """(latest policy, owner id) of each car whose cover ends between today and the horizon."""
    rows = session.exec(
        select(Policy, Vehicle.customer_id)
        .join(Vehicle, col(Vehicle.id) == Policy.vehicle_id)
        .where(col(Policy.end_date) >= today, col(Policy.end_date) <= today + timedelta(days=HORIZON_DAYS))
        .order_by(col(Policy.vehicle_id), col(Policy.end_date))
    ).all()
    latest: dict[int, tuple[Policy, int | None]] = {}
    for policy, owner in rows:
        latest[policy.vehicle_id] = (policy, owner)  # ordered by end date: the last one wins
    ids = list(latest)
    for chunk in _chunks(ids):
        # a car already renewed has a later policy: nothing to remind
        for vid, newest in session.exec(
            select(Policy.vehicle_id, func.max(Policy.end_date))
            .where(col(Policy.vehicle_id).in_(chunk))
            .group_by(col(Policy.vehicle_id))
        ).all():
            if newest > latest[vid][0].end_date:
                del latest[vid]
    return list(latest.values())


def _decided(session: Session, vehicle_ids: Sequence[int], since: datetime) -> set[int]:
    """Cars whose renewal was already won or lost (a contact said so) in this renewal season."""
    return set(
        session.exec(
            select(ContactLog.vehicle_id).where(
                col(ContactLog.vehicle_id).in_(vehicle_ids),
                col(ContactLog.outcome).in_(DECIDED),
                col(ContactLog.at) >= since,
            )
        ).all()
    )


class _Assigner:
    """Who gets a new task: whoever already works the car, else the active advisor with the fewest open tasks."""

    def __init__(self, session: Session) -> None:
        ids = session.exec(
            select(StaffUser.id).where(StaffUser.role == Role.ADVISOR.value, col(StaffUser.active).is_(True))
        ).all()
        self.load: Counter[int] = Counter({i: 0 for i in ids if i is not None})
        for who, n in session.exec(
            select(RenewalTask.assigned_to, func.count())
            .where(col(RenewalTask.status).in_(OPEN_TASK), col(RenewalTask.assigned_to).is_not(None))
            .group_by(col(RenewalTask.assigned_to))
        ).all():
            if who in self.load:
                self.load[who] = n

    def pick(self, current: int | None) -> int | None:
        if current in self.load:
            chosen: int | None = current
        elif self.load:
            chosen = min(self.load, key=lambda i: (self.load[i], i))
        else:
            return None
        self.load[chosen] += 1  # type: ignore[index]
        return chosen


def create_reminders(session: Session, today: date, tz: ZoneInfo) -> RemindReport:
    """One day's reminder run in the caller's transaction; see the module docstring."""
    due = due_policies(session, today)
    assigner = _Assigner(session)
    since = datetime.combine(today - timedelta(days=HORIZON_DAYS + 30), time.min, tzinfo=tz)
    cars = tiers = steps = 0
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        vehicle_ids = [p.vehicle_id for p, _ in batch]
        decided = _decided(session, vehicle_ids, since)
        existing = {
            (pid, kind, step)
            for pid, kind, step in session.exec(
                select(RenewalTask.policy_id, RenewalTask.kind, RenewalTask.step).where(
                    col(RenewalTask.policy_id).in_([p.id for p, _ in batch]),
                    col(RenewalTask.kind).in_(("reminder", "timeline")),
                )
            ).all()
        }
        working = dict(
            session.exec(
                select(RenewalTask.vehicle_id, func.max(RenewalTask.assigned_to))
                .where(col(RenewalTask.vehicle_id).in_(vehicle_ids), col(RenewalTask.status).in_(OPEN_TASK))
                .group_by(col(RenewalTask.vehicle_id))
            ).all()
        )
        for policy, owner in batch:
            if policy.vehicle_id in decided:
                continue
            cars += 1
            days = (policy.end_date - today).days
            wanted: list[tuple[str, str, date]] = []
            tier = reminder_tier(days)
            if isinstance(tier, int):
                wanted.append(("reminder", f"tier_{tier}", policy.end_date - timedelta(days=tier)))
            step = contact_step(days)
            if step is not None:
                wanted.append(("timeline", step.key, policy.end_date - timedelta(days=step.day)))
            for kind, key, due_date in wanted:
                if (policy.id, kind, key) in existing:
                    continue
                session.add(
                    RenewalTask(
                        vehicle_id=policy.vehicle_id,
                        customer_id=owner,
                        policy_id=policy.id,
                        kind=kind,
                        step=key,
                        due_date=due_date,
                        assigned_to=(who := assigner.pick(working.get(policy.vehicle_id))),
                    )
                )
                working[policy.vehicle_id] = who  # the car's other tasks go to the same advisor
                existing.add((policy.id, kind, key))
                tiers += kind == "reminder"
                steps += kind == "timeline"
        session.flush()
    return RemindReport(today, cars, tiers, steps)


def run_reminders(engine: Engine, today: date, tz: ZoneInfo) -> RemindReport:
    """The job: one transaction, logged."""
    with session_scope(engine) as session:
        report = create_reminders(session, today, tz)
    log_event(log, "reminders.done", **report.as_dict())
    return report
