"""The server's once-a-day housekeeping: the reminder run, then the retention purge.

A plain asyncio task owned by the lifespan: it sleeps until `daily_jobs_hour` (dealership time),
runs both jobs in a worker thread (they are blocking database work) and sleeps again. Both jobs
are idempotent, so a restart, a second server process or a manual `dealergate server remind` on
the same day does no harm. A failing job is logged and retried the next day; it never stops the server.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from server.config import ServerSettings
from server.logs import log_event
from server.reminders import run_reminders
from server.retention import run_retention

log = logging.getLogger(__name__)


def seconds_until(hour: int, now: datetime) -> float:
    """Seconds from `now` (aware, dealership zone) to the next `hour`:00; a full day when it is that time."""
    target = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


def run_daily_jobs(
    engine: Engine, settings: ServerSettings, now: datetime | None = None
) -> dict[str, object]:
    """Both jobs once; each one's failure is logged and does not keep the other from running."""
    now = now or datetime.now(settings.tz)
    done: dict[str, object] = {}
    try:
        done["reminders"] = run_reminders(engine, now.date(), settings.tz).as_dict()
    except Exception:  # noqa: BLE001 - logged; tomorrow's run tries again
        log_event(log, "reminders.failed", level=logging.ERROR, exc_info=True)
    try:
        done["retention"] = run_retention(
            engine,
            now,
            snapshot_days=settings.snapshot_retention_days,
            arrival_days=settings.arrival_retention_days,
        ).as_dict()
    except Exception:  # noqa: BLE001
        log_event(log, "retention.failed", level=logging.ERROR, exc_info=True)
    return done


async def daily_loop(engine: Engine, settings: ServerSettings) -> None:
    """Forever: sleep until the hour, run the jobs. Cancelled by the lifespan on shutdown."""
    while True:
        delay = seconds_until(settings.daily_jobs_hour, datetime.now(settings.tz))
        log_event(log, "daily.scheduled", hour=settings.daily_jobs_hour, in_s=int(delay))
        await asyncio.sleep(delay)
        await run_in_threadpool(run_daily_jobs, engine, settings)


def start_daily_jobs(engine: Engine, settings: ServerSettings) -> asyncio.Task[None] | None:
    """The loop as a task on the running event loop, or None when `daily_jobs` is off."""
    if not settings.daily_jobs:
        return None
    return asyncio.get_running_loop().create_task(daily_loop(engine, settings), name="dealergate-daily")


def run_from_command_line(
    settings: ServerSettings, job: str, *, today: date | None = None
) -> dict[str, object]:
    """`dealergate server remind` / `purge`: migrate, run one job once, return its report."""
    from server.db import make_engine
    from server.migrate import upgrade_database

    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        if job == "remind":
            return run_reminders(engine, today or datetime.now(settings.tz).date(), settings.tz).as_dict()
        now = datetime.now(settings.tz)
        return run_retention(
            engine,
            now,
            snapshot_days=settings.snapshot_retention_days,
            arrival_days=settings.arrival_retention_days,
        ).as_dict()
    finally:
        engine.dispose()
