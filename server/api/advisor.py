"""The advisor's tablet: task queue, contact log, quote builder, appointments, consent.

Thin routes over `server.workflow`; every response that reveals a customer is written to the audit
log first (who looked at whom, PIPL). Advisors, managers and admins write; receptionists may read
the task queue (no phone numbers) and a customer's consents (whether to greet them by name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from server import workflow
from server.api.deps import MAX_ROW_ID, RowId, SessionDep, SettingsDep
from server.audit import record_access
from server.auth import ADVISOR_ROLES, STAFF_ROLES, StaffSession, require_roles
from server.db import local_today
from server.models import Quote, RenewalTask, Role
from server.renewal import PACKAGES, ContactChannel, ContactOutcome, LapseReason
from server.renewal.pricing import COVERAGE_WEIGHTS, DEDUCTIBLE_DISCOUNTS
from server.renewal.quotes import PackageQuote

router = APIRouter(prefix="/api/v1", tags=["advisor"])
Reader = Annotated[StaffSession, Depends(require_roles(STAFF_ROLES))]
Writer = Annotated[StaffSession, Depends(require_roles(ADVISOR_ROLES))]

PackageKey = Literal["basic", "economy", "comprehensive", "full"]
CoverageCode = Literal[tuple(COVERAGE_WEIGHTS)]  # type: ignore[valid-type]
Deductible = Literal[tuple(sorted(DEDUCTIBLE_DISCOUNTS))]  # type: ignore[valid-type]
assert set(PackageKey.__args__) == set(PACKAGES)  # type: ignore[attr-defined]  # one list of packages


@contextmanager
def _domain_errors() -> Iterator[None]:
    """The workflow's exceptions as HTTP statuses (its messages are bilingual already)."""
    try:
        yield
    except workflow.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except workflow.Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except workflow.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except workflow.Invalid as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


def _audited(
    db: Session, staff: StaffSession, action: str, customer_ids: list[int | None], **kw: Any
) -> None:
    """Audit, then commit: the trail and the change are in the database before the response leaves
    (the session dependency's own commit runs only after the response is sent)."""
    record_access(db, staff, action, customer_ids, **kw)
    db.commit()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- tasks ------------------------------------------------------------------------------------


