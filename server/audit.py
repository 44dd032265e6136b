"""The audit trail (PIPL: who looked at whom): one row per customer whose data a staff member got,
and the query that answers "who opened this customer's file?" and "what did this person open?"."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from server.auth import StaffSession
from server.db import local_day_bounds
from server.logs import log_event
from server.matching import normalize_plate
from server.models import AuditLog, Customer, Vehicle

log = logging.getLogger(__name__)


def record_access(
    session: Session,
    staff: StaffSession,
    action: str,
    customer_ids: Iterable[int | None],
    *,
    vehicle_id: int | None = None,
    detail: str = "",
) -> int:
    """Add one audit row per distinct customer (none for an empty list); returns how many.

    Written in the caller's transaction and flushed, so the trail is in the database before the
    response leaves; a request that fails after this rolls both back.
    """
    ids = sorted({c for c in customer_ids if c is not None})
    session.add_all(
        AuditLog(
            who=staff.username,
            role=staff.role.value,
            action=action,
            customer_id=c,
            vehicle_id=vehicle_id,
            detail=detail[:200],
        )
        for c in ids
    )
    session.flush()
    if ids:
        log_event(log, f"audit.{action}", who=staff.username, customers=len(ids))
    return len(ids)


def customer_ids_of(payloads: Iterable[dict[str, Any]]) -> list[int | None]:
    """Customer ids revealed by a list of arrival payloads."""
    return [p["customer"]["id"] for p in payloads if p.get("customer")]


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to list; every field narrows, None leaves it open. Days are local dates,
    both ends included."""

    customer_id: int | None = None
    plate: str | None = None
    who: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def describe(self) -> str:
        """The filter as `field=value` pairs, for the audit row that records this reading."""
        return " ".join(f"{k}={v}" for k, v in vars(self).items() if v is not None) or "all"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    who: str
    role: str
    action: str
    customer_id: int | None
    customer_name: str | None
    vehicle_id: int | None
    plate: str | None
    detail: str


def query_audit(
    db: Session, where: AuditFilter, tz: ZoneInfo, *, limit: int = 100, before_id: int | None = None
) -> list[AuditEntry]:
    """Matching rows, newest first; `before_id` continues a listing after its last row (keyset
    paging: stable while new rows keep arriving). A plate narrows to its owner's customer id."""
    query = (
        select(AuditLog, Customer.name, Vehicle.plate)
        .join(Customer, col(Customer.id) == col(AuditLog.customer_id), isouter=True)
        .join(Vehicle, col(Vehicle.id) == col(AuditLog.vehicle_id), isouter=True)
    )
    if where.plate is not None:
        plate = normalize_plate(where.plate)  # as typed: `粤A·12345`, lower case
        owner = db.exec(select(Vehicle.customer_id).where(Vehicle.plate == plate)).first()
        if owner is None:  # no such car, or no owner on file: nobody's file was opened through it
            return []
        query = query.where(col(AuditLog.customer_id) == owner)
    if where.customer_id is not None:
        query = query.where(col(AuditLog.customer_id) == where.customer_id)
    if where.who is not None:
        query = query.where(col(AuditLog.who) == where.who)
    if where.action is not None:
        query = query.where(col(AuditLog.action) == where.action)
    if where.since is not None:
        query = query.where(col(AuditLog.at) >= local_day_bounds(where.since, tz)[0])
    if where.until is not None:
        query = query.where(col(AuditLog.at) < local_day_bounds(where.until, tz)[1])
    if before_id is not None:
        query = query.where(col(AuditLog.id) < before_id)
    rows = db.exec(query.order_by(col(AuditLog.id).desc()).limit(limit)).all()
    return [
        AuditEntry(
            a.id or 0, a.at, a.who, a.role, a.action, a.customer_id, name, a.vehicle_id, plate, a.detail
        )
        for a, name, plate in rows
    ]


def record_audit_reading(db: Session, who: str, role: str, where: AuditFilter) -> None:
    """Reading the trail is itself on the trail: one row naming the filter used."""
    db.add(
        AuditLog(
            who=who[:32],
            role=role,
            action="read_audit",
            customer_id=where.customer_id,
            detail=where.describe()[:200],
        )
    )
    db.flush()
    log_event(log, "audit.read_audit", who=who, filter=where.describe())
