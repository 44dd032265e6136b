"""WebSocket endpoints of the three screens: a snapshot of today on connect, then live arrivals.

Staff screens authenticate with the session cookie sent on the handshake (and, from a browser,
must come from this server's own origin: no other site may open a socket with a staff cookie);
the kiosk, which has no staff login, uses the `token` query parameter. A refused handshake is
closed with 1008.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from server.alerts import list_alerts
from server.audit import customer_ids_of, record_access
from server.auth import ADVISOR_ROLES, FRONTDESK_ROLES, StaffSession, staff_of
from server.db import local_today, session_scope
from server.models import Role
from server.push import Audience, PushHub, Subscriber

router = APIRouter(tags=["push"])
SNAPSHOT_LIMIT = {Audience.FRONTDESK: 50, Audience.ADVISOR: 50, Audience.KIOSK: 1}
RECHECK_S = 30.0
"""A staff socket's login is checked again before a push when the last check is older than this:
an account disabled (or given a new password or role) since the handshake gets no more pushes
after that and its socket is closed (1008; the page then finds itself logged out)."""


def _snapshot(websocket: WebSocket, audience: Audience, staff: StaffSession | None) -> list[dict[str, Any]]:
    """Today's arrivals for a (re)connecting screen; what a staff screen is shown is audited."""
    state = websocket.app.state
    tz = state.settings.tz
    with session_scope(state.engine) as session:
        listed = list_alerts(session, local_today(tz), tz, audience.value, limit=SNAPSHOT_LIMIT[audience])
        if staff is not None:
            record_access(session, staff, f"snapshot_{audience.value}", customer_ids_of(listed))
        return listed


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message, ensure_ascii=False, separators=(",", ":")))


async def _wait_for_disconnect(websocket: WebSocket) -> None:
    """Screens only listen; reading is how a closed socket is noticed."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _serve(websocket: WebSocket, audience: Audience, staff: StaffSession | None) -> None:
    hub: PushHub = websocket.app.state.hub
    await websocket.accept()
    who = staff.username if staff is not None else audience.value
    sub: Subscriber = hub.subscribe(audience, who)  # before the snapshot: nothing falls in between
    closed = asyncio.create_task(_wait_for_disconnect(websocket))
    checked_at = time.monotonic()
    try:
        await _send(
            websocket,
            {"type": "snapshot", "data": await run_in_threadpool(_snapshot, websocket, audience, staff)},
        )
        while True:
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                getter.cancel()
                return
            message = getter.result()
            if message is None:  # server shutting down, or this screen fell too far behind
                await websocket.close(code=status.WS_1012_SERVICE_RESTART)
                return
            if staff is not None and time.monotonic() - checked_at >= RECHECK_S:
                if await run_in_threadpool(staff_of, websocket) is None:
                    await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
                    return
                checked_at = time.monotonic()
            await _send(websocket, message)
    except (WebSocketDisconnect, RuntimeError):
        return  # the screen went away mid-send; it reconnects by itself
    finally:
        closed.cancel()
        hub.unsubscribe(sub)


async def _staff_for(websocket: WebSocket, roles: frozenset[Role]) -> StaffSession | None:
    """The logged-in staff member allowed on this socket, or None (wrong role, foreign origin, an
    account disabled or changed since login). Checked at the handshake, and again before pushes
    (RECHECK_S)."""
    origin = websocket.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
        return None  # a page of another site riding on the staff cookie
    staff = await run_in_threadpool(staff_of, websocket)
    return staff if staff is not None and staff.role in roles else None


@router.websocket("/ws/frontdesk")
async def ws_frontdesk(websocket: WebSocket) -> None:
    staff = await _staff_for(websocket, FRONTDESK_ROLES)
    if staff is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    await _serve(websocket, Audience.FRONTDESK, staff)


@router.websocket("/ws/advisor")
async def ws_advisor(websocket: WebSocket) -> None:
    staff = await _staff_for(websocket, ADVISOR_ROLES)
    if staff is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    await _serve(websocket, Audience.ADVISOR, staff)


@router.websocket("/ws/kiosk")
async def ws_kiosk(websocket: WebSocket, token: str = "") -> None:
    expected = websocket.app.state.settings.kiosk_token.get_secret_value()
    if not hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    await _serve(websocket, Audience.KIOSK, None)
