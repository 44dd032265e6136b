"""Staff login and logout: a signed, HttpOnly session cookie; no tokens in browser storage."""

from __future__ import annotations

import logging
import math

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

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
from server.config import ServerSettings
from server.login_throttle import LoginThrottle
from server.logs import log_event
from server.models import Role, StaffUser
from server.staff import StaffAccountError, set_password

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
    return Me(username=s.username, display_name=s.display_name, role=s.role, home=home_of(s.role))


class LoginLocked(Exception):
    """Too many failed logins from this device lately: it may try again in `retry_after_s` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s

    def message(self) -> str:
        minutes = math.ceil(self.retry_after_s / 60)
        return (
            f"too many failed logins from this device: try again in {minutes} min / "
            f"登录失败次数过多，请 {minutes} 分钟后再试"
        )

    def as_http(self) -> HTTPException:
        """429 with the message and a Retry-After header."""
        return HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            self.message(),
            headers={"Retry-After": str(self.retry_after_s)},
        )


def authenticate(db: Session, username: str, password: str, request: Request) -> StaffUser | None:
    """The active staff user these credentials belong to, else None (and the failure is logged and
    counted against the device: `LoginLocked` once it has failed too often, whatever it sends).

    An unknown user costs the same scrypt run as a known one, so timing does not tell them apart.
    Shared by the JSON login and the login form's own POST.
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else ""
    wait = throttle.retry_after(client)
    if wait:
        log_event(
            log, "auth.locked", level=logging.WARNING, username=username[:32], client=client, wait_s=wait
        )
        raise LoginLocked(wait)
    user = db.exec(select(StaffUser).where(StaffUser.username == username.strip())).first()
    ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.active:
        throttle.failed(client)
        log_event(log, "auth.failed", level=logging.WARNING, username=username[:32], client=client)
        return None
    throttle.succeeded(client)
    return user


def start_session(
    response: Response, user: StaffUser, request: Request, settings: ServerSettings
) -> StaffSession:
    """Sign a session for `user` and set it on `response` as the HttpOnly, SameSite=Lax cookie."""
    session = new_session(user, settings.session_hours)
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
    return session


def home_of(role: Role) -> str:
    """The screen a role lands on after login."""
    return _HOME[role]


@router.post("/auth/login")
def login(
    body: LoginRequest, request: Request, response: Response, db: SessionDep, settings: SettingsDep
) -> Me:
    try:
        user = authenticate(db, body.username, body.password, request)
    except LoginLocked as locked:
        raise locked.as_http() from locked
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password / 用户名或密码错误")
    return _me(start_session(response, user, request, settings))


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current: str = Field(min_length=1, max_length=128)
    new: str = Field(min_length=1, max_length=256, description="8-128 characters")


@router.post("/me/password")
def change_my_password(
    body: PasswordChange,
    request: Request,
    response: Response,
    db: SessionDep,
    settings: SettingsDep,
    staff: Staff,
) -> Me:
    """The logged-in person sets a new password, proving the current one (a wrong one counts as a
    failed login). This device gets a new session; the person's other devices are logged out."""
    try:
        user = authenticate(db, staff.username, body.current, request)
    except LoginLocked as locked:
        raise locked.as_http() from locked
    if user is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "current password is wrong / 当前密码不正确")
    if body.new == body.current:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "the new password must differ from the current one / 新密码不能与当前密码相同",
        )
    try:
        set_password(db, user.username, body.new, by=user.username, by_role=user.role)
    except StaffAccountError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return _me(start_session(response, user, request, settings))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def logout() -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def me(staff: Staff) -> Me:
    return _me(staff)
