"""`make demo`: the whole product on one machine with embedded defaults.

Starts (or reuses) an MQTT broker, the server on a fresh SQLite database seeded with the demo
dealership, and the edge replaying a generated gate clip whose cars carry demo customers' plates.
The server and edge run as child processes, exactly as systemd runs them in production.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from dealergate.broker import EmbeddedBroker, port_open
from dealergate.plates import PlateType

log = logging.getLogger("dealergate.demo")
ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "var" / "demo"
DEMO_SEED = 2026
CLIP_VERSION = 2
"""Bump when the clip generator changes so an old cached clip is regenerated."""


def demo_clip_plates(seed: int = DEMO_SEED) -> list[tuple[str, PlateType]]:
    """The cars of the sample clip: nine demo customers of mixed plate types (the last one on file at
    the group's sister store, so the screens show its badge) and one stranger."""
    from dealergate.synth.plate_render import random_plate_text
    from server.seed import demo_plates, sister_store_plates

    known = demo_plates(seed)
    sister = sister_store_plates(seed)
    by_type: dict[PlateType, list[str]] = {}
    for text, ptype in known:
        if text not in sister:
            by_type.setdefault(PlateType(ptype), []).append(text)
    wanted = [PlateType.BLUE, PlateType.NEW_ENERGY_SMALL, PlateType.BLUE, PlateType.YELLOW, PlateType.BLUE,
              PlateType.NEW_ENERGY_SMALL, PlateType.BLUE, PlateType.BLUE]
    picked: list[tuple[str, PlateType]] = []
    for ptype in wanted:
        pool = by_type.get(ptype) or by_type[PlateType.BLUE]
        picked.append((pool.pop(0), ptype if by_type.get(ptype) is not None else PlateType.BLUE))
    picked.append(next((t, PlateType(p)) for t, p in known if t in sister and PlateType(p) is PlateType.BLUE))
    taken = {t for t, _ in known}
    rng = np.random.default_rng(seed)
    stranger = random_plate_text(PlateType.BLUE, rng, province="粤")
    while stranger in taken:
        stranger = random_plate_text(PlateType.BLUE, rng, province="粤")
    picked.insert(3, (stranger, PlateType.BLUE))
    return picked


def ensure_demo_clip(path: Path = DEMO_DIR / "gate.mp4") -> Path:
    """Generate the sample gate clip once (≈1 min of 1280×720 @ 25 fps); reuse it afterwards."""
    from dealergate.synth.gate_clip import make_gate_clip

    stamp = path.with_suffix(".version")
    if path.exists() and stamp.exists() and stamp.read_text() == str(CLIP_VERSION):
        return path
    log.info("generating the sample gate clip %s ...", path)
    make_gate_clip(path, demo_clip_plates(), min_duration_s=60.0)
    stamp.write_text(str(CLIP_VERSION))
    return path


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def _banner(base: str, mqtt_url: str) -> str:
    from server.seed import DEMO_LOGINS

    logins = "\n".join(f"    {role:<12} {user} / {password}" for role, user, password in DEMO_LOGINS)
    return f"""
================ dealergate 演示 / demo ================
  前台接待 Front desk   {base}/frontdesk
  等候区屏 Kiosk        {base}/kiosk
  顾问平板 Advisor      {base}/advisor
  经理看板 Dashboard    {base}/dashboard
  审计记录 Audit trail  {base}/audit
  健康检查 Health       {base}/healthz
  MQTT broker           {mqtt_url}
  演示账号 Demo logins:
{logins}
  示例视频 Sample clip  {DEMO_DIR / 'gate.mp4'} (循环播放 / looping)
  Ctrl-C 退出 / to stop
========================================================
"""


def run_demo(port: int = 8000) -> int:
    """Run broker + server + edge until Ctrl-C; returns the process exit code."""
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    clip = ensure_demo_clip()
    mqtt_url = os.environ.get("DEALERGATE_MQTT_URL", "mqtt://127.0.0.1:1883")
    broker: EmbeddedBroker | None = None
    if "DEALERGATE_MQTT_URL" not in os.environ:
        target = urlparse(mqtt_url)
        if port_open(target.hostname or "127.0.0.1", target.port or 1883):
            log.info("an MQTT broker already listens on %s: using it", mqtt_url)
        else:
            broker = EmbeddedBroker(target.hostname or "127.0.0.1", target.port or 1883).start()
            log.info("embedded MQTT broker (amqtt) on %s", mqtt_url)
    db = DEMO_DIR / "dealergate.db"
    db.unlink(missing_ok=True)  # every demo starts from the same seeded dealership
    env = {
        **os.environ,
        "DEALERGATE_MQTT_URL": mqtt_url,
        "DEALERGATE_DATABASE_URL": f"sqlite:///{db}",
        "DEALERGATE_SEED_DEMO": "true",
        "DEALERGATE_PORT": str(port),
        # the clip loops every minute: let the same cars alert again after 90 s, not 10 min
        "DEALERGATE_DWELL_WINDOW_S": "90",
        "DEALERGATE_EDGE_COOLDOWN_S": "90",
        "DEALERGATE_EDGE_SOURCE": str(clip),
        "DEALERGATE_EDGE_REALTIME": "true",
        "DEALERGATE_EDGE_LOOP": "true",
        "DEALERGATE_EDGE_SNAPSHOT_DIR": str(DEMO_DIR / "snapshots"),
    }
    cmd = [sys.executable, "-m", "dealergate"]
    base = f"http://127.0.0.1:{port}"
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(subprocess.Popen([*cmd, "server", "run"], env=env, cwd=ROOT))
        if not _wait_http(f"{base}/healthz", timeout=60):
            log.error("the server did not answer on %s/healthz within 60 s", base)
            return 1
        children.append(subprocess.Popen([*cmd, "edge", "run"], env=env, cwd=ROOT))
        print(_banner(base, mqtt_url), flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        failed = [c for c in children if c.returncode not in (None, 0)]
        return failed[0].returncode if failed else 0
    except KeyboardInterrupt:
        print("\n正在停止 / stopping ...", flush=True)
        return 0
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if broker is not None:
            broker.stop()
