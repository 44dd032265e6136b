"""Database tables: the dealership's stores (sites); the dealer's customers, their cars, policies
(with coverages), claims, visits; staff; arrivals; the renewal work (tasks, contact log, quotes,
appointments); consent and audit.

Plain SQLModel tables without relationships: queries load what a screen needs explicitly
(`matching.load_vehicle_file`), which keeps the MQTT thread's work predictable. Enumerations are
stored as their plain string values (not database ENUM types), so adding a value needs no migration.
Every change here needs a migration in `server/migrations/versions` (`dealergate db revision`);
tests/test_server_migrations.py fails while models and migrations disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, UniqueConstraint
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


class Site(SQLModel, table=True):
    """One store (4S店) of the dealer group. This server runs one of them (`settings.site`, the code
    its edges put in every event); the others are sister stores whose customer files were imported
    into the same database, so their cars are still recognised at this gate."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(
        max_length=63, unique=True, index=True, description="site id of the MQTT topics (settings.site)"
    )
    name_zh: str = Field(max_length=64, description="门店名称, shown to staff; the kiosk may show it too")
    name_en: str = Field(default="", max_length=128)
    brands: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False), description="brands sold (在售品牌)"
    )
    address: str = Field(default="", max_length=200, description="shown to staff only")
    phone: str = Field(default="", max_length=32, description="store switchboard, shown to staff only")
    active: bool = Field(default=True, description="an inactive store takes no new imports")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


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
    site: str | None = Field(
        default=None,
        max_length=63,
        foreign_key="site.code",
        description="所属门店: the store that holds the file (None: this server's own, filed before sites)",
    )


class Vehicle(SQLModel, table=True):
    # every arrival counts the cars of its model for the kiosk's claim statistics (common_claim_types)
    __table_args__ = (Index("ix_vehicle_brand_model", "brand", "model"),)

    id: int | None = Field(default=None, primary_key=True)
    plate: str = Field(max_length=9, unique=True, index=True)
    plate_type: str = Field(default="unknown", max_length=20)
    vin: str = Field(default="", max_length=17, index=True)
    brand: str = Field(max_length=32)
    model: str = Field(max_length=48)
    series: str = Field(default="", max_length=64)
    price_class: str = Field(default="", max_length=16, description="economy / mid / premium")
    purchase_date: date | None = None
    mileage_km: int | None = None
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    site: str | None = Field(
        default=None,
        max_length=63,
        foreign_key="site.code",
        description="所属门店 of the car's file (None: the owner's, else this server's own)",
    )


class Policy(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    policy_no: str = Field(max_length=32, unique=True)
    insurer: str = Field(max_length=16)
    start_date: date
    end_date: date = Field(index=True)
    premium: float = Field(ge=0, description="commercial premium in 元")
    ncd_factor: float = Field(default=1.0, description="no-claim discount factor 无赔款优待系数")
    channel: str = Field(default=Channel.DEALER.value, max_length=16, description="Channel value")
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)


class Coverage(SQLModel, table=True):
    """One coverage of a policy: code as in `server.renewal.pricing.COVERAGE_WEIGHTS`, or compulsory."""

    __table_args__ = (UniqueConstraint("policy_id", "code", name="uq_coverage_policy_code"),)

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="policy.id", index=True)
    code: str = Field(max_length=24, description="own_damage / third_party / glass / flood ...")
    sum_insured: float | None = Field(default=None, description="保额 元; None for riders without one")
    premium: float | None = Field(default=None, description="this coverage's share of the premium, if known")


class Claim(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("claim_no", name="uq_claim_claim_no"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_no: str | None = Field(default=None, max_length=40, description="报案号 / 赔案号: the import's key")
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    date: date
    amount: float = Field(ge=0, description="元")
    type: str = Field(max_length=24, description="glass / collision / scratch / flood / theft / rear_end")


class ServiceVisit(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("order_no", name="uq_servicevisit_order_no"),)

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    date: date
    kind: str = Field(max_length=24, description="maintenance / repair / bodywork / warranty")
    mileage: int | None = None
    order_no: str | None = Field(
        default=None, max_length=40, description="工单号 repair order number: the import's key"
    )
    items: str = Field(default="", max_length=500, description="维修项目 as written on the repair order")
    out_date: date | None = Field(default=None, description="出厂日期; long repair waits are a lapse risk")


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True, index=True)
    display_name: str = Field(max_length=32)
    role: str = Field(max_length=16, description="Role value")
    password_hash: str = Field(max_length=256)
    active: bool = True
    site: str | None = Field(
        default=None, max_length=63, foreign_key="site.code", description="the store this person works at"
    )


class Arrival(SQLModel, table=True):
    """One gate event as received; `alerted` is False for a repeat sighting within the dwell window.

    `revision` is the edge's latest correction of the event applied here (a correction updates
    this row, it is not a new visit); `departed_at` is set when the edge reports the car driving
    out (`departure_event_id` / `departure_revision` name that report, so its own corrections and
    redeliveries are applied once). `acknowledged_by` / `acknowledged_at` are the front desk's
    "已接待": who received the customer, first tap wins.
    """

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
    revision: int = Field(default=0, description="highest revision of the edge event applied")
    departed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    departure_event_id: str | None = Field(default=None, max_length=36, index=True)
    departure_revision: int | None = Field(default=None)
    acknowledged_by: str | None = Field(
        default=None, max_length=32, description="display name of who received the customer (已接待)"
    )
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditLog(SQLModel, table=True):
    """Who looked at whom (PIPL): written by every route that reveals a customer's file."""

    id: int | None = Field(default=None, primary_key=True)
    who: str = Field(max_length=32, index=True)
    role: str = Field(default="", max_length=16)
    action: str = Field(max_length=32)
    customer_id: int | None = Field(default=None, index=True)
    vehicle_id: int | None = Field(default=None)
    detail: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)


