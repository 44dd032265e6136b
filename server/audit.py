"""The audit trail (PIPL: who looked at whom): one row per customer whose data a staff member got."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from server.auth import StaffSession
from server.logs import log_event
from server.models import AuditLog

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
