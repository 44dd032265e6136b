"""Read queries the screens share beyond one vehicle's file (see `matching` for that): who is on
shift and free, today's appointment of a customer, their open renewal tasks."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, or_, select

from server.db import local_day_bounds
from server.models import Appointment, ContactLog, RenewalTask, Role, StaffUser
from server.renewal import AdvisorState

OPEN_TASK = ("open", "in_progress")


def advisor_states(
    session: Session, *, today: date, tz: ZoneInfo, customer_id: int | None = None
) -> tuple[AdvisorState, ...]:
    """Active advisors as the router sees them: busy while a task of theirs is in progress, how many
    tasks they got today, and whether they have talked to this customer before."""
    advisors = session.exec(
        select(StaffUser).where(StaffUser.role == Role.ADVISOR.value, col(StaffUser.active).is_(True))
    ).all()
    if not advisors:
        return ()
    ids = [a.id for a in advisors]
    busy = set(
        session.exec(
            select(RenewalTask.assigned_to).where(
                col(RenewalTask.assigned_to).in_(ids), RenewalTask.status == "in_progress"
            )
        ).all()
    )
    start, end = local_day_bounds(today, tz)
    load = dict(
        session.exec(
            select(RenewalTask.assigned_to, func.count())
            .where(
                col(RenewalTask.assigned_to).in_(ids),
                col(RenewalTask.created_at) >= start,
                col(RenewalTask.created_at) < end,
            )
            .group_by(col(RenewalTask.assigned_to))
        ).all()
    )
    known: set[int | None] = set()
    if customer_id is not None:
        known = set(
            session.exec(
                select(ContactLog.staff_id).where(
                    ContactLog.customer_id == customer_id, col(ContactLog.staff_id).in_(ids)
                )
            ).all()
        )
    return tuple(
        AdvisorState(a.username, a.display_name, a.id in busy, a.id in known, int(load.get(a.id, 0)))
        for a in advisors
    )


def appointment_today(
    session: Session, *, customer_id: int, vehicle_id: int, today: date, tz: ZoneInfo
) -> Appointment | None:
    """The customer's booked appointment today (for this car or none in particular), earliest first."""
    start, end = local_day_bounds(today, tz)
    return session.exec(
        select(Appointment)
        .where(
            Appointment.customer_id == customer_id,
            or_(col(Appointment.vehicle_id).is_(None), Appointment.vehicle_id == vehicle_id),
            col(Appointment.scheduled_at) >= start,
            col(Appointment.scheduled_at) < end,
            col(Appointment.status).in_(("booked", "arrived")),
        )
        .order_by(col(Appointment.scheduled_at))
    ).first()


def open_tasks(session: Session, vehicle_id: int) -> list[RenewalTask]:
    """Renewal tasks of this car not done yet (the front desk's 'open reminders'), due first."""
    return list(
        session.exec(
            select(RenewalTask)
            .where(RenewalTask.vehicle_id == vehicle_id, col(RenewalTask.status).in_(OPEN_TASK))
            .order_by(col(RenewalTask.due_date), col(RenewalTask.id))
        ).all()
    )


def staff_id(session: Session, username: str) -> int | None:
    return session.exec(select(StaffUser.id).where(StaffUser.username == username)).first()
