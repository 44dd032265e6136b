"""What each screen is told about an arrival: one builder per audience, least data first.

- front desk: who arrived, the policy situation and the one next action;
- advisor: the same plus the task (package, talking points, history);
- kiosk (public): car model, province, masked plate and content keys, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dealergate.plates import mask_plate, region_of
from server import renewal
from server.db import local_day_bounds
from server.matching import VehicleFile, common_claim_types, load_vehicle_file
from server.models import Arrival, Customer, Gender, Vehicle
from server.renewal import Label, PolicyFacts, Segment

_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "司徒",
    "夏侯",
)


@dataclass(frozen=True)
class Assessment:
    """The renewal rules applied to one vehicle file on one day."""

    segment: Segment
    latest: PolicyFacts | None
    days: int | None
    tier: renewal.Tier
    grade: str
    action: Label
    package: str
    talking_points: list[Label]
    claims_last_year: int
    dealer_renewals: int


@dataclass(frozen=True)
class Alerts:
    frontdesk: dict[str, Any]
    advisor: dict[str, Any]
    kiosk: dict[str, Any]


def honorific(customer: Customer) -> str:
    """王先生 / 李女士 / 欧阳先生; without a known gender the full name, which is never wrong."""
    surname = customer.name[:2] if customer.name[:2] in _COMPOUND_SURNAMES else customer.name[:1]
    if customer.gender == Gender.MALE:
        return f"{surname}先生"
    if customer.gender == Gender.FEMALE:
        return f"{surname}女士"
    return customer.name


def assess(file: VehicleFile, today: date) -> Assessment:
    facts = [
        PolicyFacts(p.start_date, p.end_date, p.channel, p.insurer, p.ncd_factor, p.premium)
        for p in file.policies
    ]
    visit_dates = [v.date for v in file.visits]
    seg = renewal.segment(
        purchase_date=file.vehicle.purchase_date, policies=facts, service_dates=visit_dates, today=today
    )
    latest = renewal.latest_policy(facts)
    days = renewal.days_to_expiry(latest.end_date, today) if latest is not None else None
    claims_last_year = sum(1 for c in file.claims if 0 <= (today - c.date).days <= 365)
    dealer_renewals = max(0, sum(1 for p in facts if p.channel == renewal.DEALER_CHANNEL) - 1)
    recent = renewal.has_recent_service(visit_dates, today)
    age = (today - file.vehicle.purchase_date).days / 365.25 if file.vehicle.purchase_date else None
    return Assessment(
        segment=seg,
        latest=latest,
        days=days,
        tier=renewal.reminder_tier(days),
        grade=renewal.renewal_grade(
            seg, dealer_renewals=dealer_renewals, claims_last_year=claims_last_year, recent_service=recent
        ),
        action=renewal.next_action(seg, days),
        package=renewal.suggest_package(seg, vehicle_age_years=age, price_class=file.vehicle.price_class),
        talking_points=renewal.talking_points(
            seg, days=days, latest=latest, claims_last_year=claims_last_year, serviced_here=recent
        ),
        claims_last_year=claims_last_year,
        dealer_renewals=dealer_renewals,
    )


def _label(label: Label) -> dict[str, str]:
    return {"zh": label.zh, "en": label.en}


def _vehicle(v: Vehicle) -> dict[str, Any]:
    return {
        "brand": v.brand,
        "model": v.model,
        "series": v.series,
        "purchase_date": v.purchase_date.isoformat() if v.purchase_date else None,
    }


def _event(arrival: Arrival, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "event_id": arrival.event_id,
        "site": arrival.site,
        "camera": arrival.camera,
        "captured_at": arrival.captured_at.astimezone(tz).isoformat(timespec="seconds"),
    }


def frontdesk_payload(
    arrival: Arrival, file: VehicleFile | None, a: Assessment | None, tz: ZoneInfo
) -> dict[str, Any]:
    data: dict[str, Any] = {
        **_event(arrival, tz),
        "plate": arrival.plate,
        "plate_color": arrival.plate_color,
        "plate_type": arrival.plate_type,
        "confidence": round(arrival.confidence, 3),
        "match": arrival.match,
        "known": file is not None,
        "customer": None,
        "vehicle": None,
        "policy": None,
        "segment": None,
        "grade": None,
        "next_action": _label(renewal.unknown_vehicle_action()),
        "crop_jpeg_b64": arrival.crop_jpeg_b64,
    }
    if file is None or a is None:
        return data
    c = file.customer
    data["customer"] = (
        None
        if c is None
        else {
            "id": c.id,
            "name": c.name,
            "honorific": honorific(c),
            "city": c.city,
        }
    )
    data["vehicle"] = _vehicle(file.vehicle)
    if a.latest is not None:
        data["policy"] = {
            "insurer": a.latest.insurer,
            "end_date": a.latest.end_date.isoformat(),
            "days_to_expiry": a.days,
            "tier": a.tier,
            "channel": a.latest.channel,
        }
    data["segment"] = {"key": a.segment.value, **_label(renewal.SEGMENT_LABELS[a.segment])}
    data["grade"] = c.grade if c is not None and c.grade else a.grade
    data["next_action"] = _label(a.action)
    return data


def advisor_payload(
    frontdesk: dict[str, Any], file: VehicleFile | None, a: Assessment | None
) -> dict[str, Any]:
    data = dict(frontdesk)
    if data.get("customer") is not None and file is not None and file.customer is not None:
        # the advisor may call the customer; the front desk never needs the number
        data["customer"] = {**data["customer"], "phone": file.customer.phone}
    if file is None or a is None:
        data["task"] = {
            "title": _label(renewal.unknown_vehicle_action()),
            "package": None,
            "talking_points": [],
        }
        data["history"] = None
        return data
    pkg_label, pkg_covers = renewal.PACKAGES[a.package]
    if a.latest is not None and data.get("policy") is not None:
        data["policy"] = {**data["policy"], "premium": a.latest.premium, "ncd_factor": a.latest.ncd_factor}
    data["task"] = {
        "title": _label(a.action),
        "package": {"key": a.package, **_label(pkg_label), "coverages": list(pkg_covers)},
        "talking_points": [_label(p) for p in a.talking_points],
    }
    last = file.visits[-1] if file.visits else None
    data["history"] = {
        "claims_total": len(file.claims),
        "claims_last_year": a.claims_last_year,
        "dealer_renewals": a.dealer_renewals,
        "visits_total": len(file.visits),
        "last_visit": None
        if last is None
        else {"date": last.date.isoformat(), "kind": last.kind, "mileage": last.mileage},
    }
    return data


def kiosk_payload(
    arrival: Arrival,
    file: VehicleFile | None,
    claim_topics: list[str],
    package: str | None,
    today: date,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """Public: nothing here may identify a person (no name, phone, full plate, crop or customer id)."""
    return {
        "event_id": arrival.event_id,
        "captured_at": arrival.captured_at.astimezone(tz).isoformat(timespec="seconds"),
        "masked_plate": mask_plate(arrival.plate),
        "region": region_of(arrival.plate),
        "plate_color": arrival.plate_color,
        "brand": file.vehicle.brand if file else None,
        "model": file.vehicle.model if file else None,
        "content": {
            "claim_topics": claim_topics,
            "seasonal_offer": renewal.seasonal_offer(today),
            "package": package or "comprehensive",
        },
    }


def build_alerts(session: Session, arrival: Arrival, today: date, tz: ZoneInfo) -> Alerts:
    """All three payloads of a stored arrival, from the database as it is now."""
    file = None
    if arrival.vehicle_id is not None:
        vehicle = session.get(Vehicle, arrival.vehicle_id)
        file = load_vehicle_file(session, vehicle) if vehicle is not None else None
    a = assess(file, today) if file is not None else None
    front = frontdesk_payload(arrival, file, a, tz)
    topics = common_claim_types(session, file.vehicle.brand, file.vehicle.model) if file else []
    return Alerts(
        frontdesk=front,
        advisor=advisor_payload(front, file, a),
        kiosk=kiosk_payload(arrival, file, topics, a.package if a else None, today, tz),
    )


def list_alerts(
    session: Session, day: date, tz: ZoneInfo, audience: str, *, limit: int = 200, today: date | None = None
) -> list[dict]:
    """Payloads for `audience` (frontdesk / advisor / kiosk) of a day's alerted arrivals, newest first."""
    start, end = local_day_bounds(day, tz)
    rows = session.exec(
        select(Arrival)
        .where(
            col(Arrival.captured_at) >= start, col(Arrival.captured_at) < end, col(Arrival.alerted).is_(True)
        )
        .order_by(col(Arrival.captured_at).desc())
        .limit(limit)
    ).all()
    built = [build_alerts(session, row, today or day, tz) for row in rows]
    return [getattr(b, audience) for b in built]