@router.get("/tasks")
def my_tasks(
    db: SessionDep,
    settings: SettingsDep,
    staff: Reader,
    filter: Annotated[
        workflow.TaskFilter, Query(description="open (all not done), overdue, due_today")
    ] = "open",
    assignee: Annotated[
        str | None, Query(max_length=32, description="managers: one advisor's tasks (username)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    """Renewal tasks not done yet, due first; an advisor sees their own and unassigned ones."""
    today = local_today(settings.tz)
    rows = workflow.list_tasks(
        db, staff, today=today, site=settings.site, which=filter, assignee=assignee, limit=limit
    )
    _audited(db, staff, "list_tasks", [r.task.customer_id for r in rows], detail=filter)
    with_phone = staff.role != Role.RECEPTIONIST
    return {
        "date": today.isoformat(),
        "tasks": [workflow.task_dict(r, today, with_phone=with_phone) for r in rows],
    }


class TaskUpdate(_Body):
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    assignee: str | None = Field(default=None, max_length=32, description="managers: advisor username")

    @model_validator(mode="after")
    def _something(self) -> TaskUpdate:
        if self.status is None and self.assignee is None:
            raise ValueError("give status or assignee / 请提供 status 或 assignee")
        return self


@router.patch("/tasks/{task_id}")
def update_task(
    task_id: RowId, body: TaskUpdate, db: SessionDep, settings: SettingsDep, staff: Writer
) -> dict[str, Any]:
    with _domain_errors():
        task = workflow.update_task(
            db, staff, task_id, site=settings.site, status=body.status, assignee=body.assignee
        )
        row = workflow.task_row(db, task)
    _audited(
        db, staff, "update_task", [task.customer_id], vehicle_id=task.vehicle_id, detail=f"task {task_id}"
    )
    return workflow.task_dict(row, local_today(settings.tz), with_phone=True)


# ---- contact log ------------------------------------------------------------------------------


class ContactIn(_Body):
    customer_id: int = Field(gt=0, le=MAX_ROW_ID)
    vehicle_id: int | None = Field(default=None, gt=0, le=MAX_ROW_ID)
    task_id: int | None = Field(
        default=None, gt=0, le=MAX_ROW_ID, description="the task this contact answers"
    )
    channel: ContactChannel
    outcome: ContactOutcome
    lapse_reason: LapseReason | None = Field(default=None, description="required when the outcome is lost")
    competitor_premium: float | None = Field(default=None, gt=0, le=1_000_000, description="rival quote, 元")
    note: str = Field(default="", max_length=500)
    next_follow_up: dt.date | None = Field(default=None, description="local date of the next contact")

    @model_validator(mode="after")
    def _consistent(self) -> ContactIn:
        if self.outcome == ContactOutcome.LOST and self.lapse_reason is None:
            raise ValueError("lapse_reason is required when the outcome is lost / 战败须标注流失原因")
        if self.lapse_reason is not None and self.outcome not in (
            ContactOutcome.LOST,
            ContactOutcome.REFUSED,
        ):
            raise ValueError(
                "lapse_reason only goes with outcome lost or refused / 仅战败或拒绝时标注流失原因"
            )
        if self.next_follow_up is not None and self.outcome in workflow.CLOSING_OUTCOMES:
            raise ValueError(
                f"no follow-up after outcome {self.outcome.value}: the renewal is decided / 已成交或战败，无需再跟进"
            )
        if self.lapse_reason == LapseReason.PRICE and self.competitor_premium is None:
            raise ValueError("a price lapse needs competitor_premium / 价格原因须填写竞品报价")
        return self


def _task_brief(t: RenewalTask | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "id": t.id,
        "kind": t.kind,
        "status": t.status,
        "due_date": t.due_date.isoformat(),
        "outcome": t.outcome,
    }


@router.post("/contacts", status_code=status.HTTP_201_CREATED)
def log_contact(body: ContactIn, db: SessionDep, settings: SettingsDep, staff: Writer) -> dict[str, Any]:
    """Log one contact; a next follow-up date moves (or creates) the car's follow-up task."""
    today = local_today(settings.tz)
    with _domain_errors():
        result = workflow.log_contact(
            db,
            staff,
            site=settings.site,
            today=today,
            **body.model_dump(exclude={"channel", "outcome", "lapse_reason"}),
            channel=body.channel.value,
            outcome=body.outcome.value,
            lapse_reason=body.lapse_reason.value if body.lapse_reason else None,
        )
    c = result.contact
    _audited(
        db, staff, "log_contact", [c.customer_id], vehicle_id=c.vehicle_id, detail=f"contact {c.outcome}"
    )
    return {
        "contact": c.model_dump(mode="json"),
        "task": _task_brief(result.task),
        "follow_up": _task_brief(result.follow_up),
        "closed_tasks": [t.id for t in result.closed],
    }


# ---- quotes -----------------------------------------------------------------------------------


def _package(q: PackageQuote) -> dict[str, Any]:
    e = q.estimate
    return {
        "key": q.key,
        **q.label.as_dict(),
        "coverages": list(q.coverages),
        "addons": list(q.addons),
        "recommended": q.recommended,
        "premium": e.premium,
        "daily_cost": e.daily_cost,
        "change": None if e.change is None else round(e.change, 3),
        "basis": e.basis,
        "ncd_next": e.ncd_next,
        "deductible": e.deductible,
        "lines": [{**line.label.as_dict(), "amount": line.amount} for line in e.lines],
    }


@router.get("/vehicles/{vehicle_id}/quote-options")
def quote_options(
    vehicle_id: RowId,
    db: SessionDep,
    settings: SettingsDep,
    staff: Writer,
    deductible: Annotated[
        int | None, Query(description="absolute deductible: 300, 500, 1000 or 2000 元")
    ] = None,
) -> dict[str, Any]:
    """The four packages priced for this car (premium, daily cost, change against last year)."""
    if deductible is not None and deductible not in DEDUCTIBLE_DISCOUNTS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"deductible must be one of {sorted(DEDUCTIBLE_DISCOUNTS)} 元 / 绝对免赔额只能是 300、500、1000、2000 元",
        )
    tz = settings.tz
    with _domain_errors():
        vehicle, customer, packages = workflow.quote_options(
            db, vehicle_id, today=local_today(tz), tz=tz, deductible=deductible
        )
    _audited(db, staff, "quote_options", [vehicle.customer_id], vehicle_id=vehicle.id)
    return {
        "vehicle": {"id": vehicle.id, "plate": vehicle.plate, "brand": vehicle.brand, "model": vehicle.model},
        "customer_id": customer.id if customer else None,
        "packages": [_package(p) for p in packages],
    }


class QuoteIn(_Body):
    package: PackageKey
    addons: list[CoverageCode] = Field(default_factory=list, max_length=len(COVERAGE_WEIGHTS))
    deductible: Deductible | None = None
    insurer: str = Field(default="", max_length=16, description="default: the insurer of the last policy")
    valid_days: int = Field(default=30, ge=1, le=90, description="the quote holds this many days")


def _quote(q: Quote) -> dict[str, Any]:
    return q.model_dump(mode="json", exclude={"created_by"})


@router.post("/vehicles/{vehicle_id}/quotes", status_code=status.HTTP_201_CREATED)
def create_quote(
    vehicle_id: RowId, body: QuoteIn, db: SessionDep, settings: SettingsDep, staff: Writer
) -> dict[str, Any]:
    """Store the chosen package; its premium comes from the renewal engine, not from the client."""
    tz = settings.tz
    with _domain_errors():
        quote, packages = workflow.create_quote(
            db, staff, vehicle_id, today=local_today(tz), tz=tz, **body.model_dump()
        )
    _audited(db, staff, "create_quote", [quote.customer_id], vehicle_id=vehicle_id, detail=quote.package)
    return {"quote": _quote(quote), "packages": [_package(p) for p in packages]}


# ---- appointments -----------------------------------------------------------------------------


class AppointmentIn(_Body):
    customer_id: int = Field(gt=0, le=MAX_ROW_ID)
    vehicle_id: int | None = Field(default=None, gt=0, le=MAX_ROW_ID)
    scheduled_at: AwareDatetime = Field(description="with its UTC offset, e.g. 2026-06-01T10:00:00+08:00")
    kind: Literal["maintenance", "repair", "renewal", "claim"]
    advisor: str | None = Field(default=None, max_length=32, description="advisor username; default: you")
    note: str = Field(default="", max_length=200)


@router.post("/appointments", status_code=status.HTTP_201_CREATED)
def book_appointment(
    body: AppointmentIn, db: SessionDep, settings: SettingsDep, staff: Writer
) -> dict[str, Any]:
    with _domain_errors():
        appointment = workflow.book_appointment(db, staff, **body.model_dump())
    _audited(db, staff, "book_appointment", [appointment.customer_id], vehicle_id=appointment.vehicle_id)
    return {
        **appointment.model_dump(mode="json", exclude={"scheduled_at"}),
        "scheduled_at": appointment.scheduled_at.astimezone(settings.tz).isoformat(timespec="minutes"),
    }


# ---- consent ----------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/consent")
def customer_consent(customer_id: RowId, db: SessionDep, staff: Reader) -> dict[str, Any]:
    """The consents in force (greeting by name on the kiosk, marketing); null where never asked."""
    with _domain_errors():
        flags = workflow.consents(db, customer_id)
    _audited(db, staff, "view_consent", [customer_id])
    return {"customer_id": customer_id, **flags}


class ConsentIn(_Body):
    greeting_by_name: bool | None = Field(
        default=None, description="may be greeted by name on public screens"
    )
    marketing: bool | None = Field(default=None, description="may be contacted with offers")
    source: Literal["form", "staff"] = Field(default="staff", description="signed form, or told staff")

    @model_validator(mode="after")
    def _something(self) -> ConsentIn:
        if self.greeting_by_name is None and self.marketing is None:
            raise ValueError("give greeting_by_name and/or marketing / 请至少提供一项授权")
        return self


@router.put("/customers/{customer_id}/consent")
def record_consent(customer_id: RowId, body: ConsentIn, db: SessionDep, staff: Writer) -> dict[str, Any]:
    """Record consents given or withdrawn; each change is a new row (the history is kept)."""
    flags = [(p, v) for p in workflow.CONSENT_PURPOSES if (v := getattr(body, p)) is not None]
    with _domain_errors():
        workflow.record_consents(db, staff, customer_id, flags, body.source)
        current = workflow.consents(db, customer_id)
    _audited(db, staff, "record_consent", [customer_id], detail=",".join(f"{p}={v}" for p, v in flags))
    return {"customer_id": customer_id, **current}
