"""The MQTT event contract between edge and server: the only thing the two processes share.

Versioned with `schema_version`; `docs/mqtt.md` holds the JSON Schema printed by
`dealergate contract schema`. Both sides validate with these models, so a payload the edge can
build is exactly a payload the server accepts.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Final, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dealergate.plates import PLATE_TEXT_RE, PlateColor, PlateType

SCHEMA_VERSION: Final[Literal[1]] = 1
TOPIC_ROOT = "dealergate"
_SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Slug = Annotated[str, Field(pattern=_SLUG, description="lower-case id: letters, digits, - and _")]


def arrival_topic(site: str, camera: str) -> str:
    """Topic an edge publishes arrivals on: `dealergate/<site>/<camera>/arrival`."""
    return f"{TOPIC_ROOT}/{site}/{camera}/arrival"


ARRIVAL_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/arrival"
"""Wildcard the server subscribes to (every site, every camera)."""


class PlateBox(BaseModel):
    """Plate bounding box in frame pixels (x1, y1) top-left, (x2, y2) bottom-right."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    x1: int = Field(ge=0)
    y1: int = Field(ge=0)
    x2: int = Field(ge=0)
    y2: int = Field(ge=0)


EventKind = Literal["arrival", "departure"]
"""Which way the car crossed the gate line: in (`arrival`, alerts the screens) or out (`departure`,
recorded for dwell time only). Edges without a gate line send only `arrival`."""


class ArrivalEvent(BaseModel):
    """A car seen at the gate: one event per car, identified by `event_id`.

    The edge publishes as soon as the read is confident (`revision` 0) and publishes the same
    `event_id` again with a higher `revision` when later frames give a clearly better read; the
    server keeps the highest revision and ignores older or repeated ones.
    `crop_ref` names the plate crop kept on the edge (`<camera>/<YYYY-MM-DD>/<event_id>.jpg`);
    `crop_jpeg_b64` optionally carries the crop itself (≤ 64 KiB) so screens can show it at once.
    `frame_ref` optionally names a downscaled JPEG of the whole frame kept next to the crop
    (`<camera>/<YYYY-MM-DD>/<event_id>.frame.jpg`); both are fetchable from the edge while kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    kind: EventKind = "arrival"
    revision: int = Field(
        default=0,
        ge=0,
        description="0 for the first publication of `event_id`, +1 for each correction of it",
    )
    site: Slug
    camera: Slug
    plate: str = Field(description="plate text without separator, e.g. 京A12345")
    confidence: float = Field(ge=0.0, le=1.0, description="whole-plate confidence")
    char_confidences: list[float] | None = Field(default=None, max_length=9)
    plate_color: PlateColor = PlateColor.UNKNOWN
    plate_type: PlateType = PlateType.UNKNOWN
    captured_at: AwareDatetime = Field(description="ISO-8601 with time zone")
    box: PlateBox | None = None
    crop_ref: str | None = Field(default=None, max_length=256)
    crop_jpeg_b64: str | None = Field(default=None, max_length=65536 * 4 // 3 + 4)
    frame_ref: str | None = Field(
        default=None,
        max_length=256,
        description="downscaled frame JPEG kept on the edge, relative to its snapshot folder; optional",
    )

    @field_validator("plate")
    @classmethod
    def _plate_shape(cls, v: str) -> str:
        if not PLATE_TEXT_RE.fullmatch(v):
            raise ValueError(
                f"车牌 {v!r} 须为 7-9 个车牌字符（省份、除 I/O 外的字母、数字、警学挂港澳使领应急；O 仅作发牌机关代号）"
                f" / plate {v!r} must be 7-9 characters of the Chinese plate alphabet "
                "(province, letters without I/O, digits, 警学挂港澳使领应急; O only as an authority code)"
            )
        return v

    @field_validator("char_confidences")
    @classmethod
    def _char_conf_range(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and any(not 0.0 <= c <= 1.0 for c in v):
            raise ValueError("逐字置信度须在 [0, 1] 之间 / char_confidences must each lie in [0, 1]")
        return v

    @field_validator("crop_ref", "frame_ref")
    @classmethod
    def _ref_relative(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and (v.startswith("/") or ".." in v.split("/") or not re.fullmatch(r"[\w./-]+", v)):
            raise ValueError(f"{info.field_name} 须为不含 '..' 的相对路径 / must be a relative path without '..'")
        return v

    def topic(self) -> str:
        return arrival_topic(self.site, self.camera)

    def to_payload(self) -> bytes:
        """UTF-8 JSON bytes as published (Chinese kept readable, not \\u-escaped).

        `revision` 0 is left out, so a first publication is byte-for-byte what a server that
        predates revisions (unknown fields rejected) accepts.
        """
        exclude = {"revision"} if self.revision == 0 else None
        return self.model_dump_json(exclude_none=True, exclude=exclude).encode("utf-8")

    @classmethod
    def from_payload(cls, payload: bytes | str) -> "ArrivalEvent":
        """Parse and validate; raises `pydantic.ValidationError` with the field at fault."""
        return cls.model_validate_json(payload)


def arrival_json_schema() -> dict:
    """JSON Schema of the arrival event (draft 2020-12), as documented in docs/mqtt.md."""
    schema = ArrivalEvent.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://dealergate.local/schemas/arrival-v1.json"
    return schema


def now_local() -> datetime:
    """Current time with the machine's time zone, the form `captured_at` expects."""
    return datetime.now().astimezone()


