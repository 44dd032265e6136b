"""The browser screens: static files from kiosk/, staff pages behind the login.

Pages carry a strict Content-Security-Policy (same origin only, no inline script): the screens
load nothing from the internet, so nothing on them can be swapped by a third party.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError

from server.api.auth import LoginLocked, LoginRequest, authenticate, home_of, start_session
from server.api.deps import SessionDep, SettingsDep
from server.auth import ADVISOR_ROLES, FRONTDESK_ROLES, STAFF_ROLES, staff_of
from server.config import DEFAULT_KIOSK_TOKEN
from server.models import Role

router = APIRouter(include_in_schema=False)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self' ws: wss:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
)


def _page(request: Request, name: str) -> Response:
    path: Path = request.app.state.settings.pages_dir / name
    return FileResponse(
        path,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def _staff_page(request: Request, name: str, roles: frozenset[Role]) -> Response:
    staff = staff_of(request)
    if staff is None or staff.role not in roles:
        denied = "&denied=1" if staff is not None else ""
        return RedirectResponse(f"/login?next={quote(request.url.path)}{denied}", status_code=303)
    return _page(request, name)


@router.get("/")
def index(request: Request) -> Response:
    return _page(request, "index.html")


@router.get("/login")
def login_page(request: Request) -> Response:
    return _page(request, "login.html")


MAX_LOGIN_FORM_BYTES = 2048
"""A login form's body is under 200 bytes; anything much bigger is not one (413)."""
_PAGE_PATH = re.compile(r"/(?!/)[A-Za-z0-9_/-]*")
"""A `next` the login may send the browser on to: a path on this server, nothing else."""


@dataclass(frozen=True)
class LoginForm:
    username: str
    password: str


def _same_origin(request: Request) -> bool:
    """Whether a form post comes from this server's own page, by the browser's Fetch Metadata
    (`Sec-Fetch-Site`), else by `Origin`. The pages' no-referrer policy makes a browser send
    `Origin: null` with their own forms, so a null origin alone proves nothing either way."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin in (None, "null") or urlsplit(origin).netloc == request.headers.get("host")


async def _login_form(request: Request) -> LoginForm:
    """The fields of the login form as a browser posts it (application/x-www-form-urlencoded)."""
    if not _same_origin(request):
        # another site's page posting its own credentials here would log this browser in as them
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "the login form is posted from this server's own page, not from "
            f"{request.headers.get('origin', 'another site')} / 登录须从本站页面提交",
        )
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "the login form is posted as application/x-www-form-urlencoded (JSON goes to "
            "/api/v1/auth/login) / 登录表单须以表单编码提交",
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_FORM_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"a login form is under {MAX_LOGIN_FORM_BYTES} bytes / 登录表单过大",
            )
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=8, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"unreadable login form: {exc} / 登录表单无法解析"
        ) from exc
    return LoginForm(fields.get("username", [""])[0], fields.get("password", [""])[0])


@router.post("/login")
def login_form(
    request: Request,
    form: Annotated[LoginForm, Depends(_login_form)],
    db: SessionDep,
    settings: SettingsDep,
    next_path: Annotated[str, Query(alias="next", max_length=256)] = "",
) -> Response:
    """The login form posted by the browser itself: before its script has taken the form over (a
    quick click on a slow tablet) or where scripts are blocked. Same checks as the JSON login; on to
    `next` or the role's home, or back to the form with `failed=1` (`locked=<seconds>` when this
    device has failed too often). The form says `method="post"`, so a password never ends up in an
    address, the browser's history or a log."""
    target = next_path if _PAGE_PATH.fullmatch(next_path) else ""
    back = f"/login?next={quote(target)}&" if target else "/login?"
    try:
        fields = LoginRequest(username=form.username, password=form.password)
    except ValidationError:  # empty or overlong: a failed login, without spending a scrypt run on it
        user = None
    else:
        try:
            user = authenticate(db, fields.username, fields.password, request)
        except LoginLocked as locked:
            return RedirectResponse(
                f"{back}locked={locked.retry_after_s}", status_code=status.HTTP_303_SEE_OTHER
            )
    if user is None:
        return RedirectResponse(f"{back}failed=1", status_code=status.HTTP_303_SEE_OTHER)
    response = RedirectResponse(target or home_of(Role(user.role)), status_code=status.HTTP_303_SEE_OTHER)
    start_session(response, user, request, settings)
    return response


@router.get("/frontdesk")
def frontdesk_page(request: Request) -> Response:
    return _staff_page(request, "frontdesk.html", FRONTDESK_ROLES)


@router.get("/advisor")
def advisor_page(request: Request) -> Response:
    return _staff_page(request, "advisor.html", ADVISOR_ROLES)


@router.get("/account")
def account_page(request: Request) -> Response:
    """Any staff member: change their own password."""
    return _staff_page(request, "account.html", STAFF_ROLES)


@router.get("/kiosk")
def kiosk_page(request: Request, token: str | None = None) -> Response:
    """The public screen; while the token is still the demo default it is filled in for convenience."""
    configured = request.app.state.settings.kiosk_token.get_secret_value()
    if token is None and configured == DEFAULT_KIOSK_TOKEN:
        return RedirectResponse(f"/kiosk?token={quote(DEFAULT_KIOSK_TOKEN)}", status_code=303)
    return _page(request, "kiosk.html")
