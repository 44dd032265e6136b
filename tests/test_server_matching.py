"""Plate matching (exact, alias, probable with one confusable character), staff correction creating
an alias, the audit trail of every read, and a login on every staff route — SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from staff_login import login

from dealergate.contract import ArrivalEvent, now_local
from server.config import ServerSettings
from server.ingest import ArrivalOutcome
from server.main import create_app
from server.matching import confusable_variants, match_vehicle, province_variants
from server.models import AuditLog, PlateAlias, Vehicle

PUBLIC_ROUTES = {"/api/v1/auth/login", "/api/v1/auth/logout", "/healthz"}
"""Routes any client may call (health has counts only)."""
KIOSK_PREFIX = "/api/v1/kiosk/"
"""The public screen's routes: no staff login, the kiosk token instead (403 without it)."""


def test_confusable_variants_change_one_character_never_the_province() -> None:
    assert confusable_variants("粤A8B0") == ["粤ABB0", "粤A880", "粤A8H0", "粤A8BO", "粤A8BD", "粤A8BQ"]
    assert confusable_variants("京0") == ["京O", "京D", "京Q"]
    assert confusable_variants("粤AXYZ") == ["粤AXY2"]
    assert confusable_variants("粤ACCCC") == []
    assert confusable_variants("鲁LC97T6") == ["鲁LC9716", "鲁LC97I6"]  # a 1 under a rivet reads T
    assert confusable_variants("皖H69") == ["皖M69", "皖B69"]
    assert confusable_variants("鲁H99") == ["鲁M99", "鲁B99"]  # a B smeared up-down reads H (not 8: B's alone)
    assert "鲁899" not in confusable_variants("鲁H99") and "鲁M99" not in confusable_variants("鲁B99")


def test_province_variants_keep_the_rest_of_the_plate() -> None:
    variants = province_variants("琼BE609T")
    assert len(variants) == 30 and "粤BE609T" in variants and "琼BE609T" not in variants
    assert {v[1:] for v in variants} == {"BE609T"}
    assert province_variants("WJ12345") == [] and province_variants("") == []


def test_a_plate_read_under_another_province_is_a_probable_match(client: TestClient) -> None:
    """The small province character is the OCR's commonest misread: the car is still found, and the
    front desk is asked to check the plate."""
    with Session(client.app.state.engine) as s:
        plates = {v.plate: v for v in s.exec(select(Vehicle)).all()}
    vehicle, misread = next(
        (v, p + v.plate[1:])
        for v in plates.values()
        for p in "琼藏青"
        if p != v.plate[0] and sum(x in plates for x in province_variants(p + v.plate[1:])) == 1
    )
    front = arrive(client, misread).alerts.frontdesk
    assert front["match"] == "probable" and front["known"] is True
    assert front["vehicle"]["model"] == vehicle.model and front["match_alternatives"] == []


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("matching")
    settings = ServerSettings(database_url=database_url, var_dir=tmp / "var", seed_demo=True)
    with TestClient(create_app(settings, ingest=False)) as c:
        yield c


def misread_of(client: TestClient, skip: int = 0) -> tuple[Vehicle, str]:
    """A demo car and a one-character misread of its serial (as the OCR would send it: no I or O)
    that is no car's plate and has no other car one confusable step away."""
    with Session(client.app.state.engine) as s:
        vehicles = s.exec(select(Vehicle).order_by(Vehicle.id)).all()
    plates = {v.plate for v in vehicles}
    found = [
        (v, m)
        for v in vehicles
        for m in confusable_variants(v.plate)
        if m[:2] == v.plate[:2]
        and not set(m) & {"I", "O"}
        and m not in plates
        and sum(p in plates for p in confusable_variants(m)) == 1
    ]
    return found[skip * 10]  # far apart: two tests, two different cars


def arrive(client: TestClient, plate: str, minutes_ago: int = 0) -> ArrivalOutcome:
    when = now_local() - timedelta(minutes=minutes_ago)
    event = ArrivalEvent(site="demo", camera="gate-1", plate=plate, confidence=0.9, captured_at=when)
    return client.app.state.processor.handle_arrival(event)


def audit_rows(client: TestClient, action: str) -> list[AuditLog]:
    with Session(client.app.state.engine) as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all())