class Appointment(SQLModel, table=True):
    """A booked visit (预约): the front desk sees it when the car arrives."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    vehicle_id: int | None = Field(default=None, foreign_key="vehicle.id", index=True)
    scheduled_at: datetime = Field(sa_type=UtcDateTime, index=True)
    kind: str = Field(max_length=16, description="maintenance / repair / renewal / claim")
    advisor_id: int | None = Field(default=None, foreign_key="staffuser.id")
    status: str = Field(default="booked", max_length=12, description="booked / arrived / cancelled / no_show")
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class RenewalTask(SQLModel, table=True):
    """One piece of renewal work for one car: a timeline contact, an in-store arrival, a thank-you."""

    __tablename__ = "renewal_task"
    # every arrival asks, per advisor, whether one of their tasks is in progress and how many they got
    # today (queries.advisor_states): reminder runs pile up an advisor's tasks by the hundred thousand,
    # and these keep both questions index range scans (each also serves "tasks of an advisor")
    __table_args__ = (
        Index("ix_renewal_task_assignee_status", "assigned_to", "status"),
        Index("ix_renewal_task_assignee_created", "assigned_to", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    policy_id: int | None = Field(default=None, foreign_key="policy.id")
    kind: str = Field(max_length=16, description="arrival / timeline / follow_up / thank_you")
    step: str = Field(default="", max_length=24, description="contact-timeline step key, if any")
    due_date: date = Field(index=True)
    status: str = Field(
        default="open", max_length=12, index=True, description="open / in_progress / done / cancelled"
    )
    assigned_to: int | None = Field(default=None, foreign_key="staffuser.id")
    arrival_id: int | None = Field(default=None, foreign_key="arrival.id")
    lane: str = Field(default="", max_length=16, description="tablet / private_room (Lane)")
    outcome: str = Field(default="", max_length=16, description="ContactOutcome when done")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class ContactLog(SQLModel, table=True):
    """Every contact attempt (联系记录): channel, outcome and, for a lost renewal, the reason tag."""

    __tablename__ = "contact_log"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    vehicle_id: int | None = Field(default=None, foreign_key="vehicle.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="renewal_task.id")
    staff_id: int | None = Field(default=None, foreign_key="staffuser.id")
    channel: str = Field(max_length=12, description="phone / sms / wechat / in_store (ContactChannel)")
    outcome: str = Field(max_length=16, description="ContactOutcome value")
    lapse_reason: str | None = Field(
        default=None, max_length=16, description="price / unreachable / service / moved_sold / other"
    )
    competitor_premium: float | None = Field(default=None, description="rival quote the customer named, 元")
    note: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)


class Quote(SQLModel, table=True):
    """A renewal quote given to a customer: the package, its coverages and the premium offered."""

    id: int | None = Field(default=None, primary_key=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    package: str = Field(max_length=16)
    coverages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    premium: float = Field(ge=0)
    ncd_factor: float = 1.0
    deductible: int | None = None
    insurer: str = Field(default="", max_length=16)
    valid_until: date | None = None
    status: str = Field(
        default="offered", max_length=12, description="offered / accepted / declined / expired"
    )
    created_by: int | None = Field(default=None, foreign_key="staffuser.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class ConsentFlag(SQLModel, table=True):
    """One consent given or withdrawn (PIPL); the latest row per customer and purpose is in force."""

    __tablename__ = "consent_flag"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    purpose: str = Field(max_length=24, description="greeting_by_name / phone / sms / wechat / marketing")
    granted: bool
    source: str = Field(default="staff", max_length=16, description="form / staff / import")
    recorded_by: str = Field(default="", max_length=32)
    at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class PlateAlias(SQLModel, table=True):
    """Another plate text that means this car: a staff correction of a misread (粤A8B… for 粤AB8…)."""

    __tablename__ = "plate_alias"

    id: int | None = Field(default=None, primary_key=True)
    alias: str = Field(max_length=9, unique=True, index=True)
    vehicle_id: int = Field(foreign_key="vehicle.id", index=True)
    arrival_id: int | None = Field(default=None, foreign_key="arrival.id")
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class KioskCard(SQLModel, table=True):
    """A content card a manager wrote for the waiting-area kiosk (seasonal offer, service promotion,
    insurance explainer): authored text only, never customer data. Shown while `active` and today is
    within `starts_on`..`ends_on` (either open), in the attract loop and/or on the arrival screen of
    a car of `brand` / `plate_type` (None: any car); `position` orders the cards."""

    __tablename__ = "kiosk_card"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="offer", max_length=16, description="offer / service / insurance / other")
    title_zh: str = Field(max_length=40)
    title_en: str = Field(default="", max_length=80)
    body_zh: str = Field(default="", max_length=300)
    body_en: str = Field(default="", max_length=600)
    brand: str | None = Field(default=None, max_length=32, description="only cars of this brand")
    plate_type: str | None = Field(default=None, max_length=20, description="only this plate type")
    in_loop: bool = Field(default=True, description="shown in the attract loop")
    on_arrival: bool = Field(default=False, description="shown on a matching car's arrival screen")
    active: bool = Field(default=True)
    starts_on: date | None = None
    ends_on: date | None = None
    position: int = Field(default=0, index=True)
    updated_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
