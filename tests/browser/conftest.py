"""Browser fixtures: one real server process, one Debian chromium and one MQTT publisher per run of the browser tests
(shared by every browser test module: starting them is most of the cost). Package scope, not
session: Playwright's sync API keeps an event loop running in the main thread while it is open, which
would break later tests that call asyncio.run().

Arrivals come in as real `ArrivalEvent` payloads over MQTT, as an edge sends them. Playwright's own
browser downloads are never used (this machine, CI included, has no internet): chromium comes from
Debian via scripts/setup-system.sh, which `make test` runs first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from dealergate.bench import CHROMIUM, CHROMIUM_ARGS, running_server
from dealergate.broker import EmbeddedBroker
from dealergate.contract import ArrivalEvent, now_local
from dealergate.plates import PLATE_COLORS, PlateColor, PlateType

from .harness import (
    DESKTOP,
    SELF_SERVICE_URL,
    UI_TIMEOUT_MS,
    Car,
    LiveServer,
    NewContext,
    Publish,
)


@pytest.fixture(scope="package")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, mqtt_broker: EmbeddedBroker
) -> Iterator[LiveServer]:
    """`python -m dealergate server run` on a fresh seeded SQLite file, subscribed to the test broker
    (started the way `dealergate bench screens` starts it)."""
    tmp = tmp_path_factory.mktemp("browser")
    site = f"web{uuid.uuid4().hex[:8]}"  # own topic space: other tests share the broker
    db_url = f"sqlite:///{tmp / 'browser.db'}"
    env = {
        "DEALERGATE_MQTT_URL": mqtt_broker.url,
        "DEALERGATE_DATABASE_URL": db_url,
        "DEALERGATE_SEED_DEMO": "true",
        "DEALERGATE_SITE": site,
        "DEALERGATE_SELF_SERVICE_URL": SELF_SERVICE_URL,
    }
    with running_server(env, tmp) as server:
        yield LiveServer(server.base, site, db_url, server.log_path)


@pytest.fixture(scope="package")
def next_car(live_server: LiveServer) -> Callable[..., Car]:
    """A demo car not yet driven through the gate in this run (a repeat would fall in the dwell window),
    by default one of this store's whose owner did not consent to be greeted by name
    (`next_car(consent=True)`: one who did; `next_car(sister=True)`: one on file at the sister store).

    Only owners whose gender is on file: their honorific (王先生) differs from their name, so a
    screen that shows the name where it should show the honorific is caught.
    """
    cars = [c for c in live_server.cars() if c.honorific != c.name]
    pools: dict[object, Iterator[Car]] = {
        consent: iter([c for c in cars if c.site == live_server.site and c.consent_greeting is consent])
        for consent in (False, True)
    }
    pools["sister"] = iter([c for c in cars if c.site != live_server.site])
    return lambda consent=False, sister=False: next(pools["sister" if sister else consent])


@pytest.fixture(scope="package")
def next_stranger() -> Callable[[], str]:
    """A plate on no customer's car, new in this session (UNKNOWN_PLATE is test_browser_screens' own)."""
    numbers = iter(range(10, 100))
    return lambda: f"粤BZZZ{next(numbers)}"


@pytest.fixture(scope="package")
def publish(live_server: LiveServer, mqtt_broker: EmbeddedBroker) -> Iterator[Publish]:
    """Publish an arrival the way an edge does (paho, QoS 1, the contract's topic); returns the event."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"browser-edge-{uuid.uuid4().hex[:8]}")
    client.connect(mqtt_broker.host, mqtt_broker.port)
    client.loop_start()

    def _publish(plate: str, plate_type: PlateType = PlateType.BLUE, **fields: Any) -> ArrivalEvent:
        values: dict[str, Any] = {
            "site": live_server.site,
            "camera": "gate-1",
            "plate": plate,
            "confidence": 0.97,
            "plate_type": plate_type,
            "plate_color": PLATE_COLORS.get(plate_type, PlateColor.UNKNOWN),
            "captured_at": now_local(),
        }
        event = ArrivalEvent(**{**values, **fields})
        info = client.publish(event.topic(), event.to_payload(), qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published(), "broker did not acknowledge the arrival"
        return event

    yield _publish
    client.loop_stop()
    client.disconnect()


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless; missing chromium is a set-up error, not a reason to skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/setup-system.sh (it installs Debian's chromium; "
            "`make test` runs it first). Playwright's own browser download cannot work here."
        )
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture()
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Fresh browser profiles (cookies, localStorage) for one test; closed afterwards."""
    opened: list[BrowserContext] = []

    def _new(viewport: dict[str, int] = DESKTOP, **options: Any) -> BrowserContext:
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", **options)
        ctx.set_default_timeout(UI_TIMEOUT_MS)
        opened.append(ctx)
        return ctx

    yield _new
    for ctx in opened:
        ctx.close()
