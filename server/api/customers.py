"""Customer 360 for staff; every read is written to the audit log (who looked at whom, PIPL)."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, status
from sqlmodel import select

from server import renewal
from server.alerts import assess, honorific
from server.api.deps import RowId, SessionDep, SettingsDep
from server.audit import record_access
from server.auth import STAFF_ROLES, StaffSession, require_roles
from server.db import local_today
from server.matching import FileRow, load_vehicle_file
from server.models import Customer, StaffUser, Vehicle

router = APIRouter(prefix="/api/v1", tags=["customers"])
log = logging.getLogger(__name__)


def _columns(row: FileRow, *left_out: str) -> dict[str, Any]:
    """A file row's columns by name, but those `left_out`."""
    return {key: value for key, value in row._asdict().items() if key not in left_out}


def _contact(c: FileRow, staff_names: dict[int, str], tz: ZoneInfo) -> dict[str, Any]:
    """One contact-log row, newest first in the file: who contacted the customer, how, with what result."""
    return {
        **_columns(c, "customer_id", "vehicle_id", "staff_id", "at"),
        "at": c.at.astimezone(tz).isoformat(timespec="minutes"),
        "staff": staff_names.get(c.staff_id or 0),
    }


@router.get("/customers/{customer_id}")
def customer_360(
    customer_id: RowId,
    db: SessionDep,
    settings: SettingsDep,
    staff: Annotated[StaffSession, Depends(require_roles(STAFF_ROLES))],
) -> dict[str, Any]:
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such customer / 客户不存在")
    record_access(db, staff, "view_customer", [customer_id])
    db.commit()  # the trail is written before the data leaves the server
    today = local_today(settings.tz)
    vehicles = db.exec(select(Vehicle).where(Vehicle.customer_id == customer_id).order_by(Vehicle.id)).all()
    staff_names = dict(db.exec(select(StaffUser.id, StaffUser.display_name)).all())
    files = []
    for vehicle in vehicles:
        file = load_vehicle_file(db, vehicle)
        a = assess(file, today, tz=settings.tz)
        files.append(
            {
                "vehicle": vehicle.model_dump(exclude={"customer_id"}),
                "policies": [
                    {
                        **_columns(p, "vehicle_id"),
                        "coverages": [_columns(c, "id", "policy_id") for c in file.coverages.get(p.id, [])],
                    }
                    for p in reversed(file.policies)
                ],
                "claims": [_columns(c, "vehicle_id") for c in reversed(file.claims)],
                "visits": [_columns(v, "vehicle_id") for v in reversed(file.visits)],
                "contacts": [_contact(c, staff_names, settings.tz) for c in reversed(file.contacts)],
                "renewal": {
                    "segment": {
                        "key": a.segment.value,
                        "zh": renewal.SEGMENT_LABELS[a.segment].zh,
                        "en": renewal.SEGMENT_LABELS[a.segment].en,
                    },
                    "days_to_expiry": a.days,
                    "tier": a.tier,
                    "grade": a.grade.letter,
                    "grade_reasons": [r.as_dict() for r in a.grade.reasons],
                    "next_action": a.action.as_dict(),
                    "package": a.package,
                    "premium_estimate": a.estimate.premium,
                    "customer_type": a.profile.type.value,
                    "lapse_risks": [r.as_dict() for r in a.risks],
                    "talking_points": [p.as_dict() for p in a.talking_points],
                    "objections": [o.as_dict() for o in a.objections],
                },
            }
        )
    return {
        "customer": {**customer.model_dump(exclude={"created_at"}), "honorific": honorific(customer)},
        "vehicles": files,
    }
