"""Staff login and logout: a signed, HttpOnly session cookie; no tokens in browser storage."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field
from sqlmodel import select

from server.api.deps import SessionDep, SettingsDep
from server.auth import (
    SESSION_COOKIE,
    Staff,
    StaffSession,
    hash_password,
    new_session,
    sign_session,
    verify_password,
)
from server.logs import log_event
from server.models import Role, StaffUser

router = APIRouter(prefix="/api/v1", tags=["auth"])
log = logging.getLogger(__name__)
_DUMMY_HASH = hash_password("timing-equaliser")  # unknown users cost the same time as known ones


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class Me(BaseModel):
    username: str
    display_name: str
    role: Role
    home: str


_HOME = {
    Role.RECEPTIONIST: "/frontdesk",
    Role.ADVISOR: "/advisor",
    Role.MANAGER: "/dashboard",
    Role.ADMIN: "/frontdesk",
}
"""Screen each role lands on after login."""


def _me(s: StaffSession) -> Me:
    return Me(username=s.username, display_name=s.display_name, role=s.role, home=_HOME[s.role])


@router.post("/auth/login")
def login(
    body: LoginRequest, request: Request, response: Response, db: SessionDep, settings: SettingsDep
) -> Me:
    user = db.exec(select(StaffUser).where(StaffUser.username == body.username.strip())).first()
    ok = verify_password(body.password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.active:
        log_event(
            log,
            "auth.failed",
            level=logging.WARNING,
            username=body.username[:32],
            client=request.client.host if request.client else "",
        )
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password / 用户名或密码错误")
    session = new_session(
        user.id or 0, user.username, user.display_name, Role(user.role), settings.session_hours
    )
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(session, request.app.state.session_key),
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    log_event(log, "auth.login", username=user.username, role=user.role)
    return _me(session)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout() -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def me(staff: Staff) -> Me:
    return _me(staff)
