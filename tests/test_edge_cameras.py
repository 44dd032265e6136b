"""Several cameras in one edge process (`cameras:` in the YAML): config, pipelines side by side,
per-camera topics and status, one dead source not stopping the others, a shared stop.

Like tests/test_edge_runner.py, the recognizer names the plate by its background colour, so the
wiring is tested without the OCR model.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError
from typer.testing import CliRunner

from dealergate.broker import EmbeddedBroker, free_port
from dealergate.cli import app
from dealergate.contract import ArrivalEvent, EdgeStatus
from dealergate.plates import PlateColor, PlateType
from dealergate.synth.gate_clip import make_gate_clip
from edge.capture import SourceError
from edge.config import EdgeSettings
from edge.detect.color import ColorPlateDetector, dominant_plate_color
from edge.reader import PlateReader
from edge.runner import run_cameras
from edge.types import PlateRead

PLATES = {PlateColor.BLUE: "京A12345", PlateColor.YELLOW: "苏E67890"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("DEALERGATE_"):
            monkeypatch.delenv(key)


class ColourNamer:
    def read(self, crop_bgr: np.ndarray) -> PlateRead:
        text = PLATES.get(dominant_plate_color(crop_bgr), "")
        return PlateRead(text, 0.96 if text else 0.0, (0.96,) * len(text))

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[PlateRead]:
        return [self.read(c) for c in crops]


def colour_reader(_settings: EdgeSettings) -> PlateReader:
    return PlateReader(ColorPlateDetector(), ColourNamer())


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A blue-plate car at the entrance, a yellow-plate car at the exit: short, small, 10 fps."""
    folder = tmp_path_factory.mktemp("clips")
    out = {}
    for name, plate, kind, seed in (
        ("entrance", PLATES[PlateColor.BLUE], PlateType.BLUE, 3),
        ("exit", PLATES[PlateColor.YELLOW], PlateType.YELLOW, 5),
    ):
        out[name] = folder / f"{name}.mp4"
        make_gate_clip(out[name], [(plate, kind)], fps=10, size=(640, 360), seconds_per_car=3, seed=seed)
    return out


def two_cameras(
    tmp_path: Path, broker: EmbeddedBroker, entrance: str, exit_: str, **shared: object
) -> EdgeSettings:
    cfg = tmp_path / "edge.yaml"
    cfg.write_text(
        json.dumps(
            {
                "site": f"multi{free_port()}",
                "mqtt_url": broker.url,
                "snapshot_dir": str(tmp_path / "snaps"),
                "realtime": False,
                **shared,
                "cameras": [{"camera": "entrance", "source": entrance}, {"camera": "exit", "source": exit_}],
            }
        ),
        encoding="utf-8",
    )
    return EdgeSettings.from_yaml(cfg)


def subscribe(broker: EmbeddedBroker, topic: str) -> tuple[mqtt.Client, queue.Queue[tuple[str, bytes]]]:
    got: queue.Queue[tuple[str, bytes]] = queue.Queue()
    ready = threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:12]}"
    )
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda c, u, m: got.put((m.topic, m.payload))
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert ready.wait(10)
    return client, got


def drain(got: queue.Queue[tuple[str, bytes]], wait_s: float = 1.0) -> list[tuple[str, bytes]]:
    out = []
    try:
        while True:
            out.append(got.get(timeout=wait_s))
    except queue.Empty:
        return out


def test_config_cameras_over_shared_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "edge.yaml"
    cfg.write_text(
        "site: store-7\nmqtt_url: mqtt://broker\nmin_reads: 4\ncameras:\n"
        "  - camera: entrance\n    source: rtsp://cam/1\n    gate_line: [[0, 0.6], [1, 0.6]]\n    gate_inside: [0.5, 1]\n"
        "  - camera: exit\n    source: rtsp://cam/2\n    min_reads: 2\n    motion_roi: [0, 0.3, 1, 1]\n",
        encoding="utf-8",
    )
    entrance, exit_ = EdgeSettings.from_yaml(cfg).camera_settings()
    assert (entrance.camera, entrance.source, entrance.min_reads, entrance.site) == (
        "entrance",
        "rtsp://cam/1",
        4,
        "store-7",
    )
    assert entrance.gate_line == ((0.0, 0.6), (1.0, 0.6)) and exit_.gate_line is None
    assert (exit_.camera, exit_.source, exit_.min_reads, exit_.motion_roi) == (
        "exit",
        "rtsp://cam/2",
        2,
        (0, 0.3, 1, 1),
    )
    assert exit_.mqtt_url == entrance.mqtt_url == "mqtt://broker"
    assert entrance.outbox_file != exit_.outbox_file and entrance.client_id != exit_.client_id
    assert entrance.cameras == [] and type(entrance) is EdgeSettings
    single = EdgeSettings(camera="gate-2")
    assert single.camera_settings() == [single]  # no `cameras:`: the top level is the camera


