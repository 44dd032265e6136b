"""`dealergate bench edge`: how fast and how well the edge reads a gate, as one JSON object.

The clips are generated (and cached under var/bench/) with `dealergate.synth.gate_clip`: a day
clip with some motion-blurred cars, a night clip (dark, low contrast, noisy) and an infrared one
(grey, as a monochrome night camera sees), mixed blue,
yellow and green new-energy plates, 1280×720 at 25 fps, plus an empty-driveway clip. The real
edge pipeline (`run_edge`, configured reader, outbox, MQTT) runs on each car clip as fast as it
can (not paced), against an in-process broker with a subscriber counting what arrives; then on
the empty clip in real time to measure what an idle gate costs. Everything is measured in this
process, so run it on the edge box itself and nothing else heavy at the same time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import resource
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.contract import ArrivalEvent
from dealergate.host import describe_host, host_line
from dealergate.plates import PlateType
from dealergate.synth.gate_clip import ClipCar, make_gate_clip, read_manifest
from dealergate.synth.plate_render import random_plate_text
from edge.config import REPO_ROOT, EdgeSettings
from edge.reader import PlateReader
from edge.runner import EdgeStats, run_edge

log = logging.getLogger(__name__)

BENCH_DIR = REPO_ROOT / "var" / "bench"
CLIP_VERSION = 1
"""Part of the cache key: bump when the clips' recipe changes."""
SITE = "bench"
_PLATE_MIX = (PlateType.BLUE, PlateType.NEW_ENERGY_SMALL, PlateType.BLUE, PlateType.YELLOW, PlateType.BLUE)
"""A dealership's traffic: mostly blue, a good share of green new-energy, some yellow."""
_PROVINCES = ("粤", "粤", "粤", "粤", "湘", "桂", "闽", "京", "沪", "川")


