"""Renewal tasks written by the server itself: one per known car that drives in, for the advisor
the router picked (the tablet's queue item), so the next arrival goes to someone less loaded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session

from server.matching import VehicleFile
from server.models import Arrival, RenewalTask
from server.renewal import Assessment


def open_arrival_task(
    session: Session,
    arrival: Arrival,
    file: VehicleFile,
    a: Assessment,
    today: date,
    *,
    advisor_id: int | None,
    open_tasks: Sequence[RenewalTask],
) -> RenewalTask:
    """The car's open arrival task, pointed at this arrival; created (for `advisor_id`, the staff id
    of the advisor the router picked) when there is none. `open_tasks`: the car's open tasks as the
    alert read them (`queries.open_tasks`), so the task is not looked up a second time."""
    task = next((t for t in open_tasks if t.kind == "arrival"), None)
    if task is None:
        task = RenewalTask(
            vehicle_id=file.vehicle.id or 0,
            customer_id=file.customer.id if file.customer is not None else None,
            kind="arrival",
            due_date=today,
            assigned_to=advisor_id,
        )
    latest = max(file.policies, key=lambda p: p.end_date, default=None)
    task.policy_id = latest.id if latest is not None else None
    task.step = a.step.key if a.step is not None else ""
    task.arrival_id = arrival.id
    task.lane = a.routing.lane.value
    session.add(task)
    return task
