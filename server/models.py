"""Database tables: the dealer's customers, their cars, policies, claims, visits; staff; arrivals.

Plain SQLModel tables without relationships: queries load what a screen needs explicitly
(`matching.load_vehicle_file`), which keeps the MQTT thread's work predictable. Enumerations are
stored as their plain string values (not database ENUM types), so adding a value needs no migration.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from server.db import UtcDateTime, utc_now


class Role(StrEnum):
    """Staff roles; each screen and route names the roles it admits."""

    RECEPTIONIST = "receptionist"
    ADVISOR = "advisor"
    MANAGER = "manager"
    ADMIN = "admin"


class Gender(StrEnum):
    """Only used to address the customer (先生 / 女士); unknown gets the neutral 您好."""

    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "U"


class Channel(StrEnum):
    """Who sold the policy; anything but DEALER means the renewal is insured elsewhere."""

    DEALER = "dealer"  # 本店
    INSURER_DIRECT = "insurer_direct"  # 保险公司直销 / 电销
    ONLINE = "online"  # 互联网平台
    OTHER_AGENT = "other_agent"  # 其他代理 / 4S店


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32)
    phone: str = Field(max_length=20, index=True)
    gender: str = Field(default=Gender.UNKNOWN.value, max_length=1, description="M / F / U (Gender)")
    city: str = Field(default="", max_length=32)
    grade: str | None = Field(default=None, max_length=1, description="renewal grade A-D, when assessed")
    consent_greeting: bool = Field(
        default=False, description="agreed to be greeted by name on public screens"
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class Vehicle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    plate: str = Field(max_length=9, unique=True, index=True)
    plate_type: str = Field(default="unknown", max_length=20)
    vin: str = Field(default="", max_length=17)
    brand: str = Field(max_length=32)
    model: str = Field(max_length=48)
    series: str = Field(default="", max_length=64)
    price_class: str = Field(default="", max_length=16, description="economy / mid / premium")
    purchase_date: date | None = None
    mileage_km: int | None = None
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)


class Policy(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    policy_no: str = Field(max_length=32, unique=True)
    insurer: str = Field(max_length=16)
    start_date: date
    end_date: date = Field(index=True)
    premium: float = Field(ge=0, description="commercial premium in 元")
    ncd_factor: float = Field(default=1.0, description="no-claim discount factor 无赔款优待系数")
    coverages: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel: str = Field(default=Channel.DEALER.value, max_length=16, description="Channel value")
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)


class Claim(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    date: date
    amount: float = Field(ge=0, description="元")
    type: str = Field(max_length=24, description="glass / collision / scratch / flood / theft / rear_end")


class ServiceVisit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    date: date
    kind: str = Field(max_length=24, description="maintenance / repair / bodywork / warranty")
    mileage: int | None = None


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    display_name: str = Field(max_length=32)
    role: str = Field(max_length=16, description="Role value")
    password_hash: str = Field(max_length=256)
    active: bool = True


class Arrival(SQLModel, table=True):
    """One gate event as received; `alerted` is False for a repeat sighting within the dwell window."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True, index=True)
    site: str = Field(max_length=63)
    camera: str = Field(max_length=63)
    plate: str = Field(max_length=9, index=True)
    confidence: float
    plate_color: str = Field(default="unknown", max_length=16)
    plate_type: str = Field(default="unknown", max_length=20)
    captured_at: datetime = Field(index=True, sa_type=UtcDateTime)
    received_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    vehicle_id: int | None = Field(default=None, foreign_key="vehicle.id")
    match: str = Field(default="none", max_length=8, description="exact / none")
    alerted: bool = Field(default=True)
    crop_jpeg_b64: str | None = None


class AuditLog(SQLModel, table=True):
    """Who looked at whom (PIPL): written by every route that reveals a customer's file."""

    id: int | None = Field(default=None, primary_key=True)
    who: str = Field(max_length=32, index=True)
    action: str = Field(max_length=32)
    customer_id: int | None = Field(default=None, index=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
