"""What the browser tests share besides fixtures: the server handle, demo cars, page helpers.

The screens are driven exactly as the dealership uses them: staff log in through the login form,
and every page is watched for console errors and failed requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic
from typing import Any

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, expect
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import create_engine
from sqlmodel import Session, select

from dealergate.contract import ArrivalEvent
from dealergate.plates import PlateType
from server.alerts import honorific
from server.models import Customer, Vehicle
from server.seed import DEMO_LOGINS

ROOT = Path(__file__).resolve().parents[2]
SCREENS_DIR = ROOT / "test-artifacts" / "screens"
UNKNOWN_PLATE = "粤AZZZ99"  # three serial letters: a pattern the demo generator never makes
DESKTOP = {"width": 1920, "height": 1080}  # front desk and kiosk are wall screens
PORTRAIT = {"width": 1080, "height": 1920}  # a kiosk standing upright
SELF_SERVICE_URL = "https://renew.dealer.example.cn/h5?src=kiosk"  # the live server's QR target
TABLET = {"width": 1280, "height": 800}  # the advisor's tablet
UI_TIMEOUT_MS = 15_000  # generous: CI has two cores, often shared with other work

Publish = Callable[..., ArrivalEvent]
"""`publish(plate, plate_type=PlateType.BLUE, **event_fields)`: one arrival over MQTT, as an edge sends it."""
NewContext = Callable[..., BrowserContext]
"""`new_context(viewport=DESKTOP, **options)`: a fresh browser profile (Playwright's context options,
e.g. `java_script_enabled=False`), closed after the test."""


@dataclass(frozen=True)
class Car:
    """A demo customer's car as the seeded database has it (what a screen may or may not show)."""

    plate: str
    plate_type: PlateType
    brand: str
    model: str
    name: str
    honorific: str
    phone: str
    consent_greeting: bool = False
    site: str | None = None
    """The store that holds the car's file (the demo files a few at the sister store)."""


@dataclass(frozen=True)
class LiveServer:
    """The running `dealergate server run` process and what the tests need to reach it."""

    base: str
    site: str
    db_url: str
    log_path: Path

    def url(self, path: str) -> str:
        return self.base + path

    def cars(self) -> list[Car]:
        """Every demo car with an owner, in id order (tests take distinct ones: the dwell window)."""
        engine = create_engine(self.db_url)
        try:
            with Session(engine) as s:
                rows = s.exec(
                    select(Vehicle, Customer)
                    .join(Customer, Customer.id == Vehicle.customer_id)
                    .order_by(Vehicle.id)
                ).all()
                return [
                    Car(
                        v.plate,
                        PlateType(v.plate_type),
                        v.brand,
                        v.model,
                        c.name,
                        honorific(c),
                        c.phone,
                        c.consent_greeting,
                        v.site,
                    )
                    for v, c in rows
                ]
        finally:
            engine.dispose()


@dataclass
class PageWatch:
    """Everything a page complained about: console errors, uncaught exceptions, failed requests."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> PageWatch:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        return self

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type in ("error", "assert"):
            self.problems.append(f"console.{msg.type}: {msg.text} @ {msg.location.get('url', '')}")

    def _failed(self, req: Request) -> None:
        self.problems.append(f"request failed: {req.method} {req.url} ({req.failure})")

    def _response(self, res: Response) -> None:
        if res.status >= 400:
            self.problems.append(f"HTTP {res.status}: {res.request.method} {res.url}")


def credentials(role: str) -> tuple[str, str]:
    return next((u, p) for r, u, p in DEMO_LOGINS if r == role)


def log_in(page: Page, server: LiveServer, role: str, target: str) -> None:
    """Open `target`, get sent to the login form, fill it in as the demo user of `role`, land on `target`.

    Returns once the browser has committed to `target`; the caller waits for what it needs on the
    page (its sub-resources, data, socket), each with its own timeout. When the landing does not
    come, the failure says where the page was, what the form said, which requests it made and what
    the server logged, so that a rare stall on a busy CI box can be told apart from a broken login.
    """
    trail: list[str] = []
    started = monotonic()

    def note(kind: str, what: str) -> None:
        trail.append(f"{monotonic() - started:6.2f}s {kind} {what}")

    def on_request(req: Request) -> None:
        note("→", f"{req.method} {req.url}")

    def on_response(res: Response) -> None:
        note("←", f"{res.status} {res.request.method} {res.url}")

    def on_failed(req: Request) -> None:
        note("✗", f"{req.method} {req.url} ({req.failure})")

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    try:
        page.goto(server.url(target))
        expect(page).to_have_url(server.url(f"/login?next={target}"))
        user, password = credentials(role)
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(server.url(target), wait_until="commit")
    except PlaywrightError as exc:
        raise AssertionError(_login_report(page, server, role, target, trail, exc)) from exc
    finally:
        page.remove_listener("request", on_request)
        page.remove_listener("response", on_response)
        page.remove_listener("requestfailed", on_failed)


def _login_report(
    page: Page, server: LiveServer, role: str, target: str, trail: list[str], exc: Exception
) -> str:
    notice = page.locator("[data-slot=notice]:visible")
    said = notice.first.text_content(timeout=1_000) if notice.count() else "(no notice shown)"
    log_tail = server.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
    return "\n".join(
        [
            f"log-in as {role} did not land on {target}: {str(exc).splitlines()[0]}",
            f"page is at {page.url}; the form says: {said}",
            "requests (seconds since the log-in began):",
            *trail,
            f"last lines of {server.log_path}:",
            *log_tail,
        ]
    )


def wait_live(page: Page) -> None:
    """The page's WebSocket is open (connection indicator says so): arrivals from now on reach it."""
    page.wait_for_selector("[data-slot=conn][data-state=live]")


def set_lang(page: Page, lang: str) -> None:
    page.click(f".lang-switch button[data-lang='{lang}']")
    page.wait_for_function("lang => document.documentElement.lang === lang", arg=lang)


def screenshot(page: Page, name: str, lang: str) -> Path:
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENS_DIR / f"{name}-{lang}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


_WS_PROBE = """(path) => new Promise((resolve) => {
  const ws = new WebSocket(`ws://${location.host}${path}`);
  ws.onopen = () => { ws.close(); resolve("open"); };
  ws.onclose = (ev) => resolve(`refused (${ev.code})`);
})"""


def ws_probe(page: Page, path: str) -> str:
    """Open a WebSocket from the page, with its cookies and origin: 'open' or 'refused (code)'."""
    return page.evaluate(_WS_PROBE, path)


def collect_ws_frames(page: Page) -> list[str]:
    """Every text frame the page's WebSockets receive from now on (what the server told this screen)."""
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    return frames


def pushed_arrival(frames: list[str], plate: str, field: str = "plate") -> dict[str, Any]:
    """The payload of the live 'arrival' message whose `field` is `plate` (the kiosk's is masked_plate)
    among collected frames: what the server told the screen."""
    for frame in frames:
        msg = json.loads(frame)
        if msg.get("type") == "arrival" and msg["data"].get(field) == plate:
            return msg["data"]
    raise AssertionError(f"no arrival for {plate} was pushed to this page")
