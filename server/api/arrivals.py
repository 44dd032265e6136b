"""The day's arrivals for staff screens (the same payloads the WebSocket pushes), and correcting
which car an arrival was."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import select

from server.alerts import build_alerts, list_alerts
from server.api.deps import HubDep, LocalDay, SessionDep, SettingsDep
from server.audit import customer_ids_of, record_access
from server.auth import STAFF_ROLES, StaffSession, require_roles
from server.corrections import UnknownPlate, correct_match
from server.db import local_today
from server.models import Arrival, Role, Vehicle
from server.push import Audience

router = APIRouter(prefix="/api/v1", tags=["arrivals"])
StaffDep = Annotated[StaffSession, Depends(require_roles(STAFF_ROLES))]


def _audience(staff: StaffSession) -> str:
    """Receptionists get the front-desk payload (no phone, no pricing); everyone else the advisor's."""
    return "frontdesk" if staff.role == Role.RECEPTIONIST else "advisor"


@router.get("/arrivals")
def arrivals(
    db: SessionDep,
    settings: SettingsDep,
    staff: StaffDep,
    date: Annotated[LocalDay | None, Query(description="local date, default today")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    """Alerted arrivals of `date`, newest first; advisors and managers get the advisor payload."""
    tz = settings.tz
    day = date or local_today(tz)
    listed = list_alerts(db, day, tz, _audience(staff), limit=limit, today=local_today(tz))
    record_access(db, staff, "list_arrivals", customer_ids_of(listed), detail=day.isoformat())
    return {"date": day.isoformat(), "arrivals": listed}


class MatchCorrection(BaseModel):
    plate: str | None = Field(
        description="the car's real plate as on file, or null: this arrival is no customer's car",
        max_length=16,
    )


@router.post("/arrivals/{event_id}/match")
def correct_arrival_match(
    event_id: str, body: MatchCorrection, db: SessionDep, settings: SettingsDep, hub: HubDep, staff: StaffDep
) -> dict[str, Any]:
    """Correct a wrong or probable match; the screens get the arrival again, as corrected."""
    arrival = db.exec(select(Arrival).where(Arrival.event_id == event_id)).first()
    if arrival is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such arrival / 到店记录不存在")
    try:
        fix = correct_match(db, arrival, body.plate, staff.username)
    except UnknownPlate as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"车牌 {exc} 未建档 / no vehicle with plate {exc}"
        ) from exc
    owners = [
        v.customer_id
        for v in (db.get(Vehicle, i) for i in (fix.previous_vehicle_id, arrival.vehicle_id) if i is not None)
        if v is not None
    ]
    record_access(
        db,
        staff,
        "correct_match",
        owners,
        vehicle_id=arrival.vehicle_id,
        detail=f"{event_id}: alias {fix.alias.alias if fix.alias else '-'}",
    )
    tz = settings.tz
    alerts = build_alerts(db, arrival, local_today(tz), tz)
    db.commit()  # the screens must not show what the database does not hold
    hub.publish_threadsafe(
        {
            Audience.FRONTDESK: {"type": "arrival", "data": alerts.frontdesk},
            Audience.ADVISOR: {"type": "arrival", "data": alerts.advisor},
        }
    )
    return {
        "alias": fix.alias.alias if fix.alias is not None else None,
        "removed_alias": fix.removed_alias,
        "arrival": getattr(alerts, _audience(staff)),
    }
