"""The server's one settings tree: environment (`DEALERGATE_*`, nested with `__`) over defaults.

Everything the server process needs to know lives here and is validated at start-up, so a typo
in a URL fails loudly before the first arrival rather than at the gate.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_KIOSK_TOKEN = "demo-kiosk"
"""Public demo token; `/kiosk` fills it in by itself only while it is still the default."""

_PAGES_DIR = Path(__file__).resolve().parent.parent / "kiosk"


@dataclass(frozen=True)
class MqttTarget:
    """Broker address split out of `mqtt_url`, the form paho's `connect` wants."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


class ServerSettings(BaseSettings):
    """Settings of `dealergate server run`; each field reads `DEALERGATE_<NAME>` from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="DEALERGATE_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    database_url: str = Field(
        default="sqlite:///var/dealergate.db",
        validation_alias=AliasChoices("DEALERGATE_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL, from DEALERGATE_DATABASE_URL or else DATABASE_URL. SQLite paths are "
        "relative to the working directory and their folder is created. PostgreSQL: "
        "postgresql+psycopg://user:pass@host:5432/db (postgres:// and postgresql:// mean the same: "
        "psycopg 3 is the driver installed). The schema is migrated to the latest revision at start.",
    )
    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="Broker the edges publish arrivals to: mqtt://[user:pass@]host[:port] "
        "(mqtts:// for TLS, default port 8883).",
    )
    mqtt_client_id: str = Field(
        default="",
        description="Fixed MQTT client id so the broker keeps the persistent session (and the "
        "arrivals queued while the server was down); empty means dealergate-server-<site>.",
    )
    site: str = Field(
        default="demo",
        description="Dealership site id, as used in MQTT topics: the code of this server's store in the "
        "site table (created at start, named by its code, when missing).",
    )
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="HTTP port.")
    var_dir: Path = Field(
        default=Path("var"),
        description="Folder for state that must survive restarts (generated secret key, SQLite file).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs staff session cookies; when unset one is generated once and "
        "kept in <var_dir>/secret_key so logins survive a restart.",
    )
    session_hours: float = Field(default=12.0, gt=0, description="Lifetime of a staff login (one shift).")
    login_max_failures: int = Field(
        default=10,
        ge=1,
        description="Wrong passwords one device may try within `login_window_minutes` before it must wait.",
    )
    login_window_minutes: float = Field(
        default=10.0,
        gt=0,
        description="Window over which failed logins are counted; a device at the limit waits until its "
        "oldest counted failure is this old.",
    )
    kiosk_token: SecretStr = Field(
        default=SecretStr(DEFAULT_KIOSK_TOKEN),
        description="Token the waiting-area kiosk passes as ?token= to /ws/kiosk; change it in production.",
    )
    seed_demo: bool = Field(default=False, description="Fill an empty database with the demo dataset.")
    demo_seed: int = Field(
        default=2026, description="Random seed of the demo dataset (same seed, same plates)."
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="Time zone of the dealership: decides 'today'."
    )
    dwell_window_s: int = Field(
        default=600,
        ge=0,
        description="A plate seen again within this many seconds of its last alert is the same visit, "
        "not a new arrival (cars queue, reverse, leave and come back).",
    )
    pages_dir: Path = Field(default=_PAGES_DIR, description="Folder with the browser screens (kiosk/).")
    log_level: str = Field(default="INFO", description="Python logging level of the server process.")
    daily_jobs: bool = Field(
        default=True,
        description="Run the daily jobs inside the server process: the renewal reminder run "
        "(tasks at 90/60/30 days and each contact-timeline step) and the retention purge.",
    )
    daily_jobs_hour: int = Field(
        default=6, ge=0, le=23, description="Local hour (dealership time zone) the daily jobs run at."
    )
    snapshot_retention_days: int = Field(
        default=30,
        ge=1,
        description="Plate snapshots (the JPEG crop stored with an arrival) older than this many days "
        "are deleted by the daily retention job.",
    )
    arrival_retention_days: int = Field(
        default=365,
        ge=1,
        description="Arrivals (plate, time, camera) older than this many days are deleted by the daily "
        "retention job; tasks and aliases they created stay, without the link.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from exc
        return v

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, v: str) -> str:
        """postgres:// and postgresql:// (as PaaS and docs write them) use psycopg 3, the driver we ship."""
        for prefix in ("postgres://", "postgresql://"):
            if v.startswith(prefix):
                return "postgresql+psycopg://" + v[len(prefix) :]
        return v

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url_shape(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
            raise ValueError(f"mqtt_url {v!r} must look like mqtt://[user:pass@]host[:port]")
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def client_id(self) -> str:
        return self.mqtt_client_id or f"dealergate-server-{self.site}"

    def mqtt_target(self) -> MqttTarget:
        parts = urlsplit(self.mqtt_url)
        tls = parts.scheme == "mqtts"
        return MqttTarget(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def mqtt_url_redacted(self) -> str:
        """The broker URL fit for a log line (password replaced)."""
        t = self.mqtt_target()
        user = f"{t.username}:***@" if t.username else ""
        return f"{'mqtts' if t.tls else 'mqtt'}://{user}{t.host}:{t.port}"

    def session_secret(self) -> bytes:
        """Cookie-signing key: the configured one, else the one kept in var/ (created on first use)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode("utf-8")
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text(encoding="ascii").strip().encode("ascii")
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return path.read_text(encoding="ascii").strip().encode("ascii")
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        return key.encode("ascii")
