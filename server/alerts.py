"""What each screen is told about an arrival: one builder per audience, least data first.

- front desk: who arrived, the policy situation and the one next action, and the store that holds
  the car's file when it is a sister store (plate matching spans every store in the database);
- advisor: the same plus the task (package, talking points, history);
- kiosk (public): car model, province, masked plate and content keys, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlmodel import Session, col, select

from dealergate.plates import mask_plate, region_of
from server import renewal
from server.db import local_day_bounds
from server.kiosk_cards import arrival_card_ids
from server.matching import (
    SURE_READ_FROM,
    PlateMatch,
    VehicleFile,
    common_claim_types,
    load_vehicle_file,
    match_vehicle,
)
from server.models import Arrival, Customer, Gender, Vehicle
from server.queries import advisor_states, appointment_today, open_tasks
from server.renewal import (
    AdvisorState,
    Assessment,
    ClaimFacts,
    ContactFacts,
    Label,
    PolicyFacts,
    VehicleCase,
    VisitFacts,
)
from server.sites import SiteName, site_name

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


UNSURE_READ_NOTE = Label(
    "车牌识别不确定（省份或字符看不清），请核对车牌",
    "The plate was not read surely (an unclear province or character): check it",
)
"""Shown for an arrival read under `SURE_READ_FROM` that matched no car: it may be a car on file."""
PROBABLE_NOTE = Label(
    "车牌可能识别有误（相似字符或看不清的省份），请核对车牌后再称呼客户",
    "The plate may be misread (a look-alike character or an unclear province): check it before greeting "
    "the customer by name",
)


@dataclass(frozen=True)
class Alerts:
    frontdesk: dict[str, Any]
    advisor: dict[str, Any]
    kiosk: dict[str, Any]
    file: VehicleFile | None = None
    assessment: Assessment | None = None
    advisor_id: int | None = None
    """Staff id of the advisor the router picked (`assessment.routing.advisor`)."""
    open_tasks: tuple[Row[Any], ...] = ()
    """The car's open `RenewalTask` rows the front desk was shown (the arrival task is one, if open)."""


def honorific(customer: Customer) -> str:
    """王先生 / 李女士 / 欧阳先生; without a known gender the full name, which is never wrong."""
    surname = customer.name[:2] if customer.name[:2] in _COMPOUND_SURNAMES else customer.name[:1]
    if customer.gender == Gender.MALE:
        return f"{surname}先生"
    if customer.gender == Gender.FEMALE:
        return f"{surname}女士"
    return customer.name


def vehicle_case(
    file: VehicleFile, advisors: tuple[AdvisorState, ...] = (), tz: ZoneInfo | None = None
) -> VehicleCase:
    """The rules' view of a vehicle file: plain facts, no rows (contact days in the dealership's zone)."""
    return VehicleCase(
        purchase_date=file.vehicle.purchase_date,
        price_class=file.vehicle.price_class,
        policies=tuple(
            PolicyFacts(
                p.start_date,
                p.end_date,
                p.channel,
                p.insurer,
                p.ncd_factor,
                p.premium,
                file.coverage_codes(p),
            )
            for p in file.policies
        ),
        claims=tuple(ClaimFacts(c.date, c.amount, c.type) for c in file.claims),
        visits=tuple(VisitFacts(v.date, v.kind, v.out_date) for v in file.visits),
        contacts=tuple(
            ContactFacts(
                c.at.astimezone(tz).date(),
                c.channel,
                c.outcome,
                c.lapse_reason,
                c.competitor_premium,
                str(c.staff_id or ""),
            )
            for c in file.contacts
        ),
        quoted_premium=file.latest_quote.premium if file.latest_quote is not None else None,
        advisors=advisors,
    )


def assess(
    file: VehicleFile, today: date, advisors: tuple[AdvisorState, ...] = (), tz: ZoneInfo | None = None
) -> Assessment:
    return renewal.assess(vehicle_case(file, advisors, tz), today)


def _label(label: Label) -> dict[str, str]:
    return label.as_dict()


def _vehicle(v: Vehicle) -> dict[str, Any]:
    return {
        "brand": v.brand,
        "model": v.model,
        "series": v.series,
        "purchase_date": v.purchase_date.isoformat() if v.purchase_date else None,
    }


def _event(arrival: Arrival, tz: ZoneInfo) -> dict[str, Any]:
    """Milliseconds in `captured_at`: the screens sort by it as text, and two cars in one second tie."""
    return {
        "event_id": arrival.event_id,
        "site": arrival.site,
        "camera": arrival.camera,
        "captured_at": arrival.captured_at.astimezone(tz).isoformat(timespec="milliseconds"),
    }


def _routing(a: Assessment) -> dict[str, Any]:
    r = a.routing
    return {
        "lane": r.lane.value,
        **_label(renewal.LANE_LABELS[r.lane]),
        "instruction": _label(r.instruction),
        "reasons": [_label(x) for x in r.reasons],
        "advisor": None
        if r.advisor is None
        else {"username": r.advisor.username, "name": r.advisor.display_name},
    }


