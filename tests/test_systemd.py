"""The systemd units start commands that exist and pass `systemd-analyze verify`."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "systemd").glob("*.service"))


def _installed_copy(unit: Path, tmp_path: Path) -> Path:
    """The unit as installed with the checkout at ROOT instead of /opt/dealergate."""
    out = tmp_path / unit.name
    out.write_text(unit.read_text(encoding="utf-8").replace("/opt/dealergate", str(ROOT)), encoding="utf-8")
    return out


def test_units_exist() -> None:
    assert {u.name for u in UNITS} >= {"dealergate-server.service", "dealergate-edge.service"}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_exec_start_is_a_real_subcommand(unit: Path) -> None:
    line = next(l for l in unit.read_text(encoding="utf-8").splitlines() if l.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv[0].endswith("/.venv/bin/dealergate")
    sub = [a for a in argv[1:] if not a.startswith("-") and not a.startswith("/")]
    res = subprocess.run([sys.executable, "-m", "dealergate", *sub, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    res = subprocess.run(["systemd-analyze", "verify", str(_installed_copy(unit, tmp_path))], capture_output=True, text=True)
    assert res.returncode == 0 and "dealergate" not in res.stderr, res.stderr


def _exec_start(unit_name: str, replacements: dict[str, str]) -> list[str]:
    """The unit's ExecStart as it would run from this checkout, with paths replaced."""
    text = (ROOT / "systemd" / unit_name).read_text(encoding="utf-8").replace("/opt/dealergate", str(ROOT))
    for old, new in replacements.items():
        text = text.replace(old, new)
    line = next(l for l in text.splitlines() if l.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_server_unit_command_serves_healthz(tmp_path: Path, mqtt_broker: object) -> None:
    """What `systemctl start dealergate-server` runs really starts a server that answers."""
    import json
    import os
    import time
    import urllib.request

    from dealergate.broker import free_port

    port = free_port()
    env = {
        **os.environ,
        "DEALERGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
        "DEALERGATE_PORT": str(port),
        "DEALERGATE_MQTT_URL": mqtt_broker.url,  # type: ignore[attr-defined]
    }
    proc = subprocess.Popen(_exec_start("dealergate-server.service", {}), env=env, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    body = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(0.3)
        assert body is not None, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no answer in 60 s"
        assert body["status"] == "ok" and body["db"] == "ok"
    finally:
        proc.terminate()
        code = proc.wait(15)
    # uvicorn shuts down gracefully, then re-raises SIGTERM (systemd counts that as a clean stop)
    log = proc.stderr.read().decode() if proc.stderr else ""
    assert code in (0, -15), log[-2000:]
    assert "shutdown complete" in log.lower(), log[-2000:]


def test_edge_unit_command_reads_a_clip_and_exits(tmp_path: Path, mqtt_broker: object) -> None:
    """What `systemctl start dealergate-edge` runs reads its configured source and publishes."""
    import json
    import os

    from dealergate.plates import PlateType
    from dealergate.synth.gate_clip import make_gate_clip

    clip = tmp_path / "gate.mp4"
    make_gate_clip(clip, [("苏E12345", PlateType.BLUE)], fps=10, size=(640, 360), seconds_per_car=3)
    config = tmp_path / "edge.yaml"
    config.write_text(
        json.dumps(
            {
                "source": str(clip),
                "realtime": False,
                "mqtt_url": mqtt_broker.url,  # type: ignore[attr-defined]
                "snapshot_dir": str(tmp_path / "snapshots"),
            }
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALERGATE_")}
    argv = _exec_start("dealergate-edge.service", {"/etc/dealergate/edge.yaml": str(config)})
    res = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "arrivals=1" in res.stderr, res.stderr[-2000:]
