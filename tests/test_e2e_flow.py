"""End to end: broker, server and edge as real processes on a generated gate clip.

The front-desk WebSocket must receive exactly the clip's plates, once each, in order — the
walking skeleton's promise that a car at the gate becomes an alert on the receptionist's screen.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import websockets

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.plates import PlateType
from dealergate.synth.gate_clip import make_gate_clip
from dealergate.synth.plate_render import random_plate_text
from server.seed import DEMO_LOGINS, demo_plates

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def _clip_plates() -> list[tuple[str, PlateType]]:
    """Three demo customers (blue, green, yellow where the demo data has them) and one stranger."""
    known = demo_plates()
    picked: list[tuple[str, PlateType]] = []
    for want in (PlateType.BLUE, PlateType.NEW_ENERGY_SMALL, PlateType.YELLOW):
        match = next(((t, PlateType(p)) for t, p in known if PlateType(p) is want), None)
        if match is not None:
            picked.append(match)
    stranger = random_plate_text(PlateType.BLUE, np.random.default_rng(99), province="粤")
    assert stranger not in {t for t, _ in known}
    picked.insert(1, (stranger, PlateType.BLUE))
    return picked


@pytest.fixture()
def stack(tmp_path: Path, mqtt_broker: EmbeddedBroker) -> Iterator[dict]:
    """A server process on a fresh seeded SQLite database, connected to the test broker."""
    port = free_port()
    site = f"e2e{port}"  # own topic space: other tests share the broker
    env = {
        **os.environ,
        "DEALERGATE_MQTT_URL": mqtt_broker.url,
        "DEALERGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "DEALERGATE_SEED_DEMO": "true",
        "DEALERGATE_PORT": str(port),
        "DEALERGATE_SITE": site,
        "DEALERGATE_EDGE_SITE": site,
        "DEALERGATE_EDGE_SNAPSHOT_DIR": str(tmp_path / "snapshots"),
        "DEALERGATE_EDGE_REALTIME": "false",
    }
    server = subprocess.Popen([sys.executable, "-m", "dealergate", "server", "run"], env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=1).json()
                if health["mqtt"] == "connected":
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "server exited during start-up"
            assert time.monotonic() < deadline, "server not healthy within 60 s"
            time.sleep(0.3)
        yield {"base": base, "env": env, "tmp": tmp_path}
    finally:
        server.terminate()
        server.wait(timeout=15)


async def _collect_arrivals(ws_url: str, cookie: str, expected: int, edge_cmd: list[str], env: dict, timeout: float) -> tuple[list[dict], int]:
    """Connect the front-desk socket, run the edge, gather `arrival` messages until quiet."""
    got: list[dict] = []
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie}) as ws:
        edge = await asyncio.create_subprocess_exec(*edge_cmd, env=env)
        deadline = time.monotonic() + timeout
        edge_done_at: float | None = None
        while time.monotonic() < deadline:
            if edge.returncode is not None and edge_done_at is None:
                edge_done_at = time.monotonic()
            if edge_done_at is not None and time.monotonic() - edge_done_at > 3:
                break  # the edge has finished and nothing more arrived for 3 s
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
            except TimeoutError:
                continue
            if msg.get("type") == "arrival":
                got.append(msg["data"])
        if edge.returncode is None:
            edge.terminate()
        rc = await edge.wait()
    return got, rc


def front_desk_cards(messages: list[dict]) -> list[dict]:
    """The cards the front desk ends up showing, oldest first: frontdesk.js keys its cards by
    `event_id`, so a corrected arrival (same id, higher revision at the edge) replaces its card."""
    cards: dict[str, dict] = {}
    for data in messages:
        cards[data["event_id"]] = data
    return sorted(cards.values(), key=lambda a: a["captured_at"])


def test_front_desk_cards_replace_a_corrected_arrival() -> None:
    """The helper above can fail: a second event_id is a second card, a repeated one is not."""
    a = {"event_id": "a", "plate": "粤A1", "captured_at": "2026-11-25T09:00:00.000+08:00"}
    b = {"event_id": "b", "plate": "粤B1", "captured_at": "2026-11-25T09:00:05.000+08:00"}
    fixed = {**a, "plate": "粤A2"}
    assert [c["plate"] for c in front_desk_cards([a, b, fixed])] == ["粤A2", "粤B1"]
    assert len(front_desk_cards([a, {**a, "event_id": "c"}])) == 2


def test_gate_clip_to_front_desk(stack: dict) -> None:
    plates = _clip_plates()
    clip = stack["tmp"] / "gate.mp4"
    make_gate_clip(clip, plates, seconds_per_car=4.0, seed=11)

    user, password = next((u, p) for role, u, p in DEMO_LOGINS if role == "receptionist")
    login = httpx.post(f"{stack['base']}/api/v1/auth/login", json={"username": user, "password": password})
    assert login.status_code == 200, login.text
    cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())

    ws_url = stack["base"].replace("http://", "ws://") + "/ws/frontdesk"
    edge_cmd = [sys.executable, "-m", "dealergate", "edge", "run", "--source", str(clip)]
    got, rc = asyncio.run(_collect_arrivals(ws_url, cookie, len(plates), edge_cmd, stack["env"], timeout=120))

    assert rc == 0
    cards = front_desk_cards(got)
    assert [a["plate"] for a in cards] == [p for p, _ in plates]
    known = [a for a in cards if a["plate"] != plates[1][0]]
    assert all(a.get("customer") for a in known), "demo customers are matched"
    stranger = next(a for a in cards if a["plate"] == plates[1][0])
    assert not stranger.get("customer")