@dataclass(frozen=True)
class BenchPlan:
    """What to generate: cars per clip, their pace, the idle stretch. Defaults: 22 cars, ~2 min."""

    day_cars: int = 14
    night_cars: int = 8
    infrared_cars: int = 6
    """A grey clip, as a monochrome camera under its infrared lamp sees the night (since 2026-11-28)."""
    seconds_per_car: float = 5.0
    blur_every: int = 3
    """Every n-th day car drives fast enough to be motion-blurred."""
    blur_px: int = 9
    idle_s: float = 10.0
    seed: int = 2026

    @classmethod
    def smoke(cls) -> BenchPlan:
        """A few seconds and two cars: checks the bench runs, measures nothing worth quoting."""
        return cls(day_cars=2, night_cars=0, infrared_cars=0, seconds_per_car=2.0, idle_s=1.0)

    @property
    def key(self) -> str:
        text = json.dumps({**asdict(self), "version": CLIP_VERSION}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class BenchClip:
    name: str
    path: Path
    cars: list[ClipCar]
    fps: float


def bench_plates(n: int, rng: np.random.Generator, taken: set[str]) -> list[tuple[str, PlateType]]:
    """`n` distinct plates in the dealership mix (none of `taken`, which is updated)."""
    plates: list[tuple[str, PlateType]] = []
    while len(plates) < n:
        ptype = _PLATE_MIX[len(plates) % len(_PLATE_MIX)]
        text = random_plate_text(ptype, rng, province=_PROVINCES[int(rng.integers(len(_PROVINCES)))])
        if text not in taken:
            taken.add(text)
            plates.append((text, ptype))
    return plates


def ensure_clips(plan: BenchPlan, root: Path = BENCH_DIR) -> tuple[list[BenchClip], Path]:
    """The car clips and the idle clip of `plan`, generated once under `root/<plan key>/`."""
    folder = root / plan.key
    rng = np.random.default_rng(plan.seed)
    taken: set[str] = set()
    specs: list[tuple[str, int, Literal["day", "night", "infrared"]]] = [
        ("day", plan.day_cars, "day"),
        ("night", plan.night_cars, "night"),
        ("infrared", plan.infrared_cars, "infrared"),
    ]
    clips: list[BenchClip] = []
    for name, n, exposure in specs:
        plates = bench_plates(n, rng, taken)
        if not plates:
            continue
        path = folder / f"{name}.mp4"
        if not (path.exists() and path.with_suffix(".json").exists()):
            log.info("generating bench clip %s (%d cars) ...", path, n)
            blur = [plan.blur_px if exposure == "day" and (i + 1) % plan.blur_every == 0 else 0 for i in range(n)]
            make_gate_clip(
                path, plates, seconds_per_car=plan.seconds_per_car, seed=plan.seed + n, blur_px=blur, exposure=exposure
            )
        fps = float(json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["fps"])
        clips.append(BenchClip(name, path, read_manifest(path), fps))
    idle = folder / "idle.mp4"
    if not (idle.exists() and idle.with_suffix(".json").exists()):
        make_gate_clip(idle, [], min_duration_s=plan.idle_s, seed=plan.seed)
    return clips, idle


class _Collector:
    """Subscribes to every bench arrival and keeps the validated events."""

    def __init__(self, broker: EmbeddedBroker) -> None:
        self.events: queue.SimpleQueue[ArrivalEvent] = queue.SimpleQueue()
        ready = threading.Event()
        self._client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"bench-{free_port()}")
        self._client.on_connect = lambda c, *_: c.subscribe(f"dealergate/{SITE}/+/arrival", qos=1)
        self._client.on_subscribe = lambda *_: ready.set()
        self._client.on_message = lambda c, u, m: self.events.put(ArrivalEvent.from_payload(m.payload))
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not ready.wait(10):
            raise RuntimeError("bench subscriber could not subscribe")

    def take(self, camera: str, quiet_s: float = 0.5) -> list[ArrivalEvent]:
        """Events of `camera` received until nothing more came for `quiet_s`."""
        got: list[ArrivalEvent] = []
        while True:
            try:
                event = self.events.get(timeout=quiet_s)
            except queue.Empty:
                return [e for e in got if e.camera == camera]
            got.append(event)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _rss_mb() -> float:
    """Resident memory of this process now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def _peak_rss() -> Iterator[Callable[[], float]]:
    """Samples the resident memory every 0.2 s while the block runs; yields a getter of the peak."""
    peak = [_rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, name="bench-rss", daemon=True)
    sampler.start()
    try:
        yield lambda: peak[0]
    finally:
        done.set()
        sampler.join()


def final_events(events: list[ArrivalEvent]) -> list[ArrivalEvent]:
    """What the screens end up showing: per `event_id` its highest revision, in first-publication order."""
    latest: dict[str, ArrivalEvent] = {}
    for e in events:
        key = str(e.event_id)
        if key not in latest or e.revision > latest[key].revision:
            latest[key] = e
    return list(latest.values())


def score(cars: list[ClipCar], events: list[ArrivalEvent]) -> dict[str, Any]:
    """Match published plates to the clip's cars: correct, duplicates (a car published again),
    wrong (a plate no car carried) and missed (plates never published). A correction of an event
    replaces it (it is not a second car); departures are not arrivals."""
    final = [e for e in final_events(events) if e.kind == "arrival"]
    expected = Counter(c.plate for c in cars)
    published = Counter(e.plate for e in final)
    correct = sum(min(n, published[p]) for p, n in expected.items())
    duplicates = sum(max(0, published[p] - n) for p, n in expected.items())
    wrong = sorted(p for p in published if p not in expected)
    missed = sorted(p for p, n in expected.items() if published[p] < n)
    corrected = sum(1 for e in final if e.revision > 0)
    return {"correct": correct, "duplicates": duplicates, "wrong": wrong, "missed": missed, "updates": corrected}


def _settings(camera: str, source: Path, work: Path, broker: EmbeddedBroker, realtime: bool) -> EdgeSettings:
    return EdgeSettings(
        source=str(source),
        site=SITE,
        camera=camera,
        realtime=realtime,
        mqtt_url=broker.url,
        snapshot_dir=work / "snapshots",
        outbox_path=work / f"{camera}.sqlite3",
    )  # type: ignore[arg-type]


def run_bench(
    plan: BenchPlan | None = None, root: Path = BENCH_DIR, reader: PlateReader | None = None
) -> dict[str, Any]:
    """Generate (or reuse) the clips, run the edge on them, and return the figures.

    `reader` defaults to the configured detector and OCR model (DEALERGATE_EDGE_* settings).
    """
    plan = plan or BenchPlan()
    clips, idle_clip = ensure_clips(plan, root)
    with tempfile.TemporaryDirectory(prefix="dealergate-bench-") as tmp, EmbeddedBroker("127.0.0.1", free_port()) as broker:
        work = Path(tmp)
        collector = _Collector(broker)
        try:
            reader = reader or PlateReader.from_settings(_settings("setup", idle_clip, work, broker, False))
            frames, loop_s, latencies, readable = 0, 0.0, [], []
            per_clip: dict[str, dict[str, Any]] = {}
            totals: Counter[str] = Counter()
            missed: list[str] = []
            wrong: list[str] = []
            with _peak_rss() as peak_rss:
                for clip in clips:
                    stats = run_edge(_settings(clip.name, clip.path, work, broker, False), reader=reader)
                    result = score(clip.cars, collector.take(clip.name))
                    frames += stats.frames
                    loop_s += stats.seconds
                    latencies += stats.arrival_latency_ms
                    readable += stats.readable_latency_ms
                    totals.update(
                        expected=len(clip.cars),
                        correct=result["correct"],
                        duplicates=result["duplicates"],
                        updates=result["updates"],
                    )
                    missed += result["missed"]
                    wrong += result["wrong"]
                    per_clip[clip.name] = _clip_figures(clip, stats, result)
                idle_cpu_pct = _idle_cpu_pct(_settings("idle", idle_clip, work, broker, True), reader)
                rss_mb = peak_rss()
        finally:
            collector.close()
    fps_raw = frames / loop_s if loop_s else 0.0
    clip_fps = clips[0].fps if clips else 25.0
    return {
        "realtime_factor": round(fps_raw / clip_fps, 2),
        "fps_raw": round(fps_raw, 1),
        # the measure: first readable (confidently read) frame -> PUBACK of the publication
        "arrival_latency_p95_ms": round(float(np.percentile(readable, 95)), 1) if readable else None,
        # stricter: from the first frame the plate was read at all (often a far-away guess)
        "first_read_latency_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        "idle_cpu_pct": round(idle_cpu_pct, 1),
        "rss_mb": round(rss_mb, 1),
        "arrivals_expected": totals["expected"],
        "arrivals_correct": totals["correct"],
        "arrival_accuracy": round(totals["correct"] / totals["expected"], 3) if totals["expected"] else None,
        "duplicates": totals["duplicates"],
        "updates": totals["updates"],
        "arrivals_wrong": len(wrong),
        "missed_plates": missed,
        "wrong_plates": wrong,
        "clips": per_clip,
        "frames": frames,
        # how often the second reader (edge.second_reader) was asked, changed a read, made one surer
        "second_reader": dict(getattr(reader.recognizer, "second_opinions", {})),
        # the speed figures above depend on the CPU's vector units (dealergate.host)
        "host": describe_host(),
    }


def _clip_figures(clip: BenchClip, stats: EdgeStats, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "cars": len(clip.cars),
        "correct": result["correct"],
        "duplicates": result["duplicates"],
        "updates": result["updates"],
        "wrong": len(result["wrong"]),
        "fps_raw": round(stats.frames / stats.seconds, 1) if stats.seconds else 0.0,
        "mean_frame_ms": round(stats.mean_frame_ms, 2),
        "gated_pct": round(100.0 * stats.frames_gated / stats.frames, 1) if stats.frames else 0.0,
    }


def _idle_cpu_pct(settings: EdgeSettings, reader: PlateReader) -> float:
    """Process CPU (all threads) per wall second while the edge watches an empty driveway in real
    time, in percent of one core."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    stats = run_edge(settings, reader=reader)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if stats.arrivals:
        log.warning("the idle clip produced %d arrival(s): idle CPU includes reading them", stats.arrivals)
    return 100.0 * cpu / wall if wall > 0 else 0.0


