"""Renewal tasks written by the server itself: one per known car that drives in, for the advisor
the router picked (the tablet's queue item), so the next arrival goes to someone less loaded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, insert, update
from sqlmodel import Session

from server.db import table_of, utc_now
from server.matching import VehicleFile
from server.models import Arrival, RenewalTask
from server.renewal import Assessment

_TASK = table_of(RenewalTask)
# Built once, run on the session's connection without the ORM: every known car's arrival writes one
# (see `server.matching`). The table's defaults fill in what is not given (status open, timestamps).
_NEW_TASK = insert(_TASK).returning(_TASK.c.id)
_REFRESH_TASK = update(_TASK).where(_TASK.c.id == bindparam("task_id"))


def open_arrival_task(
    session: Session,
    arrival: Arrival,
    file: VehicleFile,
    a: Assessment,
    today: date,
    *,
    advisor_id: int | None,
    open_tasks: Sequence[Row[Any]],
) -> int:
    """The car's open arrival task, pointed at this arrival; created (for `advisor_id`, the staff id
    of the advisor the router picked) when there is none. `open_tasks`: the car's open tasks as the
    alert read them (`queries.open_tasks`), so the task is not looked up a second time. Returns the
    task's id."""
    latest = max(file.policies, key=lambda p: p.end_date, default=None)
    now = {
        "policy_id": latest.id if latest is not None else None,
        "step": a.step.key if a.step is not None else "",
        "arrival_id": arrival.id,
        "lane": a.routing.lane.value,
    }
    db = session.connection()
    task = next((t for t in open_tasks if t.kind == "arrival"), None)
    if task is not None:
        db.execute(_REFRESH_TASK, {"task_id": task.id, "updated_at": utc_now(), **now})
        return task.id
    new = {
        "vehicle_id": file.vehicle.id,
        "customer_id": file.customer.id if file.customer is not None else None,
        "kind": "arrival",
        "due_date": today,
        "assigned_to": advisor_id,
        **now,
    }
    return db.execute(_NEW_TASK, new).scalar_one()
