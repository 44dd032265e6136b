"""Read queries the screens share beyond one vehicle's file (see `matching` for that): who is on
shift and free, today's appointment of a customer, their open renewal tasks."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists
from sqlmodel import Session, col, func, or_, select

from server.db import local_day_bounds
from server.models import Appointment, RenewalTask, Role, StaffUser
from server.renewal import AdvisorState

OPEN_TASK = ("open", "in_progress")


@dataclass(frozen=True)
class Roster:
    """The active advisors as the router sees them, and their staff ids (the task is assigned by id)."""

    advisors: tuple[AdvisorState, ...]
    ids: dict[str, int]


# Built once, values bound at execution: they run on every arrival (see `server.matching`).
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
_APPOINTMENT_TODAY = (
    select(Appointment)
    .where(
        Appointment.customer_id == bindparam("customer_id"),
        or_(col(Appointment.vehicle_id).is_(None), Appointment.vehicle_id == bindparam("vehicle_id")),
        col(Appointment.scheduled_at) >= bindparam("day_start"),
        col(Appointment.scheduled_at) < bindparam("day_end"),
        col(Appointment.status).in_(("booked", "arrived")),
    )
    .order_by(col(Appointment.scheduled_at))
    .limit(1)
)
_OPEN_TASKS = (
    select(RenewalTask)
    .where(RenewalTask.vehicle_id == bindparam("vehicle_id"), col(RenewalTask.status).in_(OPEN_TASK))
    .order_by(col(RenewalTask.due_date), col(RenewalTask.id))
)


def advisor_states(session: Session, *, today: date, tz: ZoneInfo, served: Collection[int] = ()) -> Roster:
    """Active advisors as the router sees them: busy while a task of theirs is in progress, how many
    tasks they got today, and whether they have talked to this customer before (`served`: the staff
    ids in the customer's contact log). One query: it runs on every arrival, and tasks change with
    every arrival, so nothing here is cached."""
    start, end = local_day_bounds(today, tz)
    rows = session.exec(_ROSTER, params={"day_start": start, "day_end": end}).all()
    return Roster(
        tuple(
            AdvisorState(username, name, bool(busy), staff in served, n_today)
            for staff, username, name, busy, n_today in rows
        ),
        {username: staff for staff, username, *_ in rows},
    )


def appointment_today(
    session: Session, *, customer_id: int, vehicle_id: int, today: date, tz: ZoneInfo
) -> Appointment | None:
    """The customer's booked appointment today (for this car or none in particular), earliest first."""
    start, end = local_day_bounds(today, tz)
    params = {"customer_id": customer_id, "vehicle_id": vehicle_id, "day_start": start, "day_end": end}
    return session.exec(_APPOINTMENT_TODAY, params=params).first()


def open_tasks(session: Session, vehicle_id: int) -> list[RenewalTask]:
    """Renewal tasks of this car not done yet (the front desk's 'open reminders'), due first."""
    return list(session.exec(_OPEN_TASKS, params={"vehicle_id": vehicle_id}).all())
