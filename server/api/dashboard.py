"""Manager dashboard (经理看板): the page, its figures as JSON, and each table as a CSV download.

Managers and admins only. The figures are counts (server.stats), never customer rows, so an export
cannot become a customer list; each export is still written to the audit log (who took what).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from sqlmodel import select

from server import sites, stats
from server.api.deps import SessionDep, SettingsDep
from server.api.fields import SITE_CODE
from server.api.pages import _staff_page
from server.auth import MANAGER_ROLES, StaffSession, require_roles
from server.db import local_today
from server.logs import log_event
from server.models import AuditLog, Site

router = APIRouter(tags=["dashboard"])
log = logging.getLogger(__name__)
Manager = Annotated[StaffSession, Depends(require_roles(MANAGER_ROLES))]
Weeks = Annotated[int, Query(ge=1, le=53, description="complete weeks before this one")]
Days = Annotated[int, Query(ge=1, le=92, description="days of arrivals, today included")]
SiteCode = Annotated[
    str | None,
    Query(pattern=SITE_CODE, description="one store's figures (its code); none: the whole group"),
]


def board_scope(
    db: SessionDep, settings: SettingsDep, weeks: Weeks = 12, days: Days = 14, site: SiteCode = None
) -> stats.BoardScope:
    """The period and the store asked for; 404 for a store code that names no store."""
    if site is None:
        return stats.BoardScope(weeks, days)
    if db.exec(select(Site.id).where(Site.code == site)).first() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such store / 没有这个门店")
    return stats.BoardScope(weeks, days, stats.SiteScope(site, own=site == settings.site))


Scope = Annotated[stats.BoardScope, Depends(board_scope)]


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    return _staff_page(request, "dashboard.html", MANAGER_ROLES)


@router.get("/api/v1/dashboard")
def dashboard(db: SessionDep, settings: SettingsDep, staff: Manager, scope: Scope) -> dict[str, Any]:
    """Headline figures, tables and chart series of the dashboard, computed now, of the whole group or
    of one store; `sites` lists the stores to choose from (this server's own first)."""
    board = stats.dashboard(db, local_today(settings.tz), settings.tz, scope)
    choices = [
        {**sites.name_of(s).label(), "current": s.code == settings.site}
        for s in sites.ordered(db, settings.site)
    ]
    return {**board, "sites": choices}


@router.get("/api/v1/dashboard/{key}.csv")
def dashboard_csv(
    key: str,
    db: SessionDep,
    settings: SettingsDep,
    staff: Manager,
    scope: Scope,
    lang: Literal["zh-CN", "en"] = "zh-CN",
) -> Response:
    """One table as CSV (UTF-8 with BOM: Excel otherwise shows the Chinese as mojibake)."""
    today = local_today(settings.tz)
    parts = stats.dashboard_parts(db, today, settings.tz, scope)
    site = scope.site.code if scope.site is not None else None
    table = next((t for t, _ in parts if t.key == key), None)
    if table is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such table / 没有这个报表")
    detail = key if site is None else f"{key} site={site}"
    db.add(AuditLog(who=staff.username, role=staff.role.value, action="export_dashboard", detail=detail))
    db.commit()
    log_event(log, "audit.export_dashboard", who=staff.username, table=key, site=site)
    filename = f"dealergate-{key}-{site or 'all'}-{today.isoformat()}.csv"
    return Response(
        stats.csv_text(table, lang),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
