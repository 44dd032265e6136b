"""The day's arrivals for staff screens (the same payloads the WebSocket pushes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from server.alerts import list_alerts
from server.api.deps import SessionDep, SettingsDep
from server.auth import STAFF_ROLES, StaffSession, require_roles
from server.db import local_today
from server.models import Role

router = APIRouter(prefix="/api/v1", tags=["arrivals"])


@router.get("/arrivals")
def arrivals(
    db: SessionDep,
    settings: SettingsDep,
    staff: Annotated[StaffSession, Depends(require_roles(STAFF_ROLES))],
    date: Annotated[dt.date | None, Query(description="local date, default today")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    """Alerted arrivals of `date`, newest first; advisors and managers get the advisor payload."""
    tz = settings.tz
    day = date or local_today(tz)
    audience = "frontdesk" if staff.role == Role.RECEPTIONIST else "advisor"
    return {
        "date": day.isoformat(),
        "arrivals": list_alerts(db, day, tz, audience, limit=limit, today=local_today(tz)),
    }
