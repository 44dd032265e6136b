"""Shared route dependencies: the app's settings, a database session per request, the hub."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Path
from fastapi.requests import HTTPConnection
from pydantic import AfterValidator
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

EARLIEST_DAY, LATEST_DAY = dt.date(1970, 1, 1), dt.date(9999, 12, 30)
"""Local days a query may name: a day's bounds in UTC (and the day after it) must exist as
datetimes, which 0001-01-01 and 9999-12-31 in China's zone do not (a 500, not a 422, before)."""


def _plausible_day(day: dt.date) -> dt.date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"day must be between {EARLIEST_DAY} and {LATEST_DAY} / 日期超出范围")
    return day


LocalDay = Annotated[dt.date, AfterValidator(_plausible_day)]
"""A local calendar day in a query, within EARLIEST_DAY..LATEST_DAY."""
