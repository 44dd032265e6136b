"""Front desk: "已接待" — the receptionist confirms a customer who drove in has been received.

The acknowledgement is stored on the arrival (`acknowledged_by` / `acknowledged_at`, first tap
wins: a second tap on another screen answers with the stored one), written to the audit log (who
received whom, when) and pushed to every front-desk screen; the front-desk payload carries it, so a
screen that reconnects or reloads shows it too. `persisted` in the answer says it was stored.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, status
from sqlmodel import select

from server.api.deps import HubDep, SessionDep, SettingsDep
from server.auth import FRONTDESK_ROLES, StaffSession, require_roles
from server.db import utc_now
from server.models import Arrival, AuditLog, Vehicle
from server.push import Audience

router = APIRouter(prefix="/api/v1", tags=["frontdesk"])


@router.post("/arrivals/{event_id}/ack")
def acknowledge_arrival(
    event_id: str,
    db: SessionDep,
    settings: SettingsDep,
    hub: HubDep,
    staff: Annotated[StaffSession, Depends(require_roles(FRONTDESK_ROLES))],
) -> dict[str, Any]:
    """Record that `staff` received this arrival and tell the other screens."""
    arrival = db.exec(select(Arrival).where(Arrival.event_id == event_id)).first()
    if arrival is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such arrival / 到店记录不存在")
    tz = settings.tz
    if arrival.acknowledged_at is not None:  # already received (another screen was quicker)
        return {**_ack(arrival, tz), "persisted": True}
    vehicle = db.get(Vehicle, arrival.vehicle_id) if arrival.vehicle_id is not None else None
    arrival.acknowledged_by = staff.display_name[:32]
    arrival.acknowledged_at = utc_now()
    db.add(arrival)
    db.add(
        AuditLog(
            who=staff.username,
            role=staff.role.value,
            action="acknowledge_arrival",
            customer_id=vehicle.customer_id if vehicle is not None else None,
            vehicle_id=arrival.vehicle_id,
            detail=event_id,
        )
    )
    db.commit()  # on record before the screens are told
    ack = _ack(arrival, tz)
    hub.publish_threadsafe({Audience.FRONTDESK: {"type": "ack", "data": ack}})
    return {**ack, "persisted": True}


def _ack(arrival: Arrival, tz: ZoneInfo) -> dict[str, Any]:
    at = arrival.acknowledged_at
    return {
        "event_id": arrival.event_id,
        "acknowledged_by": arrival.acknowledged_by,
        "acknowledged_at": at.astimezone(tz).isoformat(timespec="seconds") if at is not None else None,
    }
