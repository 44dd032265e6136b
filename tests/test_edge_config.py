"""Edge settings: defaults, environment, YAML file, precedence and path resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.config import REPO_ROOT, EdgeSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("DEALERGATE_"):
            monkeypatch.delenv(key)


def test_defaults_and_documentation() -> None:
    s = EdgeSettings()
    assert (s.site, s.camera, s.detector, s.realtime, s.loop) == ("demo", "gate-1", "color", True, False)
    assert s.cooldown_s == 600 and s.min_reads >= 1
    assert s.mqtt_url == "mqtt://127.0.0.1:1883"
    assert s.client_id == "dealergate-edge-demo-gate-1"
    assert s.ocr_model_path == REPO_ROOT / "models/ocr/dealergate_ocr_int8.onnx"
    assert s.ocr_config_path == REPO_ROOT / "models/ocr/plate_config.yaml"
    assert s.snapshot_root == REPO_ROOT / "var/snapshots"
    assert s.outbox_file == REPO_ROOT / "var/outbox/demo-gate-1.sqlite3"
    assert EdgeSettings(snapshot_dir=Path("/srv/edge/snaps"), camera="gate-2").outbox_file == Path(
        "/srv/edge/outbox/demo-gate-2.sqlite3"
    )
    assert EdgeSettings(outbox_path=Path("state/ob.db")).outbox_file == REPO_ROOT / "state/ob.db"
    assert (s.heartbeat_s, s.stall_timeout_s, s.reconnect_max_s) == (30.0, 10.0, 30.0)
    assert all(f.description for f in EdgeSettings.model_fields.values())


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERGATE_EDGE_SOURCE", "rtsp://cam/1")
    monkeypatch.setenv("DEALERGATE_EDGE_MIN_READS", "5")
    monkeypatch.setenv("DEALERGATE_EDGE_REALTIME", "false")
    monkeypatch.setenv("DEALERGATE_MQTT_URL", "mqtt://broker:1884")
    monkeypatch.setenv("MQTT_URL", "mqtt://not-ours")
    s = EdgeSettings()
    assert (s.source, s.min_reads, s.realtime, s.mqtt_url) == ("rtsp://cam/1", 5, False, "mqtt://broker:1884")
    monkeypatch.setenv("DEALERGATE_EDGE_MQTT_URL", "mqtt://edge-only")
    assert EdgeSettings().mqtt_url == "mqtt://edge-only"  # the specific variable wins


def test_yaml_file_with_environment_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "edge.yaml"
    cfg.write_text(
        "site: store-7\ncamera: gate-2\nsource: /clips/gate.mp4\nmin_reads: 4\n"
        "mqtt_url: mqtt://file-broker\nocr_model: /opt/models/ocr.onnx\n",
        encoding="utf-8",
    )
    s = EdgeSettings.from_yaml(cfg)
    assert (s.site, s.camera, s.source, s.min_reads, s.mqtt_url) == (
        "store-7",
        "gate-2",
        "/clips/gate.mp4",
        4,
        "mqtt://file-broker",
    )
    assert s.ocr_model_path == Path("/opt/models/ocr.onnx")
    assert isinstance(s, EdgeSettings) and type(s) is EdgeSettings
    monkeypatch.setenv("DEALERGATE_EDGE_MIN_READS", "6")
    monkeypatch.setenv("DEALERGATE_MQTT_URL", "mqtt://env-broker")
    s = EdgeSettings.from_yaml(cfg, site="cli-site")
    assert (s.min_reads, s.mqtt_url, s.site) == (6, "mqtt://env-broker", "cli-site")
    assert s.model_copy(update={"source": "0"}).source == "0"


def test_invalid_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="min_reads"):
        EdgeSettings(min_reads=0)
    with pytest.raises(ValidationError, match="site"):
        EdgeSettings(site="Store 7")  # topic level must be a lower-case slug
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: a.mp4\ncooldown: 5\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="cooldown"):
        EdgeSettings.from_yaml(bad)
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        EdgeSettings.from_yaml(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(TypeError, match="mapping"):
        EdgeSettings.from_yaml(tmp_path / "list.yaml")


def test_gate_line_needs_an_inside_point_off_the_line() -> None:
    s = EdgeSettings(gate_line=[[0, 0.6], [1, 0.6]], gate_inside=[0.5, 1])
    assert s.gate_line == ((0.0, 0.6), (1.0, 0.6)) and s.gate_inside == (0.5, 1.0)
    assert EdgeSettings().gate_line is None  # no line: every car is an arrival
    with pytest.raises(ValidationError, match="gate_inside"):
        EdgeSettings(gate_line=[[0, 0.6], [1, 0.6]])
    with pytest.raises(ValidationError, match="gate_inside"):
        EdgeSettings(gate_line=[[0, 0.6], [1, 0.6]], gate_inside=[0.3, 0.6])  # on the line
    with pytest.raises(ValidationError, match="gate_line"):
        EdgeSettings(gate_line=[[0, 0.6], [1.5, 0.6]], gate_inside=[0.5, 1])


def test_gate_line_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERGATE_EDGE_GATE_LINE", "[[0, 0.5], [1, 0.7]]")
    monkeypatch.setenv("DEALERGATE_EDGE_GATE_INSIDE", "[0.5, 1]")
    assert EdgeSettings().gate_line == ((0.0, 0.5), (1.0, 0.7))
