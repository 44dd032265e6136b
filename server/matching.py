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

from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

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
    contact_staff: frozenset[int] = frozenset()
    """Staff who have talked to the owner, about this car or another (the router's "served before")."""

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
    owner: Customer | None = None
    """The car's owner, loaded with the match (the arrival's file needs it next)."""


def confusable_variants(plate: str) -> list[str]:
    """Plates one confusable character away from `plate`, left to right (the province never varies)."""
    return [
        plate[:i] + alt + plate[i + 1 :]
        for i, ch in enumerate(plate)
        if i > 0
        for alt in _CONFUSABLE.get(ch, "")
    ]


def _with_owner() -> Select[tuple[Vehicle, Customer | None]]:
    """Cars with their owners (none for a car on file without one)."""
    return select(Vehicle, Customer).outerjoin(Customer, col(Customer.id) == col(Vehicle.customer_id))


# The statements every arrival runs are built once, their values bound at execution: building and
# keying a statement anew took more Python time than SQLite took to answer it (bench server).
_EXACT_WITH_OWNER = _with_owner().where(Vehicle.plate == bindparam("plate"))
_POLICIES_WITH_COVERAGES = (
    select(Policy, Coverage)
    .outerjoin(Coverage, col(Coverage.policy_id) == col(Policy.id))
    .where(Policy.vehicle_id == bindparam("vehicle_id"))
    .order_by(col(Policy.end_date), col(Policy.id), col(Coverage.id))
)
_CLAIMS = select(Claim).where(Claim.vehicle_id == bindparam("vehicle_id")).order_by(col(Claim.date))
_VISITS = (
    select(ServiceVisit)
    .where(ServiceVisit.vehicle_id == bindparam("vehicle_id"))
    .order_by(col(ServiceVisit.date))
)
_OWNER_CONTACTS = (
    select(ContactLog)
    .where(ContactLog.customer_id == bindparam("customer_id"))
    .order_by(col(ContactLog.at), col(ContactLog.id))
)
_LATEST_QUOTE = (
    select(Quote)
    .where(Quote.vehicle_id == bindparam("vehicle_id"))
    .order_by(col(Quote.created_at).desc())
    .limit(1)
)


def match_vehicle(session: Session, plate: str) -> PlateMatch:
    """The car behind a read plate, and how sure the match is."""
    plate = normalize_plate(plate)
    # the owner comes along: one round trip instead of two for the arrival's file
    exact = session.exec(_EXACT_WITH_OWNER, params={"plate": plate}).first()
    if exact is not None:
        return PlateMatch(exact[0], "exact", owner=exact[1])
    aliased = session.exec(
        _with_owner()
        .join(PlateAlias, col(PlateAlias.vehicle_id) == col(Vehicle.id))
        .where(PlateAlias.alias == plate)
    ).first()
    if aliased is not None:
        return PlateMatch(aliased[0], "alias", owner=aliased[1])
    variants = confusable_variants(plate)
    found = {v.plate: (v, c) for v, c in session.exec(_with_owner().where(col(Vehicle.plate).in_(variants)))}
    ordered = [found[p] for p in variants if p in found]
    if not ordered:
        return PlateMatch(None, "none")
    (vehicle, owner), others = ordered[0], ordered[1:]
    return PlateMatch(vehicle, "probable", tuple(v.plate for v, _ in others), owner)


def load_vehicle_file(session: Session, vehicle: Vehicle, owner: Customer | None = None) -> VehicleFile:
    """The car's file in five queries (policies with their coverages, claims, visits, the owner's
    contacts, the latest quote); `owner`: the car's owner when the caller has it already."""
    customer = owner
    if customer is None or customer.id != vehicle.customer_id:
        customer = session.get(Customer, vehicle.customer_id) if vehicle.customer_id is not None else None
    policies: list[Policy] = []
    coverages: dict[int, list[Coverage]] = {}
    by_vehicle = {"vehicle_id": vehicle.id}
    for policy, coverage in session.exec(_POLICIES_WITH_COVERAGES, params=by_vehicle).all():
        if not policies or policies[-1] is not policy:
            policies.append(policy)
        if coverage is not None:
            coverages.setdefault(coverage.policy_id, []).append(coverage)
    claims = session.exec(_CLAIMS, params=by_vehicle).all()
    visits = session.exec(_VISITS, params=by_vehicle).all()
    contacts: list[ContactLog] = []
    contact_staff: frozenset[int] = frozenset()
    if customer is not None:
        # all of the owner's contacts: the router's "served before" counts talks about any car
        everything = session.exec(_OWNER_CONTACTS, params={"customer_id": customer.id}).all()
        contacts = [c for c in everything if c.vehicle_id is None or c.vehicle_id == vehicle.id]
        contact_staff = frozenset(c.staff_id for c in everything if c.staff_id is not None)
    quote = session.exec(_LATEST_QUOTE, params=by_vehicle).first()
    return VehicleFile(
        vehicle, customer, policies, list(claims), list(visits), coverages, contacts, quote, contact_staff
    )


CLAIM_STATS_MAX_AGE_S = 600.0
"""How long the car models' claim statistics are reused. They aggregate every claim on file and move
by a claim or two a day; counted per model, the first arrival of each model paid for a scan of its
claims (the p95 of `dealergate bench server`), so all models are counted at once, every 10 minutes."""
ClaimStats = dict[tuple[str, str], tuple[str, ...]]
"""Per (brand, model): its claim types, most frequent first (models with too few cars left out)."""
_claim_stats: weakref.WeakKeyDictionary[Engine, tuple[float, ClaimStats]] = weakref.WeakKeyDictionary()
_claim_stats_lock = threading.Lock()


def common_claim_types(session: Session, brand: str, model: str, *, limit: int = 3) -> list[str]:
    """Most frequent claim types of a car model across the dealership's customers (aggregate only),
    from the statistics of all models, counted per database at most every `CLAIM_STATS_MAX_AGE_S`."""
    engine = session.get_bind()
    now = time.monotonic()
    with _claim_stats_lock:
        cached = _claim_stats.get(engine)  # type: ignore[call-overload]
    if cached is None or now - cached[0] >= CLAIM_STATS_MAX_AGE_S:
        cached = (now, _count_claim_types(session))
        with _claim_stats_lock:
            _claim_stats[engine] = cached  # type: ignore[index]
    return list(cached[1].get((brand, model), ())[:limit])


def _count_claim_types(session: Session) -> ClaimStats:
    """Two aggregates over the whole file (cars per model, claims per model and type), counted in the
    database: a popular model has thousands of claims (`dealergate bench server`)."""
    fleet = session.exec(
        select(Vehicle.brand, Vehicle.model, func.count()).group_by(col(Vehicle.brand), col(Vehicle.model))
    ).all()
    shown = {(brand, model) for brand, model, n in fleet if n >= MIN_VEHICLES_FOR_STATS}
    counted = session.exec(
        select(Vehicle.brand, Vehicle.model, Claim.type, func.count(col(Claim.id)))
        .join(Vehicle, col(Vehicle.id) == col(Claim.vehicle_id))
        .group_by(col(Vehicle.brand), col(Vehicle.model), col(Claim.type))
    ).all()
    stats: dict[tuple[str, str], list[str]] = {}
    for brand, model, kind, _n in sorted(counted, key=lambda r: (r[0], r[1], -r[3], r[2])):
        if (brand, model) in shown:
            stats.setdefault((brand, model), []).append(kind)
    return {key: tuple(kinds) for key, kinds in stats.items()}
