"""The advisor's renewal work on the tablet: the task queue, contact outcomes, quotes, appointments
and consent. Domain functions over a session; `server/api/advisor.py` only maps HTTP onto them.

Each function takes the caller (`StaffSession`) so ownership rules live here, not in routes:
advisors act on their own tasks, managers and admins on anyone's. Failures are three exceptions
the routes turn into 404 / 403 / 409 / 422.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from server.alerts import honorific, vehicle_case
from server.auth import StaffSession
from server.db import utc_now
from server.matching import VehicleFile, load_vehicle_file
from server.models import (
    Appointment,
    Arrival,
    ConsentFlag,
    ContactLog,
    Customer,
    Policy,
    Quote,
    RenewalTask,
    Role,
    StaffUser,
    Vehicle,
)
from server.queries import OPEN_TASK
from server.renewal import PACKAGES, ContactOutcome, VehicleCase
from server.renewal.quotes import PackageQuote, compare_packages, price_package

TaskFilter = Literal["open", "overdue", "due_today"]
TASK_STATUSES = ("open", "in_progress", "done", "cancelled")
CLOSING_OUTCOMES = frozenset({ContactOutcome.RENEWED, ContactOutcome.LOST})
"""A contact with one of these ends the renewal: the car's other open work is closed with it."""
THANK_YOU_DAYS = 3
"""After a renewal: a thank-you / vehicle-check follow-up within 3 days (DOMAIN: after renewal)."""
CONSENT_PURPOSES = ("greeting_by_name", "marketing")
SUPERVISORS = frozenset({Role.MANAGER, Role.ADMIN})
_Row = TypeVar("_Row")


class NotFound(LookupError):
    """No such row (404)."""


class Forbidden(PermissionError):
    """The row exists but is not this caller's to touch: another site's, another advisor's (403)."""


class Conflict(RuntimeError):
    """The row is in a state that does not allow the change (409)."""


class Invalid(ValueError):
    """The request is well-formed but contradicts the data (a date in the past, a car of someone else) (422)."""


def _get(session: Session, model: type[_Row], row_id: int, what: str) -> _Row:
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"no such {what} / {what} 不存在")
    return row


def _task_site(session: Session, task: RenewalTask) -> str | None:
    if task.arrival_id is None:
        return None
    return session.exec(select(Arrival.site).where(Arrival.id == task.arrival_id)).first()


def _check_task_access(session: Session, task: RenewalTask, staff: StaffSession, site: str) -> None:
    other = _task_site(session, task)
    if other is not None and other != site:
        raise Forbidden("this task belongs to another site / 该任务属于其他门店")
    if staff.role == Role.ADVISOR and task.assigned_to not in (None, staff.user_id):
        raise Forbidden("this task is assigned to another advisor / 该任务已分配给其他专员")


# ---- the task queue -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    task: RenewalTask
    vehicle: Vehicle
    customer: Customer | None
    policy_end: date | None
    assignee: str | None


def list_tasks(
    session: Session,
    staff: StaffSession,
    *,
    today: date,
    site: str,
    which: TaskFilter = "open",
    assignee: str | None = None,
    limit: int = 200,
) -> list[TaskRow]:
    """Open tasks, due first: an advisor's own (and unassigned ones); a manager's, anyone's or `assignee`'s.

    `overdue` is open work due before today, `due_today` due today; tasks of arrivals seen at another
    site's gate are left out.
    """
    q = (
        select(RenewalTask, Vehicle, Customer, Policy.end_date, StaffUser.username)
        .join(Vehicle, col(Vehicle.id) == RenewalTask.vehicle_id)
        .join(Customer, col(Customer.id) == RenewalTask.customer_id, isouter=True)
        .join(Policy, col(Policy.id) == RenewalTask.policy_id, isouter=True)
        .join(StaffUser, col(StaffUser.id) == RenewalTask.assigned_to, isouter=True)
        .join(Arrival, col(Arrival.id) == RenewalTask.arrival_id, isouter=True)
        .where(col(RenewalTask.status).in_(OPEN_TASK), or_(col(Arrival.site).is_(None), Arrival.site == site))
    )
    if which == "overdue":
        q = q.where(col(RenewalTask.due_date) < today)
    elif which == "due_today":
        q = q.where(RenewalTask.due_date == today)
    if staff.role == Role.ADVISOR:
        q = q.where(or_(RenewalTask.assigned_to == staff.user_id, col(RenewalTask.assigned_to).is_(None)))
    elif assignee is not None:
        q = q.where(StaffUser.username == assignee)
    q = q.order_by(col(RenewalTask.due_date), col(RenewalTask.id)).limit(limit)
    return [TaskRow(t, v, c, end, who) for t, v, c, end, who in session.exec(q).all()]


