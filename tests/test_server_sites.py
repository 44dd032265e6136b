"""Sites (the dealer group's stores): the server's own exists from the start, the demo seeds a sister
store, staff read them and only admins write them, and a sister store's car is recognised at this
gate with its store on the staff screens and nothing about it on the kiosk. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from staff_login import login

from dealergate.contract import ArrivalEvent, now_local
from server.config import ServerSettings
from server.main import create_app
from server.models import Customer, Role, StaffUser, Vehicle
from server.seed import DEMO_SISTER_SITE

HOME = "panyu"
TOKEN = "kiosk-secret-for-site-tests"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("sites")
    settings = ServerSettings(
        database_url=database_url, var_dir=tmp / "var", seed_demo=True, site=HOME, kiosk_token=TOKEN
    )
    with TestClient(create_app(settings, ingest=False)) as c:
        yield c


def _car(client: TestClient, site: str, offset: int = 0) -> tuple[Vehicle, Customer]:
    """A demo car with its owner, both on file at `site`."""
    with Session(client.app.state.engine) as s:
        return s.exec(
            select(Vehicle, Customer)
            .join(Customer, col(Customer.id) == col(Vehicle.customer_id))
            .where(Vehicle.site == site)
            .order_by(col(Vehicle.id))
            .offset(offset)
        ).first()


def _arrive(client: TestClient, plate: str) -> dict[str, dict]:
    event = ArrivalEvent(site=HOME, camera="gate-1", plate=plate, confidence=0.96, captured_at=now_local())
    outcome = client.app.state.processor.handle_arrival(event)
    assert outcome.status == "alerted" and outcome.alerts is not None
    a = outcome.alerts
    return {"frontdesk": a.frontdesk, "advisor": a.advisor, "kiosk": a.kiosk}


def test_own_site_exists_and_demo_group_is_seeded(client: TestClient) -> None:
    res = login(client, Role.RECEPTIONIST).get("/api/v1/sites")
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["current"] == HOME
    home, *others = body["sites"]
    assert home["code"] == HOME and home["current"] is True and home["name_zh"] == "粤驰汽车番禺店"
    assert home["brands"] and home["address"] and home["phone"]  # staff see the store's details
    sister = next(s for s in others if s["code"] == DEMO_SISTER_SITE.code)
    assert sister["current"] is False and sister["name_en"] == DEMO_SISTER_SITE.name_en
    with Session(client.app.state.engine) as s:
        filed = {site: n for site, n in s.exec(select(Customer.site, Customer.id)).all()}
        staff_sites = set(s.exec(select(StaffUser.site)).all())
    assert set(filed) == {HOME, DEMO_SISTER_SITE.code} and staff_sites == {HOME}


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.ADVISOR, Role.MANAGER])
def test_only_admins_write_sites(client: TestClient, role: Role) -> None:
    staff = login(client, role)
    assert staff.get("/api/v1/sites").status_code == 200
    assert staff.post("/api/v1/sites", json={"code": "nansha", "name_zh": "南沙店"}).status_code == 403
    assert staff.patch(f"/api/v1/sites/{HOME}", json={"name_zh": "改名"}).status_code == 403
    kiosk = TestClient(client.app)  # the kiosk has a token, no login
    assert kiosk.get("/api/v1/sites", params={"token": TOKEN}).status_code == 401
    res = kiosk.post("/api/v1/sites", params={"token": TOKEN}, json={"code": "nansha", "name_zh": "南沙店"})
    assert res.status_code == 401


def test_admin_creates_and_changes_a_site(client: TestClient) -> None:
    admin = login(client, Role.ADMIN)
    body = {"code": "zengcheng", "name_zh": "粤驰汽车增城店", "name_en": "Yuechi Zengcheng",
            "brands": ["比亚迪"], "address": "广州市增城区荔城街 1 号", "phone": "020-8261 0000"}  # fmt: skip
    res = admin.post("/api/v1/sites", json=body)
    assert res.status_code == 201, res.text
    assert res.json()["brands"] == ["比亚迪"] and res.json()["active"] is True
    assert admin.post("/api/v1/sites", json=body).status_code == 409
    res = admin.patch("/api/v1/sites/zengcheng", json={"active": False, "brands": ["比亚迪", "本田"]})
    assert (
        res.status_code == 200
        and res.json()["active"] is False
        and res.json()["brands"] == ["比亚迪", "本田"]
    )
    assert admin.patch("/api/v1/sites/nowhere", json={"active": True}).status_code == 404
    res = admin.patch(f"/api/v1/sites/{HOME}", json={"active": False})
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "active"]
    for bad in ({"code": "Has Space", "name_zh": "x"}, {"code": "ok-code", "name_zh": ""},
                {"code": "ok-code", "name_zh": "x", "phone": "call me"}, {"code": "ok-code", "name_zh": "x", "id": 9}):  # fmt: skip
        assert admin.post("/api/v1/sites", json=bad).status_code == 422, bad
    assert admin.patch("/api/v1/sites/zengcheng", json={"name_zh": None}).status_code == 422
    assert admin.patch("/api/v1/sites/zengcheng", json={"code": "other"}).status_code == 422


def test_sister_store_car_is_recognised_and_flagged(client: TestClient) -> None:
    vehicle, customer = _car(client, DEMO_SISTER_SITE.code)
    payloads = _arrive(client, vehicle.plate)
    front = payloads["frontdesk"]
    assert front["known"] and front["customer"]["id"] == customer.id  # matching spans every store
    assert front["other_site"] is True
    assert front["file_site"] == {
        "code": DEMO_SISTER_SITE.code,
        "zh": DEMO_SISTER_SITE.name_zh,
        "en": DEMO_SISTER_SITE.name_en,
    }
    advisor = payloads["advisor"]
    assert advisor["other_site"] is True and advisor["file_site"] == front["file_site"]
    kiosk = payloads["kiosk"]
    assert "file_site" not in kiosk and "other_site" not in kiosk
    text = json.dumps(kiosk, ensure_ascii=False)
    for personal in (customer.name, customer.phone, vehicle.plate, DEMO_SISTER_SITE.name_zh):
        assert personal not in text


def test_own_store_car_is_not_flagged(client: TestClient) -> None:
    vehicle, _ = _car(client, HOME)
    front = _arrive(client, vehicle.plate)["frontdesk"]
    assert front["other_site"] is False and front["file_site"]["code"] == HOME
    assert front["file_site"]["zh"] == "粤驰汽车番禺店"


def test_renamed_site_shows_on_the_next_arrival(client: TestClient) -> None:
    """Arrivals read site names from a cache; a change through the API is seen at once."""
    first, _ = _car(client, DEMO_SISTER_SITE.code, offset=1)
    assert _arrive(client, first.plate)["frontdesk"]["file_site"]["zh"] == DEMO_SISTER_SITE.name_zh
    admin = login(client, Role.ADMIN)
    res = admin.patch(f"/api/v1/sites/{DEMO_SISTER_SITE.code}", json={"name_zh": "粤驰汽车天河旗舰店"})
    assert res.status_code == 200
    second, _ = _car(client, DEMO_SISTER_SITE.code, offset=2)
    assert _arrive(client, second.plate)["frontdesk"]["file_site"]["zh"] == "粤驰汽车天河旗舰店"
    admin.patch(f"/api/v1/sites/{DEMO_SISTER_SITE.code}", json={"name_zh": DEMO_SISTER_SITE.name_zh})


def test_unknown_car_has_no_file_site(client: TestClient) -> None:
    front = _arrive(client, "粤AZZZ98")["frontdesk"]
    assert front["known"] is False and front["file_site"] is None and front["other_site"] is False