def test_a_misread_plate_is_a_probable_match_that_staff_confirm(client: TestClient) -> None:
    vehicle, misread = misread_of(client)
    out = arrive(client, misread, minutes_ago=30)
    front = out.alerts.frontdesk
    assert front["match"] == "probable" and front["known"] is True
    assert front["vehicle"]["model"] == vehicle.model and front["match_note"]["zh"].startswith(
        "车牌可能识别有误"
    )
    assert front["match_alternatives"] == []
    reception = login(client, "reception")
    res = reception.post(f"/api/v1/arrivals/{out.event_id}/match", json={"plate": vehicle.plate})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["alias"] == misread and body["arrival"]["match"] == "manual"
    assert "task" not in body["arrival"], "a receptionist gets the front-desk payload"
    with Session(client.app.state.engine) as s:
        alias = s.exec(select(PlateAlias).where(PlateAlias.alias == misread)).one()
        assert (alias.vehicle_id, alias.created_by) == (vehicle.id, "reception")
        assert match_vehicle(s, misread).kind == "alias"
    assert audit_rows(client, "correct_match")[-1].customer_id == vehicle.customer_id
    # the same misread on a later visit (past the dwell window): matched by the alias, no doubt left
    again = arrive(client, misread)
    assert again.alerts.frontdesk["match"] == "alias" and again.alerts.frontdesk["match_note"] is None


def test_an_unsure_read_is_never_an_exact_match(client: TestClient) -> None:
    """The edge keeps a read whose serial is sure and whose province is not (at 0.2-0.5): the car on
    file under that plate is then only probable, and a car with the same serial under another
    province is offered as the alternative."""
    with Session(client.app.state.engine) as s:
        plates = {v.plate for v in s.exec(select(Vehicle)).all()}
        read = next(p for p in sorted(plates) if p[0] != "藏" and not set(province_variants(p)) & plates)
        twin = "藏" + read[1:]
        s.add(Vehicle(plate=twin, brand="测试", model="同号车"))
        s.commit()
    unsure = ArrivalEvent(
        site="demo", camera="gate-1", plate=read, confidence=0.28, captured_at=now_local() - timedelta(hours=3)
    )
    front = client.app.state.processor.handle_arrival(unsure).alerts.frontdesk
    assert front["match"] == "probable" and front["known"] is True
    assert front["match_alternatives"] == [twin] and front["match_note"]["zh"].startswith("车牌可能识别有误")
    with Session(client.app.state.engine) as s:
        assert match_vehicle(s, read).kind == "exact"
        found = match_vehicle(s, read, read_sure=False)
        assert (found.kind, found.vehicle.plate, found.alternatives) == ("probable", read, (twin,))
        assert match_vehicle(s, twin, read_sure=False).alternatives == (read,)
        s.delete(s.exec(select(Vehicle).where(Vehicle.plate == twin)).one())  # the module's other tests
        s.commit()


def test_an_unsure_read_of_no_car_on_file_asks_the_front_desk_to_check_it(client: TestClient) -> None:
    def front(plate: str, confidence: float) -> dict[str, Any]:
        event = ArrivalEvent(site="demo", camera="gate-1", plate=plate, confidence=confidence, captured_at=now_local())
        return client.app.state.processor.handle_arrival(event).alerts.frontdesk

    unsure = front("藏Z9Z9Z9", 0.31)
    assert unsure["known"] is False and unsure["match"] == "none"
    assert unsure["match_note"]["zh"].startswith("车牌识别不确定") and unsure["match_note"]["en"]
    assert front("藏Z8Z8Z8", 0.93)["match_note"] is None


def test_unlinking_a_wrong_alias_match_deletes_the_alias(client: TestClient) -> None:
    vehicle, misread = misread_of(client, skip=1)
    with Session(client.app.state.engine) as s:
        s.add(PlateAlias(alias=misread, vehicle_id=vehicle.id, created_by="test"))
        s.commit()
    out = arrive(client, misread)
    assert out.alerts.frontdesk["match"] == "alias"
    advisor = login(client, "advisor")
    res = advisor.post(f"/api/v1/arrivals/{out.event_id}/match", json={"plate": None})
    assert res.status_code == 200 and res.json()["removed_alias"] is True
    assert res.json()["arrival"]["known"] is False and res.json()["arrival"]["task"]["package"] is None
    with Session(client.app.state.engine) as s:
        assert s.exec(select(PlateAlias).where(PlateAlias.alias == misread)).first() is None
    assert (
        advisor.post(f"/api/v1/arrivals/{out.event_id}/match", json={"plate": "粤AZZZ99"}).status_code == 422
    )
    assert advisor.post("/api/v1/arrivals/nope/match", json={"plate": None}).status_code == 404


