"""Shared route dependencies: the app's settings, a database session per request, the hub."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from fastapi.requests import HTTPConnection
from sqlmodel import Session

from server.config import ServerSettings
from server.db import request_session
from server.push import PushHub


def get_settings(conn: HTTPConnection) -> ServerSettings:
    return conn.app.state.settings


def get_hub(conn: HTTPConnection) -> PushHub:
    return conn.app.state.hub


SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(request_session)]
HubDep = Annotated[PushHub, Depends(get_hub)]

MAX_ROW_ID = 2**31 - 1
"""Largest id a table holds (PostgreSQL `integer`): a bigger one in a URL or body is a 422, not a
database overflow error (SQLite raises past 2**63, PostgreSQL past 2**31)."""
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="row id")]
