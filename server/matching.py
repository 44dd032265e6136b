"""Plate → vehicle → customer, and the vehicle's file (policies, claims, visits) as plain rows.

Matching order: the exact normalised plate; a plate alias staff confirmed earlier (a known misread);
then a plate one confusable character away (0/O/D/Q, 1/I, 8/B, 2/Z, 5/S), marked *probable* with
the other candidates, so the front desk checks the plate before greeting anyone by name. A wrong
match is corrected on the arrival (`server.corrections`), which records an alias and an audit row.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from server.models import (
    Claim,
    ContactLog,
    Coverage,
    Customer,
    PlateAlias,
    Policy,
    Quote,
    ServiceVisit,
    Vehicle,
)

_SEPARATORS = str.maketrans("", "", " ·•.-_\u3000")
CONFUSABLE_GROUPS: tuple[str, ...] = ("0ODQ", "1I", "8B", "2Z", "5S")
"""Characters plate OCR confuses with each other (dealergate.plates: I and O never appear on a plate)."""
_CONFUSABLE = {c: group.replace(c, "") for group in CONFUSABLE_GROUPS for c in group}
MIN_VEHICLES_FOR_STATS = 5
"""Claim statistics of a model are shown only when that many cars back them (no re-identification)."""


@dataclass(frozen=True)
class VehicleFile:
    """Everything the rules and the screens need about one car, loaded in one go."""

    vehicle: Vehicle
    customer: Customer | None
    policies: list[Policy] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    visits: list[ServiceVisit] = field(default_factory=list)
    coverages: dict[int, list[Coverage]] = field(default_factory=dict)
    """Coverages per policy id."""
    contacts: list[ContactLog] = field(default_factory=list)
    """The owner's contact log for this car (or for the customer in general), oldest first."""
    latest_quote: Quote | None = None

    def coverage_codes(self, policy: Policy) -> tuple[str, ...]:
        return tuple(c.code for c in self.coverages.get(policy.id or 0, []))


def normalize_plate(text: str) -> str:
    """Plate text as stored: upper case, without separators (京A·12345 → 京A12345)."""
    return text.translate(_SEPARATORS).upper()


def find_vehicle(session: Session, plate: str) -> Vehicle | None:
    return session.exec(select(Vehicle).where(Vehicle.plate == normalize_plate(plate))).first()


@dataclass(frozen=True)
class PlateMatch:
    """How an arrival's plate was tied to a car: exact, alias, probable (with alternatives) or none."""

    vehicle: Vehicle | None
    kind: str
    alternatives: tuple[str, ...] = ()


def confusable_variants(plate: str) -> list[str]:
    """Plates one confusable character away from `plate`, left to right (the province never varies)."""
    return [
        plate[:i] + alt + plate[i + 1 :]
        for i, ch in enumerate(plate)
        if i > 0
        for alt in _CONFUSABLE.get(ch, "")
    ]


def match_vehicle(session: Session, plate: str) -> PlateMatch:
    """The car behind a read plate, and how sure the match is."""
    plate = normalize_plate(plate)
    vehicle = find_vehicle(session, plate)
    if vehicle is not None:
        return PlateMatch(vehicle, "exact")
    aliased = session.exec(
        select(Vehicle)
        .join(PlateAlias, col(PlateAlias.vehicle_id) == col(Vehicle.id))
        .where(PlateAlias.alias == plate)
    ).first()
    if aliased is not None:
        return PlateMatch(aliased, "alias")
    variants = confusable_variants(plate)
    found = {v.plate: v for v in session.exec(select(Vehicle).where(col(Vehicle.plate).in_(variants))).all()}
    ordered = [found[p] for p in variants if p in found]
    if not ordered:
        return PlateMatch(None, "none")
    return PlateMatch(ordered[0], "probable", tuple(v.plate for v in ordered[1:]))


def load_vehicle_file(session: Session, vehicle: Vehicle) -> VehicleFile:
    customer = session.get(Customer, vehicle.customer_id) if vehicle.customer_id is not None else None
    policies = session.exec(
        select(Policy).where(Policy.vehicle_id == vehicle.id).order_by(Policy.end_date)
    ).all()
    claims = session.exec(select(Claim).where(Claim.vehicle_id == vehicle.id).order_by(Claim.date)).all()
    visits = session.exec(
        select(ServiceVisit).where(ServiceVisit.vehicle_id == vehicle.id).order_by(ServiceVisit.date)
    ).all()
    coverages: dict[int, list[Coverage]] = {}
    policy_ids = [p.id for p in policies]
    if policy_ids:
        for c in session.exec(
            select(Coverage).where(col(Coverage.policy_id).in_(policy_ids)).order_by(Coverage.id)
        ).all():
            coverages.setdefault(c.policy_id, []).append(c)
    contacts: list[ContactLog] = []
    if customer is not None:
        contacts = list(
            session.exec(
                select(ContactLog)
                .where(
                    ContactLog.customer_id == customer.id,
                    or_(col(ContactLog.vehicle_id).is_(None), ContactLog.vehicle_id == vehicle.id),
                )
                .order_by(col(ContactLog.at))
            ).all()
        )
    quote = session.exec(
        select(Quote).where(Quote.vehicle_id == vehicle.id).order_by(col(Quote.created_at).desc())
    ).first()
    return VehicleFile(
        vehicle, customer, list(policies), list(claims), list(visits), coverages, contacts, quote
    )


CLAIM_STATS_MAX_AGE_S = 600.0
"""How long a car model's claim statistics are reused. They aggregate thousands of claims and move
by a claim or two a day, but counting them was half of an arrival's database time (bench server)."""
_claim_stats: weakref.WeakKeyDictionary[Engine, dict[tuple[str, str, int], tuple[float, list[str]]]] = (
    weakref.WeakKeyDictionary()
)
_claim_stats_lock = threading.Lock()


def common_claim_types(session: Session, brand: str, model: str, *, limit: int = 3) -> list[str]:
    """Most frequent claim types of a car model across the dealership's customers (aggregate only),
    cached per database for `CLAIM_STATS_MAX_AGE_S`."""
    engine = session.get_bind()
    key = (brand, model, limit)
    now = time.monotonic()
    with _claim_stats_lock:
        cached = _claim_stats.get(engine, {}).get(key)  # type: ignore[call-overload]
    if cached is not None and now - cached[0] < CLAIM_STATS_MAX_AGE_S:
        return list(cached[1])
    topics = _count_claim_types(session, brand, model, limit)
    with _claim_stats_lock:
        per_engine = _claim_stats.setdefault(engine, {})  # type: ignore[call-overload]
        if len(per_engine) > 4096:  # more models than a dealership sells: start over
            per_engine.clear()
        per_engine[key] = (now, topics)
    return list(topics)


def _count_claim_types(session: Session, brand: str, model: str, limit: int) -> list[str]:
    n_vehicles = session.exec(
        select(func.count(col(Vehicle.id))).where(Vehicle.brand == brand, Vehicle.model == model)
    ).one()
    if n_vehicles < MIN_VEHICLES_FOR_STATS:
        return []
    # counted in the database: a popular model has thousands of claims (`dealergate bench server`)
    n = func.count(col(Claim.id))
    rows = session.exec(
        select(Claim.type)
        .join(Vehicle, col(Vehicle.id) == col(Claim.vehicle_id))
        .where(Vehicle.brand == brand, Vehicle.model == model)
        .group_by(col(Claim.type))
        .order_by(n.desc(), col(Claim.type))
        .limit(limit)
    ).all()
    return list(rows)