def task_dict(row: TaskRow, today: date, *, with_phone: bool) -> dict[str, object]:
    t, c = row.task, row.customer
    customer = None
    if c is not None:
        customer = {"id": c.id, "name": c.name, "honorific": honorific(c)}
        if with_phone:
            customer["phone"] = c.phone
    return {
        "id": t.id,
        "kind": t.kind,
        "step": t.step,
        "due_date": t.due_date.isoformat(),
        "overdue": t.status in OPEN_TASK and t.due_date < today,
        "status": t.status,
        "outcome": t.outcome,
        "lane": t.lane,
        "assigned_to": row.assignee,
        "vehicle": {
            "id": row.vehicle.id,
            "plate": row.vehicle.plate,
            "brand": row.vehicle.brand,
            "model": row.vehicle.model,
        },
        "customer": customer,
        "policy_end_date": row.policy_end.isoformat() if row.policy_end else None,
        "days_to_expiry": (row.policy_end - today).days if row.policy_end else None,
    }


def task_row(session: Session, task: RenewalTask) -> TaskRow:
    vehicle = _get(session, Vehicle, task.vehicle_id, "vehicle")
    customer = session.get(Customer, task.customer_id) if task.customer_id is not None else None
    policy = session.get(Policy, task.policy_id) if task.policy_id is not None else None
    who = session.get(StaffUser, task.assigned_to) if task.assigned_to is not None else None
    return TaskRow(
        task, vehicle, customer, policy.end_date if policy else None, who.username if who else None
    )


def update_task(
    session: Session,
    staff: StaffSession,
    task_id: int,
    *,
    site: str,
    status: str | None = None,
    assignee: str | None = None,
) -> RenewalTask:
    """Move a task along open → in_progress → done / cancelled; managers may also reassign it.

    Taking an unassigned task (in_progress) assigns it to the caller. Done and cancelled are final.
    """
    task = _get(session, RenewalTask, task_id, "task")
    _check_task_access(session, task, staff, site)
    if task.status not in OPEN_TASK:
        raise Conflict(f"task is already {task.status} / 任务已结束，不能再修改")
    if assignee is not None:
        if staff.role not in SUPERVISORS:
            raise Forbidden("only a manager reassigns tasks / 仅经理可改派任务")
        task.assigned_to = _advisor(session, assignee).id
    if status is not None:
        if status not in TASK_STATUSES:
            raise Invalid(f"status must be one of {', '.join(TASK_STATUSES)}")
        task.status = status
        if status == "in_progress" and task.assigned_to is None:
            task.assigned_to = staff.user_id
    task.updated_at = utc_now()
    session.add(task)
    session.flush()
    return task


