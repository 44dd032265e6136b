"""Plate → vehicle → customer, and the vehicle's file (policies, claims, visits) as plain rows.

Matching order: the exact normalised plate; a plate alias staff confirmed earlier (a known misread);
then a plate one confusable character away (0/O/D/Q, 1/I/T, 8/B, 2/Z, 5/S, M/H, B/H) or the same plate
under another province, marked *probable* with the other candidates, so the front desk checks the
plate before greeting anyone by name. A wrong match is corrected on the arrival
(`server.corrections`), which records an alias and an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Row, bindparam
from sqlalchemy.engine.result import result_tuple
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select

from dealergate.plates import PROVINCES
from server.cache import DatabaseCache
from server.db import table_of
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
CONFUSABLE_GROUPS: tuple[str, ...] = ("0ODQ", "1IT", "8B", "2Z", "5S", "MH", "BH")
"""Characters plate OCR confuses with each other (dealergate.plates: I never appears on a plate, O only
as the authority code of public-security plates, 粤O·A2160, which staff may have typed as 粤0A2160).
A character may stand in more than one group: each group's characters are confused with each other,
not with the other groups' (B with 8 and with H, never 8 with H).

1/T, M/H and B/H are the edge's own measured misreads (models/README.md: a `1` under a mounting rivet
reads `T`; a dim `M` reads `H`; a `B` smeared up-down, as a car rolling towards the camera is, reads
`H`)."""
_CONFUSABLE = {
    c: "".join(dict.fromkeys(other for group in CONFUSABLE_GROUPS if c in group for other in group if other != c))
    for c in "".join(CONFUSABLE_GROUPS)
}


def look_alike_classes() -> dict[str, str]:
    """Each confusable character's class, named by one of its members: the groups joined where they
    share a character (8, B, H and M are one class), so that every plate a misread may be confused
    with has the same key."""
    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c

    for group in CONFUSABLE_GROUPS:
        for c in group[1:]:
            parent[root(c)] = root(group[0])
    return {c: root(c) for c in "".join(CONFUSABLE_GROUPS)}
SURE_READ_FROM = 0.5
"""An arrival read less surely than this (its least sure character; the edge keeps a read whose
serial is sure but whose province is not down to 0.2) is never an *exact* match: the car on file
under that very plate is only *probable*, listed with the cars one confusable character or one
province away, so the front desk checks the plate before greeting anyone by name. Below 0.5 the
edge's reads were right no more often than wrong (docs/edge.md)."""
MIN_VEHICLES_FOR_STATS = 5
"""Claim statistics of a model are shown only when that many cars back them (no re-identification)."""


FileRow = Row[Any]
"""A row of a car's file as the database gave it, without an ORM entity: the columns of its table
(`Policy`, `Claim` ...) by name (`policy.end_date`), all of them with `._asdict()`. Every arrival
reads a file, and building entities cost more Python time than the queries (`dealergate bench
server`); nothing writes these rows back."""


@dataclass(frozen=True)
class VehicleFile:
    """Everything the rules and the screens need about one car, loaded in one go."""

    vehicle: Vehicle
    customer: Customer | None
    policies: list[FileRow] = field(default_factory=list)
    """`Policy` rows, the latest end date last."""
    claims: list[FileRow] = field(default_factory=list)
    """`Claim` rows, oldest first."""
    visits: list[FileRow] = field(default_factory=list)
    """`ServiceVisit` rows, oldest first."""
    coverages: dict[int, list[FileRow]] = field(default_factory=dict)
    """`Coverage` rows per policy id."""
    contacts: list[FileRow] = field(default_factory=list)
    """`ContactLog` rows of the owner about this car (or the customer in general), oldest first."""
    latest_quote: FileRow | None = None
    """The car's latest `Quote` row."""
    contact_staff: frozenset[int] = frozenset()
    """Staff who have talked to the owner, about this car or another (the router's "served before")."""

    def coverage_codes(self, policy: FileRow) -> tuple[str, ...]:
        return tuple(c.code for c in self.coverages.get(policy.id, []))


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


def province_variants(plate: str) -> list[str]:
    """The plate under every other province, in `PROVINCES` order: the small province character is
    the one the OCR misreads most on small or blurred plates (粤 read 琼, 浙 read 湘); [] when the
    plate does not start with a province."""
    if not plate or plate[0] not in PROVINCES:
        return []
    return [p + plate[1:] for p in PROVINCES if p != plate[0]]


def _with_owner() -> Select[tuple[Vehicle, Customer | None]]:
    """Cars with their owners (none for a car on file without one)."""
    return select(Vehicle, Customer).outerjoin(Customer, col(Customer.id) == col(Vehicle.customer_id))