# -- edge health: retained status (with last will) and heartbeat ---------------------------------


def status_topic(site: str, camera: str) -> str:
    """Retained online/offline topic of one edge: `dealergate/<site>/<camera>/status`."""
    return f"{TOPIC_ROOT}/{site}/{camera}/status"


def heartbeat_topic(site: str, camera: str) -> str:
    """Periodic health topic of one edge: `dealergate/<site>/<camera>/heartbeat`."""
    return f"{TOPIC_ROOT}/{site}/{camera}/heartbeat"


STATUS_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/status"
HEARTBEAT_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/heartbeat"

SourceState = Literal["connected", "reconnecting", "stalled", "ended"]
"""Video source state: frames flowing, reopening after a loss, no frame for too long, file done."""


class _EdgeMessage(BaseModel):
    """Shared shape of the edge health messages (strict, frozen, UTF-8 JSON on the wire)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    kind: str  # each message type narrows it to its own literal
    site: Slug
    camera: Slug
    at: AwareDatetime = Field(description="when the edge built this message, with time zone")

    def to_payload(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    @classmethod
    def from_payload(cls, payload: bytes | str) -> Self:
        """Parse and validate; raises `pydantic.ValidationError` with the field at fault."""
        return cls.model_validate_json(payload)


class EdgeStatus(_EdgeMessage):
    """Whether an edge is up, retained so a screen that connects later knows at once.

    `online` is published on every (re)connection; `offline` with reason `shutdown` on a clean
    stop, and the broker publishes the last will (`offline`, `connection_lost`) when the edge
    vanishes. The broker stores the will when the edge connects, so for `connection_lost` `at`
    is the time of that connection, not of the loss.
    """

    kind: Literal["status"] = "status"
    state: Literal["online", "offline"]
    reason: Literal["started", "shutdown", "connection_lost"]
    version: str = Field(max_length=32, description="dealergate version of the edge")

    def topic(self) -> str:
        return status_topic(self.site, self.camera)


class EdgeHeartbeat(_EdgeMessage):
    """An edge's vital signs every `heartbeat_s` seconds (QoS 0, not retained).

    Rates and means cover the interval since the previous heartbeat; counters are totals since
    the edge started.
    """

    kind: Literal["heartbeat"] = "heartbeat"
    uptime_s: float = Field(ge=0.0)
    fps: float = Field(ge=0.0, description="frames processed per second over the interval")
    mean_frame_ms: float = Field(ge=0.0, description="mean processing time of a frame over the interval")
    frames_gated: int = Field(
        default=0, ge=0, description="frames in the interval not read because nothing moved"
    )
    arrivals: int = Field(ge=0, description="arrivals delivered to the broker in the interval")
    arrival_latency_ms: float | None = Field(
        default=None,
        ge=0.0,
        description="mean time from a car's first readable frame to the broker's PUBACK, over the "
        "interval's arrivals; absent when there were none",
    )
    outbox_depth: int = Field(ge=0, description="arrivals stored on disk and not yet acknowledged")
    frames_dropped: int = Field(ge=0, description="frames skipped to keep up with real time")
    frames_corrupt: int = Field(ge=0, description="empty or undecodable frames skipped")
    source_state: SourceState
    reconnects: int = Field(ge=0, description="times the video source was reopened")

    def topic(self) -> str:
        return heartbeat_topic(self.site, self.camera)
