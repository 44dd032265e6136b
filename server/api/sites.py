"""The dealer group's stores (/api/v1/sites): every staff member reads them (the screens name the store
that holds a car's file), only admins add or change one. A store's code is fixed once created: it is
the site id of the MQTT topics, on every arrival and in every file filed there.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from server import sites
from server.api.deps import SessionDep, SettingsDep
from server.api.fields import SITE_CODE, screen_text
from server.auth import STAFF_ROLES, StaffSession, require_roles
from server.db import utc_now
from server.logs import log_event
from server.models import Role, Site

router = APIRouter(prefix="/api/v1", tags=["sites"])
log = logging.getLogger(__name__)
Reader = Annotated[StaffSession, Depends(require_roles(STAFF_ROLES))]
Admin = Annotated[StaffSession, Depends(require_roles(frozenset({Role.ADMIN})))]

Code = Annotated[str, StringConstraints(pattern=SITE_CODE)]
NameZh = screen_text(1, 64)
NameEn = screen_text(0, 128)
Brands = Annotated[list[screen_text(1, 32)], Field(max_length=20, description="brands sold (在售品牌)")]  # type: ignore[misc]
Address = screen_text(0, 200)
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^[0-9+()\- ]*$")]
CodeInPath = Annotated[str, Path(pattern=SITE_CODE, description="site code, as in the MQTT topics")]


class SiteCreate(BaseModel):
    """A new store; bodies name exactly these fields (an unknown one is a 422)."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    name_zh: NameZh
    name_en: NameEn = ""
    brands: Brands = []
    address: Address = ""
    phone: Phone = ""
    active: bool = True


class SiteUpdate(BaseModel):
    """A partial change: only the fields sent are changed; the code never changes."""

    model_config = ConfigDict(extra="forbid")

    name_zh: NameZh | None = None
    name_en: NameEn | None = None
    brands: Brands | None = None
    address: Address | None = None
    phone: Phone | None = None
    active: bool | None = None


class SiteOut(BaseModel):
    """A store as staff see it (`sites.full`); `current`: the store this server runs."""

    code: str
    name_zh: str
    name_en: str
    brands: list[str]
    address: str
    phone: str
    active: bool
    current: bool
    updated_at: str = Field(description="last change, ISO 8601 with its UTC offset")


class SiteList(BaseModel):
    current: str = Field(description="this server's own site code (settings.site)")
    sites: list[SiteOut] = Field(description="every store, this server's own first")


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed (reading: any staff; writing: admins)"},
}


def _unprocessable(msg: str, field: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"type": "value_error", "loc": ["body", field], "msg": msg, "input": None}],
    )


@router.get("/sites", response_model=SiteList, responses=_ERRORS)
def list_sites(db: SessionDep, settings: SettingsDep, staff: Reader) -> dict[str, Any]:
    """Every store of the group, this server's own first (`current`), with address and phone."""
    return {
        "current": settings.site,
        "sites": [sites.full(s, settings.site) for s in sites.ordered(db, settings.site)],
    }


@router.post(
    "/sites",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteOut,
    responses={**_ERRORS, 409: {"description": "the code is taken"}},
)
def create_site(body: SiteCreate, db: SessionDep, settings: SettingsDep, staff: Admin) -> dict[str, Any]:
    """Register a store (a sister store before importing its files); a taken code is a 409."""
    site = Site(**body.model_dump())
    db.add(site)
    try:
        db.commit()
    except IntegrityError as exc:  # the unique code
        db.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, f"site {body.code} exists / 门店代码已存在") from exc
    db.refresh(site)
    log_event(log, "site.created", site=site.code, who=staff.username)
    return sites.full(site, settings.site)


@router.patch(
    "/sites/{code}", response_model=SiteOut, responses={**_ERRORS, 404: {"description": "no such site"}}
)
def update_site(
    code: CodeInPath, body: SiteUpdate, db: SessionDep, settings: SettingsDep, staff: Admin
) -> dict[str, Any]:
    """Change a store's names, brands, address, phone or active flag (this server's own stays active)."""
    site = db.exec(select(Site).where(Site.code == code)).first()
    if site is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such site / 没有这个门店")
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise _unprocessable(f"{field}: may not be null / 不能为空", field)
    if changes.get("active") is False and code == settings.site:
        raise _unprocessable("active: this server's own store stays active / 本店不能停用", "active")
    for field, value in changes.items():
        setattr(site, field, value)
    site.updated_at = utc_now()
    db.add(site)
    db.commit()
    db.refresh(site)
    log_event(log, "site.updated", site=site.code, who=staff.username, fields=",".join(sorted(changes)))
    return sites.full(site, settings.site)
