"""Plate → vehicle → customer, and the vehicle's file (policies, claims, visits) as plain rows.

Matching is exact on the normalised plate for now; a wrong match is corrected by fixing the
vehicle's plate, which the audit trail records (fuzzy matching would raise the risk of greeting
the wrong person by name).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from server.models import Claim, Customer, Policy, ServiceVisit, Vehicle

_SEPARATORS = str.maketrans("", "", " ·•.-_\u3000")
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


def normalize_plate(text: str) -> str:
    """Plate text as stored: upper case, without separators (京A·12345 → 京A12345)."""
    return text.translate(_SEPARATORS).upper()


def find_vehicle(session: Session, plate: str) -> Vehicle | None:
    return session.exec(select(Vehicle).where(Vehicle.plate == normalize_plate(plate))).first()


def load_vehicle_file(session: Session, vehicle: Vehicle) -> VehicleFile:
    customer = session.get(Customer, vehicle.customer_id) if vehicle.customer_id is not None else None
    policies = session.exec(
        select(Policy).where(Policy.vehicle_id == vehicle.id).order_by(Policy.end_date)
    ).all()
    claims = session.exec(select(Claim).where(Claim.vehicle_id == vehicle.id).order_by(Claim.date)).all()
    visits = session.exec(
        select(ServiceVisit).where(ServiceVisit.vehicle_id == vehicle.id).order_by(ServiceVisit.date)
    ).all()
    return VehicleFile(vehicle, customer, list(policies), list(claims), list(visits))


def match_plate(session: Session, plate: str) -> VehicleFile | None:
    """The file of the car with exactly this plate, or None for a plate the dealership does not know."""
    vehicle = find_vehicle(session, plate)
    return load_vehicle_file(session, vehicle) if vehicle is not None else None


def common_claim_types(session: Session, brand: str, model: str, *, limit: int = 3) -> list[str]:
    """Most frequent claim types of a car model across the dealership's customers (aggregate only)."""
    n_vehicles = session.exec(
        select(func.count(col(Vehicle.id))).where(Vehicle.brand == brand, Vehicle.model == model)
    ).one()
    if n_vehicles < MIN_VEHICLES_FOR_STATS:
        return []
    rows = session.exec(
        select(Claim.type)
        .join(Vehicle, col(Vehicle.id) == col(Claim.vehicle_id))
        .where(Vehicle.brand == brand, Vehicle.model == model)
    ).all()
    return [t for t, _ in Counter(rows).most_common(limit)]
