"""Read queries the screens share beyond one vehicle's file (see `matching` for that): who is on
shift and free, today's appointment of a customer, their open renewal tasks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Row, bindparam, exists
from sqlmodel import Session, col, func, or_, select

from server.db import local_day_bounds, table_of
from server.models import Appointment, RenewalTask, Role, StaffUser
from server.renewal import AdvisorState

OPEN_TASK = ("open", "in_progress")


@dataclass(frozen=True)
class Roster:
    """The active advisors as the router sees them, and their staff ids (the task is assigned by id)."""

    advisors: tuple[AdvisorState, ...]
    ids: dict[str, int]


# Built once, values bound at execution: they run on every arrival (see `server.matching`); those
# that return no entity to change run on the session's connection, without the ORM.
_TASKS_OF_ADVISOR = col(RenewalTask.assigned_to) == col(StaffUser.id)
_ROSTER = (
    select(
        StaffUser.id,
        StaffUser.username,
        StaffUser.display_name,
        # per advisor, two index range scans (assignee + status, assignee + creation time): an
        # advisor's tasks pile up over the years, those in progress or from today stay few
        exists().where(_TASKS_OF_ADVISOR, RenewalTask.status == "in_progress").correlate(StaffUser),
        select(func.count())
        .where(
            _TASKS_OF_ADVISOR,
            col(RenewalTask.created_at) >= bindparam("day_start"),
            col(RenewalTask.created_at) < bindparam("day_end"),
        )
        .correlate(StaffUser)
        .scalar_subquery(),
    )
    .where(StaffUser.role == Role.ADVISOR.value, col(StaffUser.active).is_(True))
    .order_by(col(StaffUser.id))
)
_APPOINTMENT = table_of(Appointment)
_APPOINTMENT_TODAY = (
    sa.select(_APPOINTMENT)
    .where(
        _APPOINTMENT.c.customer_id == bindparam("customer_id"),
        or_(_APPOINTMENT.c.vehicle_id.is_(None), _APPOINTMENT.c.vehicle_id == bindparam("vehicle_id")),
        _APPOINTMENT.c.scheduled_at >= bindparam("day_start"),
        _APPOINTMENT.c.scheduled_at < bindparam("day_end"),
        _APPOINTMENT.c.status.in_(("booked", "arrived")),
    )
    .order_by(_APPOINTMENT.c.scheduled_at)
    .limit(1)
)
_TASK = table_of(RenewalTask)
_OPEN_TASKS = (
    sa.select(_TASK)
    .where(_TASK.c.vehicle_id == bindparam("vehicle_id"), _TASK.c.status.in_(OPEN_TASK))
    .order_by(_TASK.c.due_date, _TASK.c.id)
)


def advisor_states(session: Session, *, today: date, tz: ZoneInfo, served: Collection[int] = ()) -> Roster:
    """Active advisors as the router sees them: busy while a task of theirs is in progress, how many
    tasks they got today, and whether they have talked to this customer before (`served`: the staff
    ids in the customer's contact log). One query: it runs on every arrival, and tasks change with
    every arrival, so nothing here is cached."""
    start, end = local_day_bounds(today, tz)
    rows = session.connection().execute(_ROSTER, {"day_start": start, "day_end": end}).all()
    return Roster(
        tuple(
            AdvisorState(username, name, bool(busy), staff in served, n_today)
            for staff, username, name, busy, n_today in rows
        ),
        {username: staff for staff, username, *_ in rows},
    )


def appointment_today(
    session: Session, *, customer_id: int, vehicle_id: int, today: date, tz: ZoneInfo
) -> Row[Any] | None:
    """The customer's booked appointment today (for this car or none in particular), earliest first:
    its `Appointment` row."""
    start, end = local_day_bounds(today, tz)
    params = {"customer_id": customer_id, "vehicle_id": vehicle_id, "day_start": start, "day_end": end}
    return session.connection().execute(_APPOINTMENT_TODAY, params).first()


def open_tasks(session: Session, vehicle_id: int) -> list[Row[Any]]:
    """`RenewalTask` rows of this car not done yet (the front desk's 'open reminders'), due first."""
    return list(session.connection().execute(_OPEN_TASKS, {"vehicle_id": vehicle_id}).all())
