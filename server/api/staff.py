"""Staff accounts for admins (/api/v1/staff and the page /staff): the same checks, audit rows and
instant session ends as `dealergate server user` (server.staff), from a browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import SessionDep
from server.api.pages import _staff_page
from server.auth import StaffSession, require_roles
from server.models import Role
from server.staff import (
    StaffAccountError,
    StaffExists,
    StaffRow,
    UnknownStaff,
    add_user,
    get_user,
    list_users,
    row_of,
    set_active,
    set_password,
    set_role,
)

router = APIRouter(tags=["staff"])
ADMIN_ROLES = frozenset({Role.ADMIN})
Admin = Annotated[StaffSession, Depends(require_roles(ADMIN_ROLES))]
Login = Annotated[str, Path(min_length=1, max_length=32, description="the account's login")]
Password = Annotated[str, Field(min_length=1, max_length=256, description="8-128 characters")]


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    display_name: str = Field(max_length=64)
    role: str = Field(max_length=16)
    site: str | None = Field(default=None, max_length=63, description="store code; default: this server's")
    password: Password


class StaffChange(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, max_length=16)
    active: bool | None = None
    password: Password | None = None


def _refused(exc: StaffAccountError) -> HTTPException:
    code = {UnknownStaff: status.HTTP_404_NOT_FOUND, StaffExists: status.HTTP_409_CONFLICT}.get(
        type(exc), status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    return HTTPException(code, str(exc))


@router.get("/api/v1/staff")
def staff_accounts(db: SessionDep, admin: Admin) -> list[StaffRow]:
    return list_users(db)


@router.post("/api/v1/staff", status_code=status.HTTP_201_CREATED)
def add_staff_account(body: StaffCreate, db: SessionDep, request: Request, admin: Admin) -> StaffRow:
    site = body.site or request.app.state.settings.site
    try:
        user = add_user(
            db, body.username, body.display_name, body.role, body.password, site=site, by=admin.username
        )
    except StaffAccountError as exc:
        raise _refused(exc) from exc
    return row_of(user)


@router.patch("/api/v1/staff/{username}")
def change_staff_account(username: Login, body: StaffChange, db: SessionDep, admin: Admin) -> StaffRow:
    """A new password, role or active flag ends that person's open sessions at once. An admin
    cannot disable their own account or change their own role (nobody would be left to undo it)."""
    if username == admin.username and (body.role is not None or body.active is False):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "不能停用自己的账号或更改自己的角色 / you cannot disable your own account or change your own role",
        )
    try:
        get_user(db, username)
        if body.password is not None:
            set_password(db, username, body.password, by=admin.username)
        if body.role is not None:
            set_role(db, username, body.role, by=admin.username)
        if body.active is not None:
            set_active(db, username, body.active, by=admin.username)
    except StaffAccountError as exc:
        raise _refused(exc) from exc
    return row_of(get_user(db, username))


@router.get("/staff", include_in_schema=False)
def staff_page(request: Request) -> Response:
    return _staff_page(request, "staff.html", ADMIN_ROLES)
