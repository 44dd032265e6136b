"""The browser screens: static files from kiosk/, staff pages behind the login.

Pages carry a strict Content-Security-Policy (same origin only, no inline script): the screens
load nothing from the internet, so nothing on them can be swapped by a third party.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from server.auth import ADVISOR_ROLES, FRONTDESK_ROLES, session_from
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
    staff = session_from(request)
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


@router.get("/frontdesk")
def frontdesk_page(request: Request) -> Response:
    return _staff_page(request, "frontdesk.html", FRONTDESK_ROLES)


@router.get("/advisor")
def advisor_page(request: Request) -> Response:
    return _staff_page(request, "advisor.html", ADVISOR_ROLES)


@router.get("/kiosk")
def kiosk_page(request: Request, token: str | None = None) -> Response:
    """The public screen; while the token is still the demo default it is filled in for convenience."""
    configured = request.app.state.settings.kiosk_token.get_secret_value()
    if token is None and configured == DEFAULT_KIOSK_TOKEN:
        return RedirectResponse(f"/kiosk?token={quote(DEFAULT_KIOSK_TOKEN)}", status_code=303)
    return _page(request, "kiosk.html")
