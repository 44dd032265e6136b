"""`dealergate bench screens`: how long an arrival takes to reach the front-desk screens.

Starts what production runs — an MQTT broker and `dealergate server run` on a fresh seeded SQLite
database — connects `screens` front-desk WebSocket clients (`pages` of them real headless chromium
pages on /frontdesk, the rest plain `websockets` clients reading every message as a screen does),
publishes `arrivals` arrival events over MQTT as an edge does, and measures in each page the time
from the publish to the arrival card being in the page.

Clock: the bench notes each event's publish time (epoch ms) under its event id; the page notes
`Date.now()` when the card with that event id appears (a MutationObserver). Both run on this
machine, so they read the same clock. The stamp stays on the bench's side because the event
contract carries `captured_at` to the second only, too coarse to measure milliseconds.

Playwright, Debian's chromium and `websockets` are needed (the dev install and
scripts/setup-system.sh provide them); the product itself never imports this module.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dealergate.broker import EmbeddedBroker, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # runs as root in CI, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no internet here: no update, safe-browsing or sync calls
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's chromium, headless, offline: as the browser tests run it (they import these)."""

_RENDER_PROBE = """
window.__dgRendered = {};
new MutationObserver(() => {
  for (const card of document.querySelectorAll('.arrival-card--featured[data-event-id]')) {
    const id = card.dataset.eventId;
    if (!(id in window.__dgRendered)) window.__dgRendered[id] = Date.now();
  }
}).observe(document, { childList: true, subtree: true });
"""
"""Runs in the page before its own scripts: notes when each arrival's card first appears."""


@dataclass(frozen=True)
class ServerProcess:
    base: str
    log_path: Path


@contextmanager
def running_server(env: dict[str, str], workdir: Path, timeout_s: float = 60.0) -> Iterator[ServerProcess]:
    """`dealergate server run` as a child process for the block; yields once /healthz says MQTT is up.

    `env` adds to this process's environment (DEALERGATE_* settings); the port is chosen here.
    A server that exits or is not healthy in time raises RuntimeError with the end of its log.
    """
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dealergate", "server", "run"],
            env={**os.environ, "DEALERGATE_PORT": str(port), **env},
            cwd=workdir,
            stdout=log,
            stderr=log,
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while not _mqtt_connected(server.base):
            tail = log_path.read_text(errors="replace")[-4000:]
            if proc.poll() is not None:
                raise RuntimeError(f"server exited during start-up:\n{tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not healthy within {timeout_s:.0f} s:\n{tail}")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _mqtt_connected(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=1) as res:
            return json.load(res).get("mqtt") == "connected"
    except OSError:
        return False


def staff_cookie(base: str, username: str, password: str) -> str:
    """Log in like the login form does; returns the session cookie's value."""
    from server.auth import SESSION_COOKIE

    req = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        for header in res.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == SESSION_COOKIE:
                return rest.split(";", 1)[0]
    raise RuntimeError("login answered without a session cookie")


