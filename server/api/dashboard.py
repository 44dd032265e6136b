"""Manager dashboard (经理看板): the page, its figures as JSON, and each table as a CSV download.

Managers and admins only. The figures are counts (server.stats), never customer rows, so an export
cannot become a customer list; each export is still written to the audit log (who took what).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response

from server import stats
from server.api.deps import SessionDep, SettingsDep
from server.api.pages import _staff_page
from server.auth import StaffSession, require_roles
from server.db import local_today
from server.logs import log_event
from server.models import AuditLog, Role

router = APIRouter(tags=["dashboard"])
log = logging.getLogger(__name__)
MANAGER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
Manager = Annotated[StaffSession, Depends(require_roles(MANAGER_ROLES))]
Weeks = Annotated[int, Query(ge=1, le=53, description="complete weeks before this one")]
Days = Annotated[int, Query(ge=1, le=92, description="days of arrivals, today included")]


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    return _staff_page(request, "dashboard.html", MANAGER_ROLES)


@router.get("/api/v1/dashboard")
def dashboard(
    db: SessionDep, settings: SettingsDep, staff: Manager, weeks: Weeks = 12, days: Days = 14
) -> dict[str, Any]:
    """Headline figures, tables and chart series of the dashboard, computed now."""
    return stats.dashboard(db, local_today(settings.tz), settings.tz, weeks=weeks, days=days)


@router.get("/api/v1/dashboard/{key}.csv")
def dashboard_csv(
    key: str,
    db: SessionDep,
    settings: SettingsDep,
    staff: Manager,
    weeks: Weeks = 12,
    days: Days = 14,
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> Response:
    """One table as CSV (UTF-8 with BOM: Excel otherwise shows the Chinese as mojibake)."""
    today = local_today(settings.tz)
    parts = stats.dashboard_parts(db, today, settings.tz, weeks=weeks, days=days)
    table = next((t for t, _ in parts if t.key == key), None)
    if table is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such table / 没有这个报表")
    db.add(AuditLog(who=staff.username, role=staff.role.value, action="export_dashboard", detail=key))
    db.commit()
    log_event(log, "audit.export_dashboard", who=staff.username, table=key)
    filename = f"dealergate-{key}-{today.isoformat()}.csv"
    return Response(
        stats.csv_text(table, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
