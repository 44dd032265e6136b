"""The advisor's workflow API: task queue, contact log, quotes, appointments, consent (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from staff_login import login

from server.auth import create_staff_user
from server.config import ServerSettings
from server.db import local_today
from server.main import create_app
from server.models import (
    Appointment,
    Arrival,
    AuditLog,
    ContactLog,
    Customer,
    Policy,
    Quote,
    RenewalTask,
    Role,
    StaffUser,
    Vehicle,
)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("advisor")
    settings = ServerSettings(database_url=database_url, var_dir=tmp / "var", seed_demo=True, site="store1")
    with TestClient(create_app(settings, ingest=False)) as client:
        with Session(client.app.state.engine) as s:
            create_staff_user(s, "advisor2", "续保专员 李娜", Role.ADVISOR, "dealergate")
            s.commit()
        yield client


def today(client: TestClient) -> date:
    return local_today(client.app.state.settings.tz)


_used: set[int] = set()


def fresh_vehicle(client: TestClient) -> Vehicle:
    """A demo car with an owner and a policy that no other test of the module has touched."""
    with Session(client.app.state.engine) as s:
        rows = s.exec(
            select(Vehicle)
            .where(col(Vehicle.customer_id).is_not(None))
            .where(col(Vehicle.id).in_(select(Policy.vehicle_id)))
            .order_by(Vehicle.id)
        ).all()
    v = next(v for v in rows if v.id not in _used)
    _used.add(v.id or 0)
    return v


def other_customer(client: TestClient, not_id: int | None) -> int:
    with Session(client.app.state.engine) as s:
        return s.exec(
            select(Customer.id).where(Customer.id != not_id).order_by(col(Customer.id).desc())
        ).first()


def add_task(client: TestClient, v: Vehicle, due: date, who: str | None, **kw: object) -> int:
    with Session(client.app.state.engine) as s:
        uid = s.exec(select(StaffUser.id).where(StaffUser.username == who)).first() if who else None
        t = RenewalTask(vehicle_id=v.id, kind="timeline", due_date=due, assigned_to=uid,
                        **{"customer_id": v.customer_id, **kw})  # fmt: skip
        s.add(t)
        s.commit()
        return t.id or 0


def audit_rows(client: TestClient, action: str, customer_id: int | None) -> int:
    with Session(client.app.state.engine) as s:
        return len(
            s.exec(
                select(AuditLog).where(AuditLog.action == action, AuditLog.customer_id == customer_id)
            ).all()
        )


def error(res) -> str:
    assert res.status_code == 422, res.text
    detail = res.json()["detail"]
    return (
        detail
        if isinstance(detail, str)
        else " | ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    )


# ---- tasks ------------------------------------------------------------------------------------


def test_task_queue_filters_owner_site_and_audit(app_client: TestClient) -> None:
    d = today(app_client)
    v1, v2, v3, v4 = (fresh_vehicle(app_client) for _ in range(4))
    overdue = add_task(app_client, v1, d - timedelta(days=2), "advisor")
    due_today = add_task(app_client, v2, d, "advisor")
    later = add_task(app_client, v3, d + timedelta(days=7), None)
    theirs = add_task(app_client, v4, d, "advisor2")
    with Session(app_client.app.state.engine) as s:
        arrival = Arrival(event_id="other-site-1", site="store2", camera="gate", plate=v4.plate, confidence=0.9,
                          captured_at=datetime.now(UTC), vehicle_id=v4.id)  # fmt: skip
        s.add(arrival)
        s.flush()
        elsewhere = RenewalTask(vehicle_id=v1.id, customer_id=v1.customer_id, kind="arrival", due_date=d,
                                arrival_id=arrival.id)  # fmt: skip
        s.add(elsewhere)
        s.commit()
        elsewhere_id = elsewhere.id

    advisor = login(app_client, Role.ADVISOR)
    ids = lambda res: [t["id"] for t in res.json()["tasks"]]
    mine = advisor.get("/api/v1/tasks")
    assert mine.status_code == 200
    assert {overdue, due_today, later} <= set(ids(mine)), "own and unassigned open tasks"
    assert theirs not in ids(mine) and elsewhere_id not in ids(mine), (
        "not another advisor's, not another site's"
    )
    first = next(t for t in mine.json()["tasks"] if t["id"] == overdue)
    assert first["overdue"] is True and first["customer"]["phone"] and first["vehicle"]["plate"] == v1.plate
    assert overdue in ids(advisor.get("/api/v1/tasks", params={"filter": "overdue"}))
    assert due_today not in ids(advisor.get("/api/v1/tasks", params={"filter": "overdue"}))
    assert ids(advisor.get("/api/v1/tasks", params={"filter": "due_today"})).count(due_today) == 1
    assert later not in ids(advisor.get("/api/v1/tasks", params={"filter": "due_today"}))
    assert "filter" in error(advisor.get("/api/v1/tasks", params={"filter": "someday"}))
    assert audit_rows(app_client, "list_tasks", v1.customer_id) >= 1

    manager = login(app_client, Role.MANAGER)
    assert theirs in ids(manager.get("/api/v1/tasks"))
    assert ids(manager.get("/api/v1/tasks", params={"assignee": "advisor2"})) == [theirs]
    reception = login(app_client, Role.RECEPTIONIST)
    listed = reception.get("/api/v1/tasks").json()["tasks"]
    assert listed and all("phone" not in (t["customer"] or {}) for t in listed), (
        "the front desk never gets phones"
    )

    assert advisor.patch(f"/api/v1/tasks/{elsewhere_id}", json={"status": "done"}).status_code == 403


def test_task_status_changes_and_ownership(app_client: TestClient) -> None:
    d = today(app_client)
    v = fresh_vehicle(app_client)
    mine = add_task(app_client, v, d, "advisor")
    theirs = add_task(app_client, v, d, "advisor2")
    unassigned = add_task(app_client, v, d, None)
    advisor = login(app_client, Role.ADVISOR)
    res = advisor.patch(f"/api/v1/tasks/{mine}", json={"status": "in_progress"})
    assert res.status_code == 200 and res.json()["status"] == "in_progress"
    assert advisor.patch(f"/api/v1/tasks/{mine}", json={"status": "done"}).json()["status"] == "done"
    assert advisor.patch(f"/api/v1/tasks/{mine}", json={"status": "open"}).status_code == 409, "done is final"
    assert advisor.patch(f"/api/v1/tasks/{theirs}", json={"status": "done"}).status_code == 403
    assert advisor.patch(f"/api/v1/tasks/{theirs}", json={"assignee": "advisor"}).status_code == 403
    taken = advisor.patch(f"/api/v1/tasks/{unassigned}", json={"status": "in_progress"}).json()
    assert taken["assigned_to"] == "advisor", "taking an unassigned task assigns it"
    assert "give status or assignee" in error(advisor.patch(f"/api/v1/tasks/{unassigned}", json={}))
    assert "status" in error(advisor.patch(f"/api/v1/tasks/{unassigned}", json={"status": "finished"}))
    assert (
        "extra"
        in error(advisor.patch(f"/api/v1/tasks/{unassigned}", json={"status": "done", "due": 1})).lower()
    )
    assert advisor.patch("/api/v1/tasks/999999", json={"status": "done"}).status_code == 404
    manager = login(app_client, Role.MANAGER)
    assert (
        manager.patch(f"/api/v1/tasks/{theirs}", json={"assignee": "advisor"}).json()["assigned_to"]
        == "advisor"
    )
    assert "not an active advisor" in error(
        manager.patch(f"/api/v1/tasks/{theirs}", json={"assignee": "manager"})
    )
    reception = login(app_client, Role.RECEPTIONIST)
    assert reception.patch(f"/api/v1/tasks/{theirs}", json={"status": "done"}).status_code == 403


# ---- contact log ------------------------------------------------------------------------------


def test_contact_validation_messages(app_client: TestClient) -> None:
    v = fresh_vehicle(app_client)
    advisor = login(app_client, Role.ADVISOR)
    base = {"customer_id": v.customer_id, "vehicle_id": v.id, "channel": "phone"}
    post = lambda **kw: advisor.post("/api/v1/contacts", json={**base, **kw})
    assert "lapse_reason is required" in error(post(outcome="lost"))
    assert "only goes with outcome lost or refused" in error(post(outcome="reached", lapse_reason="other"))
    assert "competitor_premium" in error(post(outcome="lost", lapse_reason="price"))
    assert "no follow-up after outcome renewed" in error(post(outcome="renewed", next_follow_up="2099-01-01"))
    assert "channel" in error(post(outcome="reached", channel="pigeon"))
    assert "outcome" in error(post(outcome="maybe"))
    past = (today(app_client) - timedelta(days=1)).isoformat()
    assert "in the past" in error(post(outcome="considering", next_follow_up=past))
    other = other_customer(app_client, v.customer_id)
    assert "not the customer's" in error(post(outcome="reached", customer_id=other))
    ownerless = add_task(app_client, v, today(app_client), "advisor", customer_id=None)
    wrong = {"customer_id": other, "task_id": ownerless, "channel": "phone", "outcome": "reached"}
    assert "another customer's car" in error(advisor.post("/api/v1/contacts", json=wrong))
    assert (
        advisor.post(
            "/api/v1/contacts", json={**base, "customer_id": 999999, "outcome": "reached"}
        ).status_code
        == 404
    )
    with Session(app_client.app.state.engine) as s:
        assert s.exec(select(ContactLog).where(ContactLog.vehicle_id == v.id)).all() == [], (
            "nothing was written"
        )


def test_contact_schedules_follow_up_and_renewal_closes_the_work(app_client: TestClient) -> None:
    d = today(app_client)
    v = fresh_vehicle(app_client)
    task = add_task(app_client, v, d, "advisor", step="first_contact")
    other = add_task(app_client, v, d + timedelta(days=10), None, step="quote")
    advisor = login(app_client, Role.ADVISOR)
    body = {"customer_id": v.customer_id, "task_id": task, "channel": "phone", "outcome": "considering",
            "note": "下周再联系", "next_follow_up": (d + timedelta(days=3)).isoformat()}  # fmt: skip
    res = advisor.post("/api/v1/contacts", json=body)
    assert res.status_code == 201, res.text
    out = res.json()
    assert out["contact"]["vehicle_id"] == v.id, "the car comes from the task"
    assert out["task"] == {"id": task, "kind": "timeline", "status": "done", "due_date": d.isoformat(),
                           "outcome": "considering"}  # fmt: skip
    follow = out["follow_up"]
    assert follow["kind"] == "follow_up" and follow["due_date"] == (d + timedelta(days=3)).isoformat()
    moved = advisor.post("/api/v1/contacts", json={"customer_id": v.customer_id, "vehicle_id": v.id, "channel": "wechat",
                                                   "outcome": "no_answer", "next_follow_up": (d + timedelta(days=5)).isoformat()})  # fmt: skip
    assert moved.json()["follow_up"]["id"] == follow["id"], "the open follow-up moves, no second one"
    assert moved.json()["follow_up"]["due_date"] == (d + timedelta(days=5)).isoformat()
    assert audit_rows(app_client, "log_contact", v.customer_id) == 2

    done = advisor.post("/api/v1/contacts", json={"customer_id": v.customer_id, "vehicle_id": v.id, "channel": "in_store",
                                                  "outcome": "renewed"}).json()  # fmt: skip
    assert set(done["closed_tasks"]) == {other, follow["id"]}
    assert (
        done["follow_up"]["kind"] == "thank_you"
        and done["follow_up"]["due_date"] == (d + timedelta(days=3)).isoformat()
    )
    with Session(app_client.app.state.engine) as s:
        open_kinds = s.exec(select(RenewalTask.kind).where(RenewalTask.vehicle_id == v.id,
                                                           col(RenewalTask.status).in_(("open", "in_progress")))).all()  # fmt: skip
        assert open_kinds == ["thank_you"]
        lost = s.exec(select(ContactLog).where(ContactLog.vehicle_id == v.id)).all()
        assert [c.outcome for c in lost] == ["considering", "no_answer", "renewed"]


def test_lost_renewal_is_tagged(app_client: TestClient) -> None:
    v = fresh_vehicle(app_client)
    advisor = login(app_client, Role.ADVISOR)
    res = advisor.post("/api/v1/contacts", json={"customer_id": v.customer_id, "vehicle_id": v.id, "channel": "phone",
                                                 "outcome": "lost", "lapse_reason": "price", "competitor_premium": 2800})  # fmt: skip
    assert res.status_code == 201
    assert (
        res.json()["contact"]["lapse_reason"] == "price"
        and res.json()["contact"]["competitor_premium"] == 2800
    )
    assert res.json()["follow_up"] is None


def test_customer_file_shows_contact_history_and_objections(app_client: TestClient) -> None:
    v = fresh_vehicle(app_client)
    advisor = login(app_client, Role.ADVISOR)
    base = {"customer_id": v.customer_id, "vehicle_id": v.id}
    first = advisor.post("/api/v1/contacts", json={**base, "channel": "wechat", "outcome": "no_answer"})
    assert first.status_code == 201, first.text
    lost = advisor.post("/api/v1/contacts", json={**base, "channel": "phone", "outcome": "lost",
                                                  "lapse_reason": "moved_sold", "note": "车已卖"})  # fmt: skip
    assert lost.status_code == 201, lost.text
    before = audit_rows(app_client, "view_customer", v.customer_id)
    body = advisor.get(f"/api/v1/customers/{v.customer_id}").json()
    assert audit_rows(app_client, "view_customer", v.customer_id) == before + 1, "the 360 is still audited"
    car = next(f for f in body["vehicles"] if f["vehicle"]["id"] == v.id)
    contacts = car["contacts"]
    assert [(c["channel"], c["outcome"], c["lapse_reason"]) for c in contacts] == [
        ("phone", "lost", "moved_sold"),
        ("wechat", "no_answer", None),
    ], "newest first"
    assert contacts[0]["note"] == "车已卖" and contacts[0]["staff"] == "续保专员 陈志强"
    assert contacts[0]["at"].endswith("+08:00"), "local time of the dealership"
    assert "staff_id" not in contacts[0] and "customer_id" not in contacts[0]
    objections = car["renewal"]["objections"]
    assert objections and all(o["objection"]["zh"] and o["reply"]["en"] for o in objections)


# ---- quotes -----------------------------------------------------------------------------------


def test_quote_compares_packages_and_stores_the_engine_premium(app_client: TestClient) -> None:
    v = fresh_vehicle(app_client)
    advisor = login(app_client, Role.ADVISOR)
    res = advisor.get(f"/api/v1/vehicles/{v.id}/quote-options")
    assert res.status_code == 200
    packages = {p["key"]: p for p in res.json()["packages"]}
    assert list(packages) == ["basic", "economy", "comprehensive", "full"]
    assert sum(p["recommended"] for p in packages.values()) == 1
    assert packages["basic"]["premium"] < packages["comprehensive"]["premium"] < packages["full"]["premium"]
    assert all(p["daily_cost"] == round(p["premium"] / 365, 1) for p in packages.values())
    cheaper = advisor.get(f"/api/v1/vehicles/{v.id}/quote-options", params={"deductible": 1000}).json()[
        "packages"
    ]
    assert (
        cheaper[2]["premium"] < packages["comprehensive"]["premium"]
        and cheaper[0]["premium"] == packages["basic"]["premium"]
    )
    assert "deductible must be one of" in error(
        advisor.get(f"/api/v1/vehicles/{v.id}/quote-options", params={"deductible": 700})
    )
    assert advisor.get("/api/v1/vehicles/999999/quote-options").status_code == 404
    assert audit_rows(app_client, "quote_options", v.customer_id) == 2, "a refused request reads nothing"

    url = f"/api/v1/vehicles/{v.id}/quotes"
    chosen = advisor.post(
        url, json={"package": "comprehensive", "addons": packages["comprehensive"]["addons"]}
    )
    assert chosen.status_code == 201, chosen.text
    quote = chosen.json()["quote"]
    assert quote["premium"] == packages["comprehensive"]["premium"] and quote["package"] == "comprehensive"
    assert (
        quote["customer_id"] == v.customer_id
        and quote["valid_until"] == (today(app_client) + timedelta(days=30)).isoformat()
    )
    assert "extra" in error(advisor.post(url, json={"package": "full", "premium": 1})).lower(), (
        "the client never sets a price"
    )
    assert "package" in error(advisor.post(url, json={"package": "platinum"}))
    assert "addons" in error(advisor.post(url, json={"package": "basic", "addons": ["spaceship"]}))
    assert "own-damage cover only" in error(advisor.post(url, json={"package": "basic", "deductible": 500}))
    with Session(app_client.app.state.engine) as s:
        stored = s.exec(select(Quote).where(Quote.vehicle_id == v.id)).all()
        assert [(q.package, q.premium) for q in stored] == [("comprehensive", quote["premium"])]
    assert login(app_client, Role.RECEPTIONIST).post(url, json={"package": "basic"}).status_code == 403


# ---- appointments -----------------------------------------------------------------------------


def test_book_appointment(app_client: TestClient) -> None:
    v = fresh_vehicle(app_client)
    advisor = login(app_client, Role.ADVISOR)
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    body = {
        "customer_id": v.customer_id,
        "vehicle_id": v.id,
        "scheduled_at": when.isoformat(),
        "kind": "renewal",
    }
    res = advisor.post("/api/v1/appointments", json=body)
    assert res.status_code == 201, res.text
    assert res.json()["status"] == "booked"
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert "in the future" in error(advisor.post("/api/v1/appointments", json={**body, "scheduled_at": past}))
    assert "timezone" in error(
        advisor.post("/api/v1/appointments", json={**body, "scheduled_at": "2099-01-01T10:00:00"})
    )
    assert "kind" in error(advisor.post("/api/v1/appointments", json={**body, "kind": "party"}))
    assert "not an active advisor" in error(
        advisor.post("/api/v1/appointments", json={**body, "advisor": "reception"})
    )
    with Session(app_client.app.state.engine) as s:
        booked = s.exec(select(Appointment).where(Appointment.vehicle_id == v.id)).all()
        assert len(booked) == 1 and booked[0].scheduled_at == when
        assert (
            booked[0].advisor_id
            == s.exec(select(StaffUser.id).where(StaffUser.username == "advisor")).first()
        )


# ---- consent ----------------------------------------------------------------------------------


def test_consent_flags(app_client: TestClient) -> None:
    v = fresh_vehicle(app_client)
    cid = v.customer_id
    advisor = login(app_client, Role.ADVISOR)
    reception = login(app_client, Role.RECEPTIONIST)
    assert reception.get(f"/api/v1/customers/{cid}/consent").json() == {
        "customer_id": cid, "greeting_by_name": None, "marketing": None}  # fmt: skip
    assert reception.put(f"/api/v1/customers/{cid}/consent", json={"marketing": True}).status_code == 403
    res = advisor.put(f"/api/v1/customers/{cid}/consent", json={"greeting_by_name": True, "source": "form"})
    assert res.status_code == 200
    assert (
        res.json()["greeting_by_name"]["granted"] is True
        and res.json()["greeting_by_name"]["recorded_by"] == "advisor"
    )
    assert res.json()["marketing"] is None
    advisor.put(f"/api/v1/customers/{cid}/consent", json={"greeting_by_name": False, "marketing": True})
    now = reception.get(f"/api/v1/customers/{cid}/consent").json()
    assert now["greeting_by_name"]["granted"] is False and now["marketing"]["granted"] is True
    with Session(app_client.app.state.engine) as s:
        assert s.get(Customer, cid).consent_greeting is False
    assert "greeting_by_name and/or marketing" in error(
        advisor.put(f"/api/v1/customers/{cid}/consent", json={})
    )
    assert "source" in error(
        advisor.put(f"/api/v1/customers/{cid}/consent", json={"marketing": True, "source": "rumour"})
    )
    assert advisor.get("/api/v1/customers/999999/consent").status_code == 404
    assert (
        audit_rows(app_client, "view_consent", cid) == 2
        and audit_rows(app_client, "record_consent", cid) == 2
    )
