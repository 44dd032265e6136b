"""Settings of one edge process (one camera at one site), from the environment or a YAML file.

Environment variables are `DEALERGATE_EDGE_<FIELD>` (e.g. `DEALERGATE_EDGE_SOURCE=rtsp://...`),
except the broker address, `DEALERGATE_MQTT_URL`, which the server shares. In a YAML file the
keys are the field names; the environment wins over the file so that a unit file can override one
value of a shared config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from dealergate.contract import Slug

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
    detector: str = Field(default="color", description="Plate detector plugin name (see edge.detect).")
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
    ocr_model: Path = Field(
        default=Path("models/ocr/dealergate_ocr.onnx"),
        description="ONNX OCR model (fast-plate-ocr); relative paths start at the repository root.",
    )
    ocr_config: Path = Field(
        default=Path("models/ocr/plate_config.yaml"),
        description="fast-plate-ocr plate config of that model; relative to the repository root.",
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
        description="Confident reads of exactly the voted plate needed before an arrival is published "
        "(half as many, rounded up, when the car leaves view sooner).",
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
        description="Where plate crops are kept (<camera>/<date>/<event_id>.jpg); relative to the repository root.",
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

    @property
    def ocr_model_path(self) -> Path:
        return resolve_path(self.ocr_model)

    @property
    def ocr_config_path(self) -> Path:
        return resolve_path(self.ocr_config)

    @property
    def snapshot_root(self) -> Path:
        return resolve_path(self.snapshot_dir)

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
