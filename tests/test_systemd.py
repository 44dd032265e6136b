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
