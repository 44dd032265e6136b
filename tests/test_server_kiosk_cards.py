"""Kiosk content cards (issue 6): managers write them, the kiosk reads today's, an arrival names
those targeted at its car. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from staff_login import login

from server.alerts import build_alerts
from server.config import ServerSettings
from server.db import local_today, utc_now
from server.main import create_app
from server.models import Arrival, Role, Vehicle

TOKEN = "kiosk-secret-for-card-tests"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("cards")
    settings = ServerSettings(
        database_url=database_url, var_dir=tmp / "var", seed_demo=True, kiosk_token=TOKEN
    )
    with TestClient(create_app(settings, ingest=False)) as c:
        yield c


def _card(**fields: object) -> dict[str, object]:
    return {
        "title_zh": "冬季冰雪路面保障",
        "title_en": "Winter ice cover",
        "body_zh": "冬季出行更安心",
        **fields,
    }


def _kiosk_ids(client: TestClient) -> list[int]:
    res = client.get("/api/v1/kiosk/cards", params={"token": TOKEN})
    assert res.status_code == 200
    return [c["id"] for c in res.json()["cards"]]


def test_demo_cards_are_seeded_and_public(client: TestClient) -> None:
    res = client.get("/api/v1/kiosk/cards", params={"token": TOKEN})
    cards = res.json()["cards"]
    assert len(cards) >= 3
    assert all(c["title"]["zh"] and c["title"]["en"] for c in cards)
    assert set(cards[0]) == {"id", "kind", "title", "body", "brand", "plate_type", "in_loop", "on_arrival"}
    assert client.get("/api/v1/kiosk/cards").status_code == 403
    assert client.get("/api/v1/kiosk/cards", params={"token": "wrong"}).status_code == 403


def test_manager_creates_edits_orders_and_deletes(client: TestClient) -> None:
    manager = login(client, Role.MANAGER)
    res = manager.post("/api/v1/kiosk-cards", json=_card(kind="insurance", brand="丰田", on_arrival=True))
    assert res.status_code == 201, res.text
    card = res.json()
    assert card["live"] is True and card["brand"] == "丰田" and card["updated_by"] == "manager"
    listed = manager.get("/api/v1/kiosk-cards").json()
    assert listed["cards"][-1]["id"] == card["id"] and "丰田" in listed["brands"]
    assert card["id"] in _kiosk_ids(client)

    res = manager.patch(f"/api/v1/kiosk-cards/{card['id']}", json={"title_en": "Ice & snow", "brand": None})
    assert res.status_code == 200 and res.json()["title_en"] == "Ice & snow" and res.json()["brand"] is None
    res = manager.patch(f"/api/v1/kiosk-cards/{card['id']}", json={"active": False})
    assert res.json()["live"] is False and card["id"] not in _kiosk_ids(client)
    manager.patch(f"/api/v1/kiosk-cards/{card['id']}", json={"active": True})

    ids = [c["id"] for c in manager.get("/api/v1/kiosk-cards").json()["cards"]]
    wanted = [ids[-1], *ids[:-1]]
    res = manager.put("/api/v1/kiosk-cards/order", json={"ids": wanted})
    assert res.status_code == 200 and [c["id"] for c in res.json()["cards"]] == wanted
    assert _kiosk_ids(client)[0] == card["id"]
    res = manager.put("/api/v1/kiosk-cards/order", json={"ids": wanted[1:]})
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "ids"]

    assert manager.delete(f"/api/v1/kiosk-cards/{card['id']}").status_code == 204
    assert manager.delete(f"/api/v1/kiosk-cards/{card['id']}").status_code == 404
    assert card["id"] not in _kiosk_ids(client)


def test_admin_may_write_too(client: TestClient) -> None:
    admin = login(client, Role.ADMIN)
    res = admin.post("/api/v1/kiosk-cards", json=_card(body_zh="第一行\n\t第二行"))  # a body may break lines
    assert res.status_code == 201 and res.json()["body_zh"] == "第一行\n\t第二行"
    assert admin.delete(f"/api/v1/kiosk-cards/{res.json()['id']}").status_code == 204


@pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.ADVISOR])
def test_other_roles_and_the_kiosk_cannot_write(client: TestClient, role: Role) -> None:
    staff = login(client, role)
    assert staff.get("/api/v1/kiosk-cards").status_code == 403
    assert staff.post("/api/v1/kiosk-cards", json=_card()).status_code == 403
    assert staff.patch("/api/v1/kiosk-cards/1", json={"active": False}).status_code == 403
    assert staff.delete("/api/v1/kiosk-cards/1").status_code == 403
    kiosk = TestClient(client.app)
    assert kiosk.post("/api/v1/kiosk-cards", params={"token": TOKEN}, json=_card()).status_code == 401
    assert kiosk.delete("/api/v1/kiosk-cards/1", params={"token": TOKEN}).status_code == 401


@pytest.mark.parametrize(
    ("body", "loc", "needle"),
    [
        ({"title_zh": ""}, ["body", "title_zh"], "at least 1 character"),
        ({"title_zh": "长" * 41}, ["body", "title_zh"], "at most 40 characters"),
        ({"body_en": "x" * 601}, ["body", "body_en"], "at most 600 characters"),
        ({"body_zh": "优惠\x00"}, ["body", "body_zh"], "control characters are not allowed"),
        ({"title_zh": "保养\n优惠"}, ["body", "title_zh"], "control characters are not allowed"),  # one line
        ({"plate_type": "purple"}, ["body", "plate_type"], "new_energy_small"),
        ({"kind": "spam"}, ["body", "kind"], "'offer'"),
        ({"customer_id": 1}, ["body", "customer_id"], "Extra inputs are not permitted"),
        (
            {"in_loop": False, "on_arrival": False},
            ["body", "on_arrival"],
            "must show in the loop or on the arrival screen",
        ),
        (
            {"starts_on": "2026-06-01", "ends_on": "2026-05-01"},
            ["body", "ends_on"],
            "end date is before the start date",
        ),
    ],
)
def test_invalid_cards_are_422_with_the_field(
    client: TestClient, body: dict[str, object], loc: list[str], needle: str
) -> None:
    manager = login(client, Role.MANAGER)
    res = manager.post("/api/v1/kiosk-cards", json=_card(**body))
    assert res.status_code == 422
    error = res.json()["detail"][0]
    assert error["loc"] == loc and needle in error["msg"], error


def test_invalid_changes_are_422_with_the_field(client: TestClient) -> None:
    manager = login(client, Role.MANAGER)
    card = manager.post("/api/v1/kiosk-cards", json=_card(starts_on="2026-06-01")).json()
    url = f"/api/v1/kiosk-cards/{card['id']}"
    for body, field, needle in [
        ({"ends_on": "2026-05-01"}, "ends_on", "end date is before the start date"),
        ({"in_loop": False}, "on_arrival", "must show in the loop or on the arrival screen"),
        ({"title_zh": None}, "title_zh", "may not be null"),
        ({"secret": 1}, "secret", "Extra inputs are not permitted"),
    ]:
        res = manager.patch(url, json=body)
        assert res.status_code == 422, body
        error = res.json()["detail"][0]
        assert error["loc"] == ["body", field] and needle in error["msg"], error
    assert manager.patch("/api/v1/kiosk-cards/2147483647", json={"active": False}).status_code == 404
    manager.delete(url)


def test_cards_show_only_within_their_dates(client: TestClient) -> None:
    manager = login(client, Role.MANAGER)
    today = local_today(TZ)
    windows = {
        "past": (today - timedelta(days=30), today - timedelta(days=1), False),
        "future": (today + timedelta(days=1), None, False),
        "now": (today, today, True),
        "open_start": (None, today + timedelta(days=3), True),
    }
    made = {}
    for name, (start, end, _) in windows.items():
        res = manager.post(
            "/api/v1/kiosk-cards",
            json=_card(
                title_en=name,
                starts_on=start.isoformat() if start else None,
                ends_on=end.isoformat() if end else None,
            ),
        )
        assert res.status_code == 201, res.text
        made[name] = res.json()
    shown = _kiosk_ids(client)
    for name, (_, _, live) in windows.items():
        assert made[name]["live"] is live, name
        assert (made[name]["id"] in shown) is live, name
    for card in made.values():
        manager.delete(f"/api/v1/kiosk-cards/{card['id']}")


def test_arrival_names_the_cards_targeted_at_its_car(client: TestClient) -> None:
    manager = login(client, Role.MANAGER)
    engine = client.app.state.engine
    with Session(engine) as s:
        green = s.exec(select(Vehicle).where(Vehicle.plate_type == "new_energy_small")).first()
        blue = s.exec(
            select(Vehicle).where(Vehicle.plate_type == "blue", Vehicle.brand != green.brand)
        ).first()
    assert green is not None and blue is not None
    brand_card = manager.post("/api/v1/kiosk-cards", json=_card(brand=blue.brand, on_arrival=True)).json()
    loop_only = manager.post("/api/v1/kiosk-cards", json=_card(on_arrival=False)).json()
    cards = {c["id"]: c for c in manager.get("/api/v1/kiosk-cards").json()["cards"]}
    green_card = next(c for c in cards.values() if c["plate_type"] == "new_energy_small")

    def content(v: Vehicle) -> dict:
        arrival = Arrival(
            event_id=f"card-test-{v.id}", site="demo", camera="gate-1", plate=v.plate, confidence=0.97,
            plate_type=v.plate_type, captured_at=utc_now(), vehicle_id=v.id, match="exact",
        )  # fmt: skip
        with Session(engine) as s:
            kiosk = build_alerts(s, arrival, local_today(TZ), TZ).kiosk
        assert v.plate not in str(kiosk)
        return kiosk["content"]

    for_green, for_blue = content(green)["cards"], content(blue)["cards"]
    assert green_card["id"] in for_green and green_card["id"] not in for_blue
    assert brand_card["id"] in for_blue and brand_card["id"] not in for_green
    assert loop_only["id"] not in for_green + for_blue
    untargeted = [
        c["id"]
        for c in cards.values()
        if c["on_arrival"] and c["live"] and not (c["brand"] or c["plate_type"])
    ]
    assert untargeted and set(untargeted) <= set(for_green) & set(for_blue)
    for card in (brand_card, loop_only):
        manager.delete(f"/api/v1/kiosk-cards/{card['id']}")


def test_arrivals_see_a_card_change_at_once(client: TestClient) -> None:
    """Arrivals reuse the list of cards (`kiosk_cards.ARRIVAL_CARDS_MAX_AGE_S`), but a change the
    managers commit shows on the very next arrival: new, switched off, retargeted, deleted."""
    manager = login(client, Role.MANAGER)
    engine = client.app.state.engine
    with Session(engine) as s:
        car = s.exec(select(Vehicle).where(Vehicle.plate_type == "blue")).first()
    assert car is not None

    def shown() -> list[int]:
        arrival = Arrival(
            event_id="card-cache-test", site="demo", camera="gate-1", plate=car.plate, confidence=0.97,
            plate_type=car.plate_type, captured_at=utc_now(), vehicle_id=car.id, match="exact",
        )  # fmt: skip
        with Session(engine) as s:
            return build_alerts(s, arrival, local_today(TZ), TZ).kiosk["content"]["cards"]

    before = shown()
    card = manager.post("/api/v1/kiosk-cards", json=_card(brand=car.brand, on_arrival=True)).json()
    assert shown()[0] == card["id"]  # targeted at this car: first
    manager.patch(f"/api/v1/kiosk-cards/{card['id']}", json={"active": False})
    assert card["id"] not in shown()
    manager.patch(f"/api/v1/kiosk-cards/{card['id']}", json={"active": True, "brand": car.brand + "X"})
    assert card["id"] not in shown()
    manager.patch(f"/api/v1/kiosk-cards/{card['id']}", json={"brand": None})
    assert card["id"] in shown()
    manager.delete(f"/api/v1/kiosk-cards/{card['id']}")
    assert shown() == before


def test_content_page_is_for_managers(client: TestClient) -> None:
    anonymous = TestClient(client.app, follow_redirects=False)
    assert anonymous.get("/kiosk-content").headers["location"] == "/login?next=/kiosk-content"
    reception = login(client, Role.RECEPTIONIST)
    reception.follow_redirects = False
    assert reception.get("/kiosk-content").headers["location"].endswith("denied=1")
    manager = login(client, Role.MANAGER)
    assert manager.get("/kiosk-content").status_code == 200