def test_every_read_of_customer_data_is_audited(client: TestClient) -> None:
    with Session(client.app.state.engine) as s:
        vehicle = s.exec(select(Vehicle).order_by(Vehicle.id.desc())).first()
    arrive(client, vehicle.plate)
    manager = login(client, "manager")
    before = len(audit_rows(client, "list_arrivals"))
    listed = manager.get("/api/v1/arrivals").json()["arrivals"]
    shown = {a["customer"]["id"] for a in listed if a["customer"]}
    rows = audit_rows(client, "list_arrivals")[before:]
    assert {r.customer_id for r in rows} == shown and vehicle.customer_id in shown
    assert {(r.who, r.role) for r in rows} == {("manager", "manager")}
    with manager.websocket_connect("/ws/advisor") as ws:
        snapshot = ws.receive_json()["data"]
    snap_rows = audit_rows(client, "snapshot_advisor")
    assert {r.customer_id for r in snap_rows} >= {a["customer"]["id"] for a in snapshot if a["customer"]}
    manager.get(f"/api/v1/customers/{vehicle.customer_id}")
    assert audit_rows(client, "view_customer")[-1].role == "manager"


def test_every_staff_route_requires_a_login(client: TestClient) -> None:
    """Walks the whole API as published (OpenAPI), so a route added without a role check fails here."""
    anonymous = TestClient(client.app)
    checked = []
    for path, operations in client.app.openapi()["paths"].items():
        if path in PUBLIC_ROUTES:
            continue
        for method in operations:
            url = re.sub(r"\{[^}]+\}", "1", path)  # any value: the login check comes first
            res = anonymous.request(method.upper(), url, json={})
            expected = 403 if path.startswith(KIOSK_PREFIX) else 401
            assert res.status_code == expected, f"{method.upper()} {path}: {res.status_code} without a login"
            checked.append(path)
    assert {
        "/api/v1/arrivals",
        "/api/v1/arrivals/{event_id}/match",
        "/api/v1/customers/{customer_id}",
    } <= set(checked)


def test_claim_statistics_are_cached_per_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting a model's claims was half of an arrival's database time: every model's figures are
    counted at once and reused for a while, per database (two databases never share statistics),
    and recounted once they are old."""
    from sqlalchemy import create_engine

    from server import matching

    calls: list[object] = []

    def count(session: Session) -> matching.ClaimStats:
        calls.append(session.get_bind())
        return {("丰田", "凯美瑞"): (f"glass-{len(calls)}", "scratch", "flood", "theft")}

    monkeypatch.setattr(matching.claim_stats, "load", count)
    a, b = create_engine("sqlite://"), create_engine("sqlite://")
    with Session(a) as sa, Session(b) as sb:
        first = matching.common_claim_types(sa, "丰田", "凯美瑞")
        assert first == ["glass-1", "scratch", "flood"]  # the three most frequent
        assert matching.common_claim_types(sa, "丰田", "凯美瑞") == first
        assert matching.common_claim_types(sa, "本田", "思域") == []  # counted in the same go
        assert len(calls) == 1
        assert matching.common_claim_types(sb, "丰田", "凯美瑞") != first  # another database
        assert len(calls) == 2
        monkeypatch.setattr(matching.claim_stats, "max_age_s", 0.0)
        matching.common_claim_types(sa, "丰田", "凯美瑞")
        assert len(calls) == 3


def test_claim_statistics_count_each_model_and_hide_small_ones(fresh_database_url: str) -> None:
    """Most frequent claim types first (ties by name), per model; a model with fewer cars than
    `MIN_VEHICLES_FOR_STATS` shows none (an aggregate of two cars could point at a person)."""
    from datetime import date

    from server import matching
    from server.db import make_engine
    from server.migrate import upgrade_database
    from server.models import Claim

    engine = make_engine(fresh_database_url)
    upgrade_database(engine)
    big = [Vehicle(plate=f"粤A1000{i}", brand="丰田", model="凯美瑞") for i in range(6)]
    small = [Vehicle(plate=f"粤B1000{i}", brand="本田", model="思域") for i in range(2)]
    with Session(engine) as s:
        s.add_all(big + small)
        s.flush()
        kinds = ["glass", "glass", "glass", "scratch", "flood", "flood", "theft", "collision", "collision"]
        s.add_all(
            Claim(vehicle_id=big[i % 6].id or 0, date=date(2026, 1, 1), amount=100, type=k)
            for i, k in enumerate(kinds)
        )
        s.add_all(
            Claim(vehicle_id=small[0].id or 0, date=date(2026, 1, 1), amount=100, type="glass")
            for _ in range(3)
        )
        s.commit()
        assert matching.common_claim_types(s, "丰田", "凯美瑞") == ["glass", "collision", "flood"]
        everything = ["glass", "collision", "flood", "scratch", "theft"]
        assert matching.common_claim_types(s, "丰田", "凯美瑞", limit=5) == everything
        assert matching.common_claim_types(s, "本田", "思域") == []
        assert matching.common_claim_types(s, "大众", "朗逸") == []
    engine.dispose()