@pytest.mark.parametrize(
    ("cores", "cameras", "explicit", "each"),
    [(2, 1, None, 2), (2, 2, None, 1), (2, 3, None, 1), (8, 2, None, 2), (16, 1, None, 2), (2, 2, 2, 2)],
)
def test_cameras_share_the_cores_for_their_ocr_unless_told(
    monkeypatch: pytest.MonkeyPatch, cores: int, cameras: int, explicit: int | None, each: int
) -> None:
    """Each camera's OCR session has its own threads, which spin after a run: two cameras with two
    threads each on two cores took a core from each other."""
    monkeypatch.setattr("edge.config.usable_cores", lambda: cores)
    entries = [{"camera": f"cam-{i}", "source": f"rtsp://cam/{i}"} for i in range(cameras)]
    settings = EdgeSettings(cameras=entries if cameras > 1 else [], ocr_threads=explicit)
    assert settings.inference_threads() == each
    assert [cam.inference_threads() for cam in settings.camera_settings()] == [each] * cameras


def test_each_cameras_ocr_and_learned_detector_get_the_shared_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("edge.config.usable_cores", lambda: 2)
    entries = [{"camera": f"cam-{i}", "source": f"rtsp://cam/{i}"} for i in range(2)]
    cam = EdgeSettings(cameras=entries, fallback_detector="retina", refine_detector="retina").camera_settings()[0]
    reader = PlateReader.from_settings(cam, stream=True)
    assert reader.recognizer._session.get_session_options().intra_op_num_threads == 1
    assert reader.fallback._session.get_session_options().intra_op_num_threads == 1


