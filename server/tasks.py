"""Renewal tasks written by the server itself: one per known car that drives in, for the advisor
the router picked (the tablet's queue item), so the next arrival goes to someone less loaded."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from server.matching import VehicleFile
from server.models import Arrival, RenewalTask
from server.queries import OPEN_TASK, staff_id
from server.renewal import Assessment


def open_arrival_task(
    session: Session, arrival: Arrival, file: VehicleFile, a: Assessment, today: date
) -> RenewalTask:
    """The car's open arrival task, pointed at this arrival; created when there is none."""
    advisor = staff_id(session, a.routing.advisor.username) if a.routing.advisor is not None else None
    task = session.exec(
        select(RenewalTask).where(
            RenewalTask.vehicle_id == file.vehicle.id,
            RenewalTask.kind == "arrival",
            col(RenewalTask.status).in_(OPEN_TASK),
        )
    ).first()
    if task is None:
        task = RenewalTask(
            vehicle_id=file.vehicle.id or 0,
            customer_id=file.customer.id if file.customer is not None else None,
            kind="arrival",
            due_date=today,
            assigned_to=advisor,
        )
    latest = max(file.policies, key=lambda p: p.end_date, default=None)
    task.policy_id = latest.id if latest is not None else None
    task.step = a.step.key if a.step is not None else ""
    task.arrival_id = arrival.id
    task.lane = a.routing.lane.value
    session.add(task)
    session.flush()
    return task