def _advisor(session: Session, username: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active or user.role != Role.ADVISOR.value:
        raise Invalid(f"{username!r} is not an active advisor / 不是在岗的续保专员")
    return user


# ---- customers, cars, contacts --------------------------------------------------------------


def customer_and_vehicle(
    session: Session, customer_id: int, vehicle_id: int | None
) -> tuple[Customer, Vehicle | None]:
    customer = _get(session, Customer, customer_id, "customer")
    vehicle = None
    if vehicle_id is not None:
        vehicle = _get(session, Vehicle, vehicle_id, "vehicle")
        if vehicle.customer_id != customer.id:
            raise Invalid("this car is not the customer's / 该车辆不属于此客户")
    return customer, vehicle


@dataclass(frozen=True)
class ContactResult:
    contact: ContactLog
    task: RenewalTask | None
    follow_up: RenewalTask | None
    closed: list[RenewalTask]


def log_contact(
    session: Session,
    staff: StaffSession,
    *,
    site: str,
    today: date,
    customer_id: int,
    channel: str,
    outcome: str,
    vehicle_id: int | None = None,
    task_id: int | None = None,
    lapse_reason: str | None = None,
    competitor_premium: float | None = None,
    note: str = "",
    next_follow_up: date | None = None,
) -> ContactResult:
    """Record one contact attempt and what it means for the car's renewal work.

    - the task it answers (if any) gets the outcome; it is done unless the customer is still to be
      followed up without a date (then in progress);
    - `next_follow_up` moves the car's open follow-up task to that day, or creates one for the caller;
    - renewed / lost close every other open task of the car; renewed schedules the thank-you call.
    """
    customer, vehicle = customer_and_vehicle(session, customer_id, vehicle_id)
    if next_follow_up is not None and next_follow_up < today:
        raise Invalid(f"next_follow_up {next_follow_up} is in the past / 下次跟进日期不能早于今天")
    task = None
    if task_id is not None:
        task = _get(session, RenewalTask, task_id, "task")
        _check_task_access(session, task, staff, site)
        if task.customer_id not in (None, customer.id):
            raise Invalid("the task is another customer's / 该任务不属于此客户")
        if vehicle is None:
            vehicle = _get(session, Vehicle, task.vehicle_id, "vehicle")
            if vehicle.customer_id != customer.id:
                raise Invalid("the task is for another customer's car / 该任务的车辆不属于此客户")
        elif vehicle.id != task.vehicle_id:
            raise Invalid("the task is for another car / 该任务属于其他车辆")
    if vehicle is None and (next_follow_up is not None or outcome in CLOSING_OUTCOMES):
        raise Invalid("name the car (vehicle_id or task_id) / 请指定车辆")
    contact = ContactLog(
        customer_id=customer.id or 0,
        vehicle_id=vehicle.id if vehicle else None,
        task_id=task.id if task else None,
        staff_id=staff.user_id,
        channel=channel,
        outcome=outcome,
        lapse_reason=lapse_reason,
        competitor_premium=competitor_premium,
        note=note,
    )
    session.add(contact)
    now = utc_now()
    if task is not None:
        task.outcome = outcome
        # answered, unless the customer still has to be chased and no date was set for it
        pending = next_follow_up is None and outcome in (ContactOutcome.NO_ANSWER, ContactOutcome.CONSIDERING)
        task.status = "in_progress" if pending else "done"
        task.assigned_to = task.assigned_to or staff.user_id
        task.updated_at = now
        session.add(task)
    closed: list[RenewalTask] = []
    follow = None
    if vehicle is not None and outcome in CLOSING_OUTCOMES:
        for other in session.exec(
            select(RenewalTask).where(
                RenewalTask.vehicle_id == vehicle.id, col(RenewalTask.status).in_(OPEN_TASK)
            )
        ).all():
            if task is None or other.id != task.id:
                other.status, other.outcome, other.updated_at = "done", outcome, now
                session.add(other)
                closed.append(other)
        if outcome == ContactOutcome.RENEWED:
            follow = _new_task(
                session, vehicle, customer, staff, "thank_you", today + timedelta(THANK_YOU_DAYS)
            )
    elif vehicle is not None and next_follow_up is not None:
        follow = session.exec(
            select(RenewalTask).where(
                RenewalTask.vehicle_id == vehicle.id,
                RenewalTask.kind == "follow_up",
                col(RenewalTask.status).in_(OPEN_TASK),
            )
        ).first()
        if follow is None:
            follow = _new_task(session, vehicle, customer, staff, "follow_up", next_follow_up)
        else:
            follow.due_date, follow.updated_at = next_follow_up, now
            follow.assigned_to = follow.assigned_to or staff.user_id
            session.add(follow)
    session.flush()
    return ContactResult(contact, task, follow, closed)


def _latest_policy_id(session: Session, vehicle_id: int | None) -> int | None:
    return session.exec(
        select(Policy.id).where(Policy.vehicle_id == vehicle_id).order_by(col(Policy.end_date).desc())
    ).first()


def _new_task(
    session: Session, vehicle: Vehicle, customer: Customer, staff: StaffSession, kind: str, due: date
) -> RenewalTask:
    task = RenewalTask(
        vehicle_id=vehicle.id or 0,
        customer_id=customer.id,
        policy_id=_latest_policy_id(session, vehicle.id),
        kind=kind,
        due_date=due,
        assigned_to=staff.user_id if staff.role == Role.ADVISOR else None,
    )
    session.add(task)
    session.flush()
    return task


# ---- quotes -----------------------------------------------------------------------------------


def vehicle_file_for_quote(
    session: Session, vehicle_id: int, tz: ZoneInfo
) -> tuple[VehicleFile, VehicleCase]:
    vehicle = _get(session, Vehicle, vehicle_id, "vehicle")
    file = load_vehicle_file(session, vehicle)
    return file, vehicle_case(file, tz=tz)


def quote_options(
    session: Session, vehicle_id: int, *, today: date, tz: ZoneInfo, deductible: int | None = None
) -> tuple[Vehicle, Customer | None, list[PackageQuote]]:
    file, case = vehicle_file_for_quote(session, vehicle_id, tz)
    return file.vehicle, file.customer, compare_packages(case, today, deductible=deductible)


def create_quote(
    session: Session,
    staff: StaffSession,
    vehicle_id: int,
    *,
    today: date,
    tz: ZoneInfo,
    package: str,
    addons: Sequence[str] = (),
    deductible: int | None = None,
    insurer: str = "",
    valid_days: int = 30,
) -> tuple[Quote, list[PackageQuote]]:
    """Store the package the customer chose, priced by the renewal engine (never by the client)."""
    file, case = vehicle_file_for_quote(session, vehicle_id, tz)
    if package not in PACKAGES:
        raise Invalid(f"package must be one of {', '.join(PACKAGES)}")
    covers = PACKAGES[package][1]
    if deductible is not None and "own_damage" not in covers:
        raise Invalid("a deductible applies to own-damage cover only / 绝对免赔额仅适用于含车损险的套餐")
    estimate = price_package(case, today, package, addons=addons, deductible=deductible)
    latest = max(file.policies, key=lambda p: p.end_date, default=None)
    quote = Quote(
        vehicle_id=file.vehicle.id or 0,
        customer_id=file.customer.id if file.customer else None,
        package=package,
        coverages=list(dict.fromkeys((*covers, *addons))),
        premium=estimate.premium,
        ncd_factor=estimate.ncd_next,
        deductible=deductible,
        insurer=insurer or (latest.insurer if latest else ""),
        valid_until=today + timedelta(days=valid_days),
        created_by=staff.user_id,
    )
    session.add(quote)
    session.flush()
    return quote, compare_packages(case, today, deductible=deductible)


# ---- appointments and consent ------------------------------------------------------------------


def book_appointment(
    session: Session,
    staff: StaffSession,
    *,
    customer_id: int,
    vehicle_id: int | None,
    scheduled_at: datetime,
    kind: str,
    advisor: str | None = None,
    note: str = "",
) -> Appointment:
    """Book a visit; the front desk sees it when the car drives in that day."""
    customer, vehicle = customer_and_vehicle(session, customer_id, vehicle_id)
    if scheduled_at <= utc_now():
        raise Invalid("scheduled_at must be in the future / 预约时间须晚于现在")
    advisor_id = (
        _advisor(session, advisor).id
        if advisor is not None
        else (staff.user_id if staff.role == Role.ADVISOR else None)
    )
    appointment = Appointment(
        customer_id=customer.id or 0,
        vehicle_id=vehicle.id if vehicle else None,
        scheduled_at=scheduled_at,
        kind=kind,
        advisor_id=advisor_id,
        note=note,
    )
    session.add(appointment)
    session.flush()
    return appointment


def consents(session: Session, customer_id: int) -> dict[str, dict[str, object] | None]:
    """The consent in force per purpose (the latest row), None where the customer was never asked."""
    _get(session, Customer, customer_id, "customer")
    rows = session.exec(
        select(ConsentFlag)
        .where(ConsentFlag.customer_id == customer_id, col(ConsentFlag.purpose).in_(CONSENT_PURPOSES))
        .order_by(col(ConsentFlag.at), col(ConsentFlag.id))
    ).all()
    latest = {r.purpose: r for r in rows}
    return {
        p: None
        if p not in latest
        else {
            "granted": latest[p].granted,
            "source": latest[p].source,
            "recorded_by": latest[p].recorded_by,
            "at": latest[p].at.isoformat(),
        }
        for p in CONSENT_PURPOSES
    }


def record_consents(
    session: Session, staff: StaffSession, customer_id: int, flags: Iterable[tuple[str, bool]], source: str
) -> Customer:
    """Append one consent row per purpose given; greeting by name also sets the flag the kiosk reads."""
    customer = _get(session, Customer, customer_id, "customer")
    now = utc_now()
    for purpose, granted in flags:
        if purpose not in CONSENT_PURPOSES:
            raise Invalid(f"unknown consent purpose {purpose!r}")
        session.add(
            ConsentFlag(
                customer_id=customer.id or 0,
                purpose=purpose,
                granted=granted,
                source=source,
                recorded_by=staff.username,
                at=now,
            )
        )
        if purpose == "greeting_by_name":
            customer.consent_greeting = granted
            session.add(customer)
    session.flush()
    return customer
