"""Reading the audit trail: who opened which customer's file, for managers and admins (PIPL);
the API and its page (/audit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel

from server.api.deps import MAX_ROW_ID, LocalDay, SessionDep, SettingsDep
from server.api.pages import _staff_page
from server.audit import AuditEntry, AuditFilter, query_audit, record_audit_reading
from server.auth import MANAGER_ROLES, StaffSession, require_roles

router = APIRouter(tags=["audit"])
Reviewer = Annotated[StaffSession, Depends(require_roles(MANAGER_ROLES))]


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before: int | None
    """Pass as `before` for the next, older page; null when this page is the last."""


@router.get("/api/v1/audit")
def audit_trail(
    db: SessionDep,
    settings: SettingsDep,
    staff: Reviewer,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="this customer's file")] = None,
    plate: Annotated[
        str | None, Query(min_length=2, max_length=16, description="the owner of this car")
    ] = None,
    who: Annotated[str | None, Query(min_length=1, max_length=32, description="staff login")] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    since: Annotated[LocalDay | None, Query(description="first local day")] = None,
    until: Annotated[LocalDay | None, Query(description="last local day (included)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="next_before of the last page")
    ] = None,
) -> AuditPage:
    """Audit rows, newest first, narrowed by every parameter given. This reading is itself
    recorded (action `read_audit`, the filter in `detail`)."""
    if since is not None and until is not None and since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"since {since} is after until {until} / 开始日期晚于结束日期",
        )
    where = AuditFilter(customer_id, plate, who, action, since, until)
    entries = query_audit(db, where, settings.tz, limit=limit, before_id=before)
    record_audit_reading(db, staff.username, staff.role.value, where)
    return AuditPage(
        entries=entries,
        next_before=entries[-1].id if len(entries) == limit else None,
    )


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request) -> Response:
    return _staff_page(request, "audit.html", MANAGER_ROLES)
