"""`dealergate bench screens --json` runs end to end on a tiny load (a smoke test: no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.browser
KEYS = {"frontdesk_latency_p50_ms", "frontdesk_latency_p95_ms", "screens", "arrivals"}


def test_bench_screens_prints_one_json_object() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "dealergate", "bench", "screens", "--json",
         "--arrivals", "2", "--screens", "3", "--interval", "0.1"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout)  # stdout is the JSON object and nothing else
    assert KEYS <= result.keys()
    assert result["screens"] == 3 and result["arrivals"] == 2
    assert result["rendered"] == 2, "the page drew every published arrival"
    for key in ("frontdesk_latency_p50_ms", "frontdesk_latency_p95_ms", "websocket_latency_p50_ms"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["frontdesk_latency_p50_ms"] <= result["frontdesk_latency_p95_ms"]
