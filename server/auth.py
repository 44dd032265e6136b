"""Staff authentication: scrypt password hashes, HMAC-signed session cookies, role dependencies.

Standard library only (hashlib.scrypt, hmac): nothing to install on the dealership's box and
nothing clever. Roles are FastAPI dependencies so a route states who may call it in its signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.requests import HTTPConnection
from sqlmodel import Session

from server.db import request_session, session_scope
from server.models import Role, StaffUser

SESSION_COOKIE = "dg_session"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

FRONTDESK_ROLES = frozenset({Role.RECEPTIONIST, Role.MANAGER, Role.ADMIN})
ADVISOR_ROLES = frozenset({Role.ADVISOR, Role.MANAGER, Role.ADMIN})
MANAGER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
STAFF_ROLES = frozenset(Role)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash`, parameters stored so they can be raised later without a migration."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return "$".join(
        (
            "scrypt",
            str(_SCRYPT_N),
            str(_SCRYPT_R),
            str(_SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        )
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if algo != "scrypt":
            return False
        expected = base64.b64decode(digest_b64)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt_b64),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True)
class StaffSession:
    """Who is logged in, as carried by the signed cookie. `stamp` is the account's `account_stamp`
    at login: each request checks it against the account (one primary-key read), so a changed
    password or role, or a disabled account, ends the session at once."""

    user_id: int
    username: str
    display_name: str
    role: Role
    expires_at: int
    stamp: str = ""


def account_stamp(user: StaffUser) -> str:
    """Changes whenever the account's password or role does (the hash is salted anew each time)."""
    return hashlib.sha256(f"{user.password_hash}\x00{user.role}".encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_session(session: StaffSession, key: bytes) -> str:
    body = _b64(
        json.dumps(
            {
                "uid": session.user_id,
                "u": session.username,
                "n": session.display_name,
                "r": session.role.value,
                "exp": session.expires_at,
                "s": session.stamp,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
    )
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_session(token: str | None, key: bytes, *, now: float | None = None) -> StaffSession | None:
    """The session in a cookie value, or None when missing, tampered with or expired."""
    if not token or "." not in token:
        return None
    body, mac = token.rsplit(".", 1)
    expected = hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        data = json.loads(_unb64(body))
        session = StaffSession(
            int(data["uid"]),
            str(data["u"]),
            str(data["n"]),
            Role(data["r"]),
            int(data["exp"]),
            str(data["s"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires_at > (now if now is not None else time.time()) else None


def new_session(user: StaffUser, hours: float) -> StaffSession:
    return StaffSession(
        user.id or 0,
        user.username,
        user.display_name,
        Role(user.role),
        int(time.time() + hours * 3600),
        account_stamp(user),
    )


def session_from(conn: HTTPConnection, db: Session) -> StaffSession | None:
    """The staff session of an HTTP request or WebSocket handshake (both carry the cookie), or None
    when there is none, it is forged or expired, or its account has since been disabled or had its
    password or role changed."""
    session = read_session(conn.cookies.get(SESSION_COOKIE), conn.app.state.session_key)
    if session is None:
        return None
    user = db.get(StaffUser, session.user_id)
    if user is None or not user.active or account_stamp(user) != session.stamp:
        return None
    return session


def staff_of(conn: HTTPConnection) -> StaffSession | None:
    """`session_from` in a unit of work of its own: for page routes and WebSocket handshakes, which
    have no request session (a handshake calls this in the thread pool: it reads the database)."""
    with session_scope(conn.app.state.engine) as db:
        return session_from(conn, db)


def current_staff(request: Request, db: Annotated[Session, Depends(request_session)]) -> StaffSession:
    """Dependency: the logged-in staff member, else 401."""
    session = session_from(request, db)
    if session is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "login required / 请先登录")
    return session


def require_roles(roles: frozenset[Role]) -> Callable[[StaffSession], StaffSession]:
    """Dependency factory: the logged-in staff member if their role is in `roles`, else 403."""

    def _check(staff: Annotated[StaffSession, Depends(current_staff)]) -> StaffSession:
        if staff.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "role not allowed / 无权限")
        return staff

    return _check


Staff = Annotated[StaffSession, Depends(current_staff)]


def create_staff_user(
    session: Session,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    *,
    site: str | None = None,
) -> StaffUser:
    """Add a staff account (the CLI's `adduser` and the demo seed both come through here); `site`:
    the store the person works at (a site code)."""
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    user = StaffUser(
        username=username,
        display_name=display_name,
        role=Role(role).value,
        password_hash=hash_password(password),
        site=site,
    )
    session.add(user)
    session.flush()
    return user