def report_lines(result: dict[str, Any]) -> list[str]:
    """The figures for a person, one per line (zh-CN / English)."""
    acc = result["arrival_accuracy"]
    second = result.get("second_reader", {})
    return [
        f"处理速度 Raw speed          {result['fps_raw']} fps ({result['realtime_factor']}× real time)",
        (
            f"到店延迟 Arrival latency p95 {result['arrival_latency_p95_ms']} ms from the first readable frame "
            f"({result['first_read_latency_p95_ms']} ms from the first read at all)"
        ),
        f"空闲占用 Idle CPU            {result['idle_cpu_pct']} % of one core",
        f"内存 Memory (RSS peak)       {result['rss_mb']} MB",
        (
            f"到店识别 Arrivals            {result['arrivals_correct']}/{result['arrivals_expected']}"
            f" ({acc if acc is None else f'{acc:.1%}'}), duplicates {result['duplicates']}, "
            f"wrong {result['arrivals_wrong']}"
        ),
        (
            f"第二识别 Second reader       asked {second.get('asked', 0)}, changed {second.get('changed', 0)}, "
            f"made surer {second.get('lifted', 0)} (of {result['frames']} frames)"
        ),
        f"主机 Host                    {host_line(result['host']) if 'host' in result else '?'}",
    ]