# The statements every arrival runs are built once, their values bound at execution: building and
# keying a statement anew took more Python time than SQLite took to answer it (bench server). Those
# that read rows the arrival does not change run on the session's connection and return plain rows
# (`FileRow`): the ORM's work per statement and per entity cost more than the query itself.
_EXACT_WITH_OWNER = _with_owner().where(Vehicle.plate == bindparam("plate"))
_POLICY, _COVERAGE, _CLAIM, _VISIT, _CONTACT, _QUOTE = map(
    table_of, (Policy, Coverage, Claim, ServiceVisit, ContactLog, Quote)
)
_POLICIES_WITH_COVERAGES = (
    sa.select(_POLICY, _COVERAGE)
    .outerjoin(_COVERAGE, _COVERAGE.c.policy_id == _POLICY.c.id)
    .where(_POLICY.c.vehicle_id == bindparam("vehicle_id"))
    .order_by(_POLICY.c.end_date, _POLICY.c.id, _COVERAGE.c.id)
)
_POLICY_ROW = result_tuple(_POLICY.c.keys())
_COVERAGE_ROW = result_tuple(_COVERAGE.c.keys())
"""The joined row split into its policy and its coverage, each a `FileRow` of its own table."""
_CLAIMS = sa.select(_CLAIM).where(_CLAIM.c.vehicle_id == bindparam("vehicle_id")).order_by(_CLAIM.c.date)
_VISITS = sa.select(_VISIT).where(_VISIT.c.vehicle_id == bindparam("vehicle_id")).order_by(_VISIT.c.date)
_OWNER_CONTACTS = (
    sa.select(_CONTACT)
    .where(_CONTACT.c.customer_id == bindparam("customer_id"))
    .order_by(_CONTACT.c.at, _CONTACT.c.id)
)
_LATEST_QUOTE = (
    sa.select(_QUOTE)
    .where(_QUOTE.c.vehicle_id == bindparam("vehicle_id"))
    .order_by(_QUOTE.c.created_at.desc())
    .limit(1)
)


def match_vehicle(session: Session, plate: str, read_sure: bool = True) -> PlateMatch:
    """The car behind a read plate, and how sure the match is. `read_sure=False` (a read under
    `SURE_READ_FROM`): the car on file under the plate as read is a *probable* match, with the
    cars one confusable character or another province away as its alternatives."""
    plate = normalize_plate(plate)
    # the owner comes along: one round trip instead of two for the arrival's file
    exact = session.exec(_EXACT_WITH_OWNER, params={"plate": plate}).first()
    if exact is not None and read_sure:
        return PlateMatch(exact[0], "exact", owner=exact[1])
    if exact is None:
        aliased = session.exec(
            _with_owner()
            .join(PlateAlias, col(PlateAlias.vehicle_id) == col(Vehicle.id))
            .where(PlateAlias.alias == plate)
        ).first()
        if aliased is not None:
            return PlateMatch(aliased[0], "alias", owner=aliased[1])
    variants = confusable_variants(plate) + province_variants(plate)
    found = {v.plate: (v, c) for v, c in session.exec(_with_owner().where(col(Vehicle.plate).in_(variants)))}
    ordered = [found[p] for p in variants if p in found]
    if exact is not None:  # an unsure read of a car on file: probable, its look-alikes the alternatives
        return PlateMatch(exact[0], "probable", tuple(v.plate for v, _ in ordered), exact[1])
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
    db = session.connection()
    policies: list[FileRow] = []
    coverages: dict[int, list[FileRow]] = {}
    by_vehicle = {"vehicle_id": vehicle.id}
    split = len(_POLICY.c)
    for row in db.execute(_POLICIES_WITH_COVERAGES, by_vehicle):
        policy, coverage = _POLICY_ROW(row[:split]), _COVERAGE_ROW(row[split:])
        if not policies or policies[-1].id != policy.id:
            policies.append(policy)
        if coverage.id is not None:  # outer join: a policy without coverages has one of NULLs
            coverages.setdefault(policy.id, []).append(coverage)
    claims = db.execute(_CLAIMS, by_vehicle).all()
    visits = db.execute(_VISITS, by_vehicle).all()
    contacts: list[FileRow] = []
    contact_staff: frozenset[int] = frozenset()
    if customer is not None:
        # all of the owner's contacts: the router's "served before" counts talks about any car
        everything = db.execute(_OWNER_CONTACTS, {"customer_id": customer.id}).all()
        contacts = [c for c in everything if c.vehicle_id is None or c.vehicle_id == vehicle.id]
        contact_staff = frozenset(c.staff_id for c in everything if c.staff_id is not None)
    quote = db.execute(_LATEST_QUOTE, by_vehicle).first()
    return VehicleFile(
        vehicle, customer, policies, list(claims), list(visits), coverages, contacts, quote, contact_staff
    )


CLAIM_STATS_MAX_AGE_S = 600.0
"""How long the car models' claim statistics are reused. They aggregate every claim on file and move
by a claim or two a day; counted per model, the first arrival of each model paid for a scan of its
claims (the p95 of `dealergate bench server`), so all models are counted at once, every 10 minutes."""
ClaimStats = dict[tuple[str, str], tuple[str, ...]]
"""Per (brand, model): its claim types, most frequent first (models with too few cars left out)."""


def common_claim_types(session: Session, brand: str, model: str, *, limit: int = 3) -> list[str]:
    """Most frequent claim types of a car model across the dealership's customers (aggregate only),
    from the statistics of all models, counted per database at most every `CLAIM_STATS_MAX_AGE_S`."""
    return list(claim_stats.get(session).get((brand, model), ())[:limit])


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


claim_stats = DatabaseCache(_count_claim_types, CLAIM_STATS_MAX_AGE_S)
"""Per database; tests set its `max_age_s` to 0 to count afresh."""
