"""App factory, lifespan and the `dealergate server run` entry point.

The lifespan owns every long-lived resource (tables, demo seed, MQTT thread, push hub) so that
tests start and stop a whole server with one `with TestClient(create_app(settings))`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlmodel import func, select
from starlette.concurrency import run_in_threadpool

from dealergate import __version__
from server.api import build_router
from server.config import DEFAULT_KIOSK_TOKEN, ServerSettings
from server.daily import start_daily_jobs
from server.db import local_today, make_engine, session_scope
from server.ingest import ArrivalProcessor, MqttIngest
from server.login_throttle import LoginThrottle
from server.logs import configure_logging, log_event
from server.migrate import upgrade_database
from server.models import Customer, StaffUser
from server.push import PushHub
from server.seed import generate_demo_dataset, seed_demo
from server.sites import ensure_site

log = logging.getLogger(__name__)


def prepare_database(engine: Engine, settings: ServerSettings) -> None:
    """Migrate the schema to the latest revision, make sure this server's own site exists (files and
    staff name their store by its code); with `seed_demo`, fill an empty database."""
    log_event(log, "db.migrated", result=upgrade_database(engine))
    if ensure_site(engine, settings.site):
        log_event(log, "db.site_created", site=settings.site)
    with session_scope(engine) as session:
        customers = session.exec(select(func.count()).select_from(Customer)).one()
        if settings.seed_demo and customers == 0:
            dataset = generate_demo_dataset(seed=settings.demo_seed, today=local_today(settings.tz))
            counts = seed_demo(session, dataset, site=settings.site)
            log_event(log, "db.seeded", **counts)
        staff = session.exec(select(func.count()).select_from(StaffUser)).one()
    if staff == 0:
        log_event(
            log,
            "db.no_staff",
            level=logging.WARNING,
            hint="no staff account yet: add one with `dealergate server user add NAME --name ... --role admin`",
        )


def create_app(settings: ServerSettings | None = None, *, ingest: bool = True) -> FastAPI:
    """The server as an ASGI app; `ingest=False` leaves MQTT out (tests feed `app.state.processor`)."""
    settings = settings or ServerSettings()
    engine = make_engine(settings.database_url)
    hub = PushHub()
    processor = ArrivalProcessor(engine, settings, hub)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind_loop(asyncio.get_running_loop())
        await run_in_threadpool(prepare_database, engine, settings)
        subscriber = MqttIngest(settings, processor) if ingest else None
        if subscriber is not None:
            subscriber.start()
        app.state.ingest = subscriber
        daily = start_daily_jobs(engine, settings)  # reminders and retention, once a day
        log_event(
            log,
            "server.started",
            version=__version__,
            site=settings.site,
            db=engine.url.render_as_string(hide_password=True),
            mqtt=settings.mqtt_url_redacted(),
            demo_kiosk_token=settings.kiosk_token.get_secret_value() == DEFAULT_KIOSK_TOKEN,
        )
        try:
            yield
        finally:
            if daily is not None:
                daily.cancel()
                with suppress(asyncio.CancelledError):
                    await daily
            hub.close_all()
            if subscriber is not None:
                await run_in_threadpool(subscriber.stop)
            app.state.ingest = None
            engine.dispose()
            log_event(log, "server.stopped")

    app = FastAPI(
        title="dealergate",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.hub = hub
    app.state.processor = processor
    app.state.ingest = None
    app.state.session_key = settings.session_secret()
    app.state.login_throttle = LoginThrottle(settings.login_max_failures, settings.login_window_minutes * 60)
    app.include_router(build_router())
    app.mount("/assets", StaticFiles(directory=settings.pages_dir / "assets"), name="assets")
    return app


def run_server(settings: ServerSettings) -> None:
    """Serve until SIGINT/SIGTERM; starts and stays up (health 'degraded') while the broker is down."""
    configure_logging(settings.log_level)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
    )


if __name__ == "__main__":
    run_server(ServerSettings())
