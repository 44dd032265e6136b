"""Smoke test of `dealergate bench edge`: two cars, a few seconds; the figures themselves are the
benchmark's business (`make bench`), here only their presence and types are checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dealergate.synth.gate_clip import read_manifest
from edge.bench import BenchPlan

ROOT = Path(__file__).resolve().parent.parent


def test_bench_prints_one_json_object_with_every_figure(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "dealergate", "bench", "edge", "--json", "--smoke", "--cache", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout)  # exactly one JSON object on stdout
    numbers = ("realtime_factor", "fps_raw", "idle_cpu_pct", "rss_mb")
    for key in numbers:
        assert isinstance(result[key], float) and result[key] > 0, key
    assert isinstance(result["arrival_latency_p95_ms"], float | None)
    assert isinstance(result["first_read_latency_p95_ms"], float | None)
    assert isinstance(result["updates"], int) and result["updates"] >= 0
    for key in ("arrivals_expected", "arrivals_correct", "duplicates"):
        assert isinstance(result[key], int) and result[key] >= 0, key
    assert result["arrivals_expected"] == 2
    assert isinstance(result["arrival_accuracy"], float) and 0.0 <= result["arrival_accuracy"] <= 1.0
    assert result["arrivals_correct"] <= 2
    second = result["second_reader"]  # counts of the second reader's work (edge.second_reader)
    assert set(second) <= {"asked", "changed", "lifted"}
    assert second.get("changed", 0) + second.get("lifted", 0) <= second.get("asked", 0)
    (folder,) = tmp_path.iterdir()  # the generated clips are cached under the plan's key
    assert folder.name == BenchPlan.smoke().key
    cars = read_manifest(folder / "day.mp4")
    assert len(cars) == 2 and {c.plate_type for c in cars} == {"blue", "new_energy_small"}
    assert (folder / "idle.mp4").is_file()
