"""Staff correcting which car an arrival was (a wrong or probable match), so the next sighting of
the same misread plate matches by alias (PIPL: a way to correct a wrong match)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.matching import find_vehicle, normalize_plate
from server.models import Arrival, PlateAlias, Vehicle


class UnknownPlate(LookupError):
    """The plate staff named is not a car on file."""


@dataclass(frozen=True)
class Correction:
    arrival: Arrival
    previous_vehicle_id: int | None
    alias: PlateAlias | None
    """The alias recorded (or re-pointed) for the misread plate; None when none applies."""
    removed_alias: bool = False


def correct_match(session: Session, arrival: Arrival, plate: str | None, who: str) -> Correction:
    """Tie `arrival` to the car with `plate`, or to no car (None).

    The misread plate becomes an alias of the right car unless it is itself another car's plate
    (then only this arrival is fixed). Unlinking an alias match deletes that alias: it was wrong.
    """
    previous = arrival.vehicle_id
    existing = session.exec(select(PlateAlias).where(PlateAlias.alias == arrival.plate)).first()
    if plate is None:
        removed = existing is not None and existing.vehicle_id == previous
        if removed:
            session.delete(existing)
        arrival.vehicle_id, arrival.match = None, "none"
        session.add(arrival)
        session.flush()
        return Correction(arrival, previous, None, removed)
    target: Vehicle | None = find_vehicle(session, normalize_plate(plate))
    if target is None:
        raise UnknownPlate(plate)
    arrival.vehicle_id, arrival.match = target.id, "manual"
    session.add(arrival)
    alias = None
    if target.plate != arrival.plate and find_vehicle(session, arrival.plate) is None:
        alias = existing or PlateAlias(alias=arrival.plate, vehicle_id=target.id or 0)
        alias.vehicle_id, alias.created_by, alias.arrival_id = target.id or 0, who, arrival.id
        session.add(alias)
    session.flush()
    return Correction(arrival, previous, alias)