@pytest.mark.parametrize(
    ("cameras", "message"),
    [
        ([{"camera": "gate"}, {"camera": "gate"}], "duplicate camera slug 'gate'"),
        ([{"camera": "a", "sourse": "x"}], r"cameras\[0\] \(a\): unknown setting\(s\) sourse"),
        ([{"camera": "a", "site": "other"}], "site is shared by all cameras"),
        ([{"source": "x"}], "needs its own `camera` slug"),
        ([{"camera": "a", "gate_line": [[0, 0.5], [1, 0.5]]}], "gate_inside must be set together"),
        ([{"camera": "Entrance 1"}], "camera"),
        (
            [{"camera": "a", "outbox_path": "o.db"}, {"camera": "b", "outbox_path": "o.db"}],
            "duplicate outbox file",
        ),
    ],
)
def test_bad_camera_lists_are_refused(cameras: list[dict], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EdgeSettings(cameras=cameras)


def test_cli_refuses_duplicate_slugs_with_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "edge.yaml"
    cfg.write_text(
        "cameras:\n  - camera: gate\n    source: a.mp4\n  - camera: gate\n    source: b.mp4\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["edge", "run", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "duplicate camera slug 'gate'" in res.output
    res = CliRunner().invoke(app, ["edge", "run", "--config", str(cfg).replace("edge.yaml", "x.yaml")])
    assert res.exit_code == 2


def test_two_cameras_publish_their_own_arrivals_and_status(
    clips: dict[str, Path], tmp_path: Path, mqtt_broker: EmbeddedBroker
) -> None:
    s = two_cameras(tmp_path, mqtt_broker, str(clips["entrance"]), str(clips["exit"]))
    client, got = subscribe(mqtt_broker, f"dealergate/{s.site}/#")
    try:
        runs = run_cameras(s, reader_for=colour_reader)
        messages = [m for m in drain(got) if m[0].startswith(f"dealergate/{s.site}/")]
    finally:
        client.disconnect()
        client.loop_stop()
    assert [r.camera for r in runs] == ["entrance", "exit"] and all(r.error is None for r in runs)
    assert [r.stats.arrivals for r in runs if r.stats] == [1, 1]
    arrivals = {t: ArrivalEvent.from_payload(p) for t, p in messages if t.endswith("/arrival")}
    assert {(t, e.camera, e.plate) for t, e in arrivals.items()} == {
        (f"dealergate/{s.site}/entrance/arrival", "entrance", "京A12345"),
        (f"dealergate/{s.site}/exit/arrival", "exit", "苏E67890"),
    }
    for e in arrivals.values():  # snapshots kept under each camera's own folder
        assert (
            e.crop_ref and e.crop_ref.startswith(f"{e.camera}/") and (s.snapshot_root / e.crop_ref).is_file()
        )
    last_status = {}
    for t, p in messages:
        if t.endswith("/status"):
            last_status[t] = EdgeStatus.model_validate_json(p)
    assert {t: (m.camera, m.state, m.reason) for t, m in last_status.items()} == {
        f"dealergate/{s.site}/entrance/status": ("entrance", "offline", "shutdown"),
        f"dealergate/{s.site}/exit/status": ("exit", "offline", "shutdown"),
    }
    assert all(
        (s.snapshot_root.parent / "outbox" / f"{s.site}-{c}.sqlite3").is_file() for c in ("entrance", "exit")
    )


def test_a_dead_source_does_not_stop_the_other_camera(
    clips: dict[str, Path], tmp_path: Path, mqtt_broker: EmbeddedBroker
) -> None:
    s = two_cameras(tmp_path, mqtt_broker, str(clips["entrance"]), str(tmp_path / "gone.mp4"))
    client, got = subscribe(mqtt_broker, f"dealergate/{s.site}/+/arrival")
    try:
        runs = run_cameras(s, reader_for=colour_reader)
        messages = [m for m in drain(got) if m[0].startswith(f"dealergate/{s.site}/")]
    finally:
        client.disconnect()
        client.loop_stop()
    entrance, exit_ = runs
    assert entrance.error is None and entrance.stats is not None and entrance.stats.arrivals == 1
    assert isinstance(exit_.error, SourceError) and "gone.mp4" in str(exit_.error)
    assert [(t, ArrivalEvent.from_payload(p).plate) for t, p in messages] == [
        (f"dealergate/{s.site}/entrance/arrival", "京A12345")
    ]


def test_stop_ends_every_camera(clips: dict[str, Path], tmp_path: Path, mqtt_broker: EmbeddedBroker) -> None:
    """What SIGTERM does: one event stops both looping cameras, each of which flushes and says offline."""
    s = two_cameras(
        tmp_path, mqtt_broker, str(clips["entrance"]), str(clips["exit"]), realtime=True, loop=True
    )
    stop = threading.Event()
    result: list = []
    runner = threading.Thread(target=lambda: result.append(run_cameras(s, stop, reader_for=colour_reader)))
    runner.start()
    time.sleep(2.0)
    stop.set()
    runner.join(timeout=30)
    assert not runner.is_alive() and result
    runs = result[0]
    assert all(r.error is None and r.stats is not None and r.stats.frames > 0 for r in runs)
    assert all(r.stats.unacknowledged == 0 for r in runs if r.stats)


def test_cli_runs_every_camera_and_reports_a_failed_one(tmp_path: Path, mqtt_broker: EmbeddedBroker) -> None:
    """`dealergate edge run --config` with the real reader: the entrance publishes its car although
    the exit's file is missing; exit status 1 (some cameras failed)."""
    import os
    import subprocess
    import sys

    clip = tmp_path / "entrance.mp4"
    make_gate_clip(clip, [("苏E12345", PlateType.BLUE)], fps=10, size=(640, 360), seconds_per_car=3)
    s = two_cameras(tmp_path, mqtt_broker, str(clip), str(tmp_path / "gone.mp4"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEALERGATE_")}
    argv = [str(Path(sys.executable).parent / "dealergate"), "edge", "run", "--config", str(tmp_path / "edge.yaml")]
    client, got = subscribe(mqtt_broker, f"dealergate/{s.site}/+/arrival")
    try:
        res = subprocess.run(argv, check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        messages = [m for m in drain(got) if m[0].startswith(f"dealergate/{s.site}/")]
    finally:
        client.disconnect()
        client.loop_stop()
    assert res.returncode == 1, res.stderr[-2000:]
    assert "camera=entrance" in res.stderr and "arrivals=1" in res.stderr, res.stderr[-2000:]
    assert "camera exit failed" in res.stderr and "gone.mp4" in res.stderr
    assert [(t, ArrivalEvent.from_payload(p).plate) for t, p in messages] == [
        (f"dealergate/{s.site}/entrance/arrival", "苏E12345")
    ]
