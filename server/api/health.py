"""Liveness for the CLI, systemd and the demo: database, broker link, today's arrivals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session, col, func, select

from dealergate import __version__
from server.db import check_db, local_day_bounds, local_today
from server.models import Arrival

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """Always 200 while the process serves HTTP; `status` says whether every dependency is up."""
    state = request.app.state
    db = check_db(state.engine)
    mqtt = "connected" if state.ingest is not None and state.ingest.connected else "disconnected"
    arrivals_today = 0
    if db == "ok":
        start, end = local_day_bounds(local_today(state.settings.tz), state.settings.tz)
        with Session(state.engine) as session:
            arrivals_today = session.exec(
                select(func.count(col(Arrival.id))).where(
                    col(Arrival.captured_at) >= start,
                    col(Arrival.captured_at) < end,
                    col(Arrival.alerted).is_(True),
                )
            ).one()
    return {
        "status": "ok" if db == "ok" and mqtt == "connected" else "degraded",
        "db": db,
        "mqtt": mqtt,
        "arrivals_today": arrivals_today,
        "version": __version__,
    }