def file_site_code(file: VehicleFile) -> str | None:
    """The store that holds the car's file: the car's own, else its owner's; None for files from
    before sites, which are the server's own."""
    if file.vehicle.site is not None:
        return file.vehicle.site
    return file.customer.site if file.customer is not None else None


def frontdesk_payload(
    arrival: Arrival,
    file: VehicleFile | None,
    a: Assessment | None,
    tz: ZoneInfo,
    file_site: SiteName | None = None,
) -> dict[str, Any]:
    """Who arrived and what to do; new fields are added here, existing ones are read by frontdesk.js.

    `file_site`: the store holding the car's file; `other_site` says it is not the store the car
    drove into (a sister store's customer: the front desk greets a group customer, not a stranger)."""
    data: dict[str, Any] = {
        **_event(arrival, tz),
        "plate": arrival.plate,
        "plate_color": arrival.plate_color,
        "plate_type": arrival.plate_type,
        "confidence": round(arrival.confidence, 3),
        "match": arrival.match,
        "match_alternatives": [],
        "match_note": _label(UNSURE_READ_NOTE) if arrival.confidence < SURE_READ_FROM else None,
        "known": file is not None,
        "customer": None,
        "vehicle": None,
        "policy": None,
        "segment": None,
        "grade": None,
        "grade_reasons": [],
        "contact_step": None,
        "routing": None,
        "next_action": _label(renewal.unknown_vehicle_action()),
        "file_site": None,
        "other_site": False,
        "crop_jpeg_b64": arrival.crop_jpeg_b64,
        "acknowledged_by": arrival.acknowledged_by,
        "acknowledged_at": arrival.acknowledged_at.astimezone(tz).isoformat(timespec="seconds")
        if arrival.acknowledged_at is not None
        else None,
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
    if file_site is not None:
        data["file_site"] = file_site.label()
        data["other_site"] = file_site.code != arrival.site
    if arrival.match == "probable":
        data["match_note"] = _label(PROBABLE_NOTE)
    if a.latest is not None:
        data["policy"] = {
            "insurer": a.latest.insurer,
            "end_date": a.latest.end_date.isoformat(),
            "days_to_expiry": a.days,
            "tier": a.tier,
            "channel": a.latest.channel,
        }
    data["segment"] = {"key": a.segment.value, **_label(renewal.SEGMENT_LABELS[a.segment])}
    if c is not None and c.grade:  # a grade staff set by hand wins over the computed one
        data["grade"] = c.grade
        data["grade_reasons"] = [{"zh": "专员评定", "en": "Set by staff"}]
    else:
        data["grade"] = a.grade.letter
        data["grade_reasons"] = [_label(x) for x in a.grade.reasons]
    data["contact_step"] = a.step.as_dict() if a.step is not None else None
    data["routing"] = _routing(a)
    data["next_action"] = _label(a.action)
    return data


def _quote(a: Assessment) -> dict[str, Any]:
    e = a.estimate
    option = a.deductible_option
    return {
        "premium": e.premium,
        "daily_cost": e.daily_cost,
        "basis": e.basis,
        "last_premium": e.last_premium,
        "change": None if e.change is None else round(e.change, 3),
        "ncd_now": e.ncd_now,
        "ncd_next": e.ncd_next,
        "lines": [{**_label(line.label), "amount": line.amount} for line in e.lines],
        "deductible_option": None
        if option is None
        else {"deductible": option.deductible, "premium": option.premium},
    }


def advisor_payload(
    frontdesk: dict[str, Any], file: VehicleFile | None, a: Assessment | None
) -> dict[str, Any]:
    """The front desk's payload plus the task: package, quote, talking points, objections, profile."""
    data = dict(frontdesk)
    if data.get("customer") is not None and file is not None and file.customer is not None:
        # the advisor may call the customer; the front desk never needs the number
        data["customer"] = {**data["customer"], "phone": file.customer.phone}
    if data.get("vehicle") is not None and file is not None:
        # the tablet's quote builder and contact log name the car by id
        data["vehicle"] = {**data["vehicle"], "id": file.vehicle.id}
    if file is None or a is None:
        data["task"] = {
            "title": _label(renewal.unknown_vehicle_action()),
            "package": None,
            "talking_points": [],
        }
        data["history"] = None
        data["profile"] = None
        return data
    rec = a.recommendation
    if a.latest is not None and data.get("policy") is not None:
        data["policy"] = {**data["policy"], "premium": a.latest.premium, "ncd_factor": a.latest.ncd_factor}
    data["task"] = {
        "title": _label(a.action),
        "package": {"key": rec.key, **_label(rec.label), "coverages": list(rec.coverages)},
        "addons": list(rec.addons),
        "value_adds": [_label(v) for v in rec.value_adds],
        "quote": _quote(a),
        "talking_points": [_label(p) for p in a.talking_points],
        "objections": [o.as_dict() for o in a.objections],
        "next_step": a.next_step.as_dict() if a.next_step is not None else None,
    }
    data["profile"] = {
        "customer_type": {
            "key": a.profile.type.value,
            **_label(renewal.CUSTOMER_TYPE_LABELS[a.profile.type]),
            "reasons": [_label(x) for x in a.profile.reasons],
        },
        "lapse_risks": [r.as_dict() for r in a.risks],
        "claim_free_years": a.claim_free_years,
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
    cards: list[int] | None = None,
) -> dict[str, Any]:
    """Public: nothing here may identify a person (no name, phone, full plate, crop or customer id) —
    except the honorific greeting (王先生) of a customer who agreed to be greeted by name.
    `cards`: ids of the managers' kiosk cards targeted at this car (authored text, GET /api/v1/kiosk/cards)."""
    payload: dict[str, Any] = {
        "event_id": arrival.event_id,
        "captured_at": arrival.captured_at.astimezone(tz).isoformat(timespec="milliseconds"),
        "masked_plate": mask_plate(arrival.plate),
        "region": region_of(arrival.plate),
        "plate_color": arrival.plate_color,
        "brand": file.vehicle.brand if file else None,
        "model": file.vehicle.model if file else None,
        "content": {
            "claim_topics": claim_topics,
            "seasonal_offer": renewal.seasonal_offer(today),
            "package": package or "comprehensive",
            "cards": list(cards or []),
        },
    }
    customer = file.customer if file else None
    if customer is not None and customer.consent_greeting:
        name = honorific(customer)
        payload["consent_greeting"] = True
        payload["greeting"] = {
            "zh": name,
            "en": name,
        }  # the screen wraps it: 王先生，欢迎光临 / Welcome, 王先生
    return payload


def _desk_extras(
    session: Session, file: VehicleFile, tasks: list[Row[Any]], today: date, tz: ZoneInfo
) -> dict[str, Any]:
    """Today's appointment and the open reminders (renewal tasks) of this car, for the front desk."""
    appointment = (
        appointment_today(
            session, customer_id=file.customer.id or 0, vehicle_id=file.vehicle.id or 0, today=today, tz=tz
        )
        if file.customer is not None
        else None
    )
    return {
        "appointment": None
        if appointment is None
        else {
            "at": appointment.scheduled_at.astimezone(tz).isoformat(timespec="minutes"),
            "kind": appointment.kind,
            "note": appointment.note,
        },
        "open_tasks": [
            {
                "id": t.id,
                "kind": t.kind,
                "step": t.step,
                "due_date": t.due_date.isoformat(),
                "status": t.status,
            }
            for t in tasks
        ],
    }


def build_alerts(
    session: Session, arrival: Arrival, today: date, tz: ZoneInfo, *, match: PlateMatch | None = None
) -> Alerts:
    """All three payloads of a stored arrival, from the database as it is now.

    `match`: how the arrival's plate was just matched (the ingest has it), so a probable match's
    alternatives are not looked up again; without it they are, from the stored plate.
    """
    file = None
    if arrival.vehicle_id is not None:
        vehicle = session.get(Vehicle, arrival.vehicle_id)  # the matched car: already in the session
        owner = match.owner if match is not None else None
        file = load_vehicle_file(session, vehicle, owner) if vehicle is not None else None
    a = None
    advisor_id = None
    tasks: list[Row[Any]] = []
    if file is not None:
        roster = advisor_states(session, today=today, tz=tz, served=file.contact_staff)
        a = assess(file, today, roster.advisors, tz)
        advisor_id = roster.ids.get(a.routing.advisor.username) if a.routing.advisor is not None else None
        tasks = open_tasks(session, file.vehicle.id or 0)
    site_code = file_site_code(file) if file is not None else None
    # names from the per-process cache of the site table: no query per arrival
    front = frontdesk_payload(arrival, file, a, tz, site_name(session, site_code) if site_code else None)
    if arrival.match == "probable":
        found = match if match is not None else match_vehicle(session, arrival.plate, read_sure=False)
        front["match_alternatives"] = list(found.alternatives)
    front.update(
        _desk_extras(session, file, tasks, today, tz)
        if file is not None
        else {"appointment": None, "open_tasks": []}
    )
    topics = common_claim_types(session, file.vehicle.brand, file.vehicle.model) if file else []
    cards = arrival_card_ids(session, today, file.vehicle.brand if file else None, arrival.plate_type)
    return Alerts(
        frontdesk=front,
        advisor=advisor_payload(front, file, a),
        kiosk=kiosk_payload(arrival, file, topics, a.package if a else None, today, tz, cards),
        file=file,
        assessment=a,
        advisor_id=advisor_id,
        open_tasks=tuple(tasks),
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
