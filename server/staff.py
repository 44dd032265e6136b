"""Staff accounts: add, list, change password or role, disable and enable (`dealergate server user`).

A dealership's admin runs these on the server box; every change is checked here (one message per
problem, in Chinese and English), written in one transaction with an audit row naming who made it,
and takes effect at once: the session cookie carries a stamp of the password hash and role, so a
changed password or role, or a disabled account, logs that person out on their next request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from server.auth import create_staff_user, hash_password
from server.models import AuditLog, Role, Site, StaffUser

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,31}")
"""Login names: 2-32 lower-case letters, digits, `_ . -`, starting with a letter or digit."""
MIN_PASSWORD = 8


class StaffAccountError(ValueError):
    """A change that cannot be made; the message says why, in Chinese and English."""


class UnknownStaff(StaffAccountError):
    """No account has that login."""


class StaffExists(StaffAccountError):
    """The login is taken."""


@dataclass(frozen=True)
class StaffRow:
    username: str
    display_name: str
    role: Role
    site: str | None
    active: bool


def list_users(db: Session) -> list[StaffRow]:
    return [row_of(u) for u in db.exec(select(StaffUser).order_by(StaffUser.username)).all()]


def row_of(user: StaffUser) -> StaffRow:
    return StaffRow(user.username, user.display_name, Role(user.role), user.site, user.active)


def get_user(db: Session, username: str) -> StaffUser:
    """The account with this login, else `UnknownStaff`."""
    return _user(db, username)


def add_user(
    db: Session, username: str, display_name: str, role: str, password: str, *, site: str | None, by: str
) -> StaffUser:
    if not USERNAME.fullmatch(username):
        raise StaffAccountError(
            f"用户名 {username!r} 无效：2-32 位小写字母、数字或 _.- / invalid username {username!r}: "
            "2-32 lower-case letters, digits or _.-, starting with a letter or digit"
        )
    if db.exec(select(StaffUser).where(StaffUser.username == username)).first() is not None:
        raise StaffExists(f"用户 {username} 已存在 / user {username} already exists")
    name = display_name.strip()
    if not 1 <= len(name) <= 32:
        raise StaffAccountError("显示名须为 1-32 个字 / the display name must be 1-32 characters")
    if site is not None and db.exec(select(Site).where(Site.code == site)).first() is None:
        raise StaffAccountError(f"门店 {site} 未登记 / no store with code {site}")
    user = create_staff_user(db, username, name, _role(role), _checked_password(password), site=site)
    _audit(db, by, "staff.add", f"{username} {user.role} {site or ''}".strip())
    return user


def set_password(db: Session, username: str, password: str, *, by: str, by_role: str = "admin") -> None:
    """`by_role`: the role of whoever sets it (a person changing their own password keeps theirs)."""
    user = _user(db, username)
    user.password_hash = hash_password(_checked_password(password))
    db.add(user)
    _audit(db, by, "staff.password", username, role=by_role)


def set_role(db: Session, username: str, role: str, *, by: str) -> None:
    user = _user(db, username)
    user.role = _role(role).value
    db.add(user)
    _audit(db, by, "staff.role", f"{username} {user.role}")


def set_active(db: Session, username: str, active: bool, *, by: str) -> None:
    user = _user(db, username)
    user.active = active
    db.add(user)
    _audit(db, by, "staff.enable" if active else "staff.disable", username)


def _user(db: Session, username: str) -> StaffUser:
    user = db.exec(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None:
        raise UnknownStaff(f"没有用户 {username} / no user {username}")
    return user


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = " | ".join(r.value for r in Role)
        raise StaffAccountError(f"角色 {role!r} 无效 / unknown role {role!r}: {known}") from None


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or len(password) > 128:
        raise StaffAccountError(
            f"密码须为 {MIN_PASSWORD}-128 个字符 / the password must have {MIN_PASSWORD} to 128 characters"
        )
    return password


def _audit(db: Session, by: str, action: str, detail: str, *, role: str = "admin") -> None:
    """`by`: the admin's login, `cli:<system user>` from the command line, or the person themselves."""
    db.add(AuditLog(who=by[:32], role=role, action=action, detail=detail[:200]))
    db.flush()