@dataclass
class PlainScreens:
    """Front-desk WebSocket clients without a browser: each reads every message, noting arrivals."""

    url: str
    cookie: str
    count: int
    received: dict[str, list[float]] = field(default_factory=dict)
    _sockets: list[Any] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> int:
        """Connect all clients and wait for each one's snapshot; returns how many are live."""
        from websockets.sync.client import connect

        from server.auth import SESSION_COOKIE

        for _ in range(self.count):
            ws = connect(self.url, additional_headers={"Cookie": f"{SESSION_COOKIE}={self.cookie}"})
            json.loads(ws.recv(timeout=30))  # the day's snapshot: this screen is live
            self._sockets.append(ws)
            thread = threading.Thread(target=self._read, args=(ws,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return len(self._sockets)

    def _read(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            for raw in ws:
                now = time.time() * 1000
                msg = json.loads(raw)
                if msg.get("type") == "arrival":
                    with self._lock:
                        self.received.setdefault(msg["data"]["event_id"], []).append(now)
        except ConnectionClosed:
            return

    def stop(self) -> None:
        for ws in self._sockets:
            ws.close()
        for thread in self._threads:
            thread.join(timeout=5)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


def _publish_arrivals(broker: EmbeddedBroker, site: str, count: int, interval_s: float) -> dict[str, float]:
    """Publish `count` arrivals of demo cars as an edge does; returns event id → publish time (epoch ms)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from dealergate.contract import ArrivalEvent, now_local
    from dealergate.plates import PLATE_COLORS, PlateColor
    from server.seed import demo_plates

    plates = demo_plates()
    edge = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-edge-{site}")
    edge.connect(broker.host, broker.port)
    edge.loop_start()
    published: dict[str, float] = {}
    try:
        for i in range(count):
            plate, kind = plates[i % len(plates)]
            event = ArrivalEvent(site=site, camera="gate-1", plate=plate, confidence=0.97, plate_type=kind,
                                 plate_color=PLATE_COLORS.get(kind, PlateColor.UNKNOWN), captured_at=now_local())  # fmt: skip
            published[str(event.event_id)] = time.time() * 1000
            edge.publish(event.topic(), event.to_payload(), qos=1).wait_for_publish(timeout=10)
            time.sleep(interval_s)
    finally:
        edge.loop_stop()
        edge.disconnect()
    return published


def _open_pages(browser: Any, base: str, cookie: str, count: int) -> list[Any]:
    """`count` front-desk tabs, logged in, live, each with the render probe installed."""
    from server.auth import SESSION_COOKIE

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    context.add_init_script(_RENDER_PROBE)
    tabs = []
    for _ in range(count):
        tab = context.new_page()
        tab.goto(f"{base}/frontdesk")
        tab.wait_for_selector("[data-slot=conn][data-state=live]", timeout=30_000)
        tabs.append(tab)
    return tabs


def _rendered(tabs: list[Any], published: dict[str, float], timeout_s: float) -> list[dict[str, float]]:
    """Each tab's event id → render time, once every published arrival is drawn (or at the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        rendered = [tab.evaluate("window.__dgRendered") for tab in tabs]
        if all(published.keys() <= r.keys() for r in rendered) or time.monotonic() > deadline:
            return rendered
        time.sleep(0.1)


def run_screens_bench(
    arrivals: int = 20, screens: int = 50, pages: int = 1, interval_s: float = 0.3, timeout_s: float = 30.0
) -> dict[str, Any]:
    """Start broker + server, open the screens, publish the arrivals; the latencies as one dict."""
    if not 1 <= pages <= screens:
        raise ValueError("pages must be between 1 and screens")
    from playwright.sync_api import sync_playwright

    from server.seed import DEMO_LOGINS

    user, password = next((u, p) for r, u, p in DEMO_LOGINS if r == "receptionist")
    site = f"bench{uuid.uuid4().hex[:6]}"
    with (
        tempfile.TemporaryDirectory(prefix="dgbench-") as tmp,
        EmbeddedBroker("127.0.0.1", free_port()) as broker,
    ):
        env = {
            "DEALERGATE_MQTT_URL": broker.url,
            "DEALERGATE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "DEALERGATE_SEED_DEMO": "true",
            "DEALERGATE_SITE": site,
            "DEALERGATE_VAR_DIR": str(Path(tmp) / "var"),
            "DEALERGATE_DWELL_WINDOW_S": "0",  # the same demo car may drive in again at once
            "DEALERGATE_LOG_LEVEL": "WARNING",
        }
        with running_server(env, Path(tmp)) as server, sync_playwright() as pw:
            cookie = staff_cookie(server.base, user, password)
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            tabs = _open_pages(browser, server.base, cookie, pages)
            plain = PlainScreens(
                server.base.replace("http", "ws", 1) + "/ws/frontdesk", cookie, screens - pages
            )
            live = plain.start() + len(tabs)
            published = _publish_arrivals(broker, site, arrivals, interval_s)
            rendered = _rendered(tabs, published, timeout_s)
            plain.stop()
            browser.close()

    page_ms = [r[e] - t for r in rendered for e, t in published.items() if e in r]
    ws_ms = [at - published[e] for e, times in plain.received.items() if e in published for at in times]
    return {
        "frontdesk_latency_p50_ms": percentile(page_ms, 50),
        "frontdesk_latency_p95_ms": percentile(page_ms, 95),
        "screens": live,
        "arrivals": arrivals,
        "rendered": min(sum(1 for e in published if e in r) for r in rendered),
        "browser_pages": len(tabs),
        "websocket_latency_p50_ms": percentile(ws_ms, 50),
        "websocket_latency_p95_ms": percentile(ws_ms, 95),
    }
