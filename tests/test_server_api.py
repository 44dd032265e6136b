"""HTTP and WebSocket surface: login, roles, audit, pages, health (no MQTT here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from staff_login import login
from starlette.websockets import WebSocketDisconnect

from dealergate.contract import ArrivalEvent, now_local
from server.auth import SESSION_COOKIE, StaffSession, read_session, sign_session
from server.config import ServerSettings
from server.login_throttle import LoginThrottle
from server.main import create_app
from server.models import Arrival, AuditLog, Role, Vehicle


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    """A seeded server without MQTT, once on SQLite and once on PostgreSQL."""
    tmp: Path = tmp_path_factory.mktemp("api")
    settings = ServerSettings(
        database_url=database_url,
        var_dir=tmp / "var",
        seed_demo=True,
        kiosk_token="kiosk-secret-for-tests",
    )
    with TestClient(create_app(settings, ingest=False)) as client:
        yield client


def test_health_reports_db_and_mqtt(app_client: TestClient) -> None:
    body = app_client.get("/healthz").json()
    assert body["db"] == "ok"
    assert body["mqtt"] == "disconnected" and body["status"] == "degraded"  # this app runs without ingest
    assert isinstance(body["arrivals_today"], int)


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/arrivals", "/api/v1/customers/1"])
def test_staff_routes_need_a_login(app_client: TestClient, path: str) -> None:
    anonymous = TestClient(app_client.app)
    assert anonymous.get(path).status_code == 401
    # a kiosk token is not a staff login
    assert anonymous.get(path, params={"token": "kiosk-secret-for-tests"}).status_code == 401


def test_login_rejects_wrong_password_and_unknown_user(app_client: TestClient) -> None:
    c = TestClient(app_client.app)
    assert c.post("/api/v1/auth/login", json={"username": "reception", "password": "nope"}).status_code == 401
    assert (
        c.post("/api/v1/auth/login", json={"username": "ghost", "password": "dealergate"}).status_code == 401
    )
    assert SESSION_COOKIE not in c.cookies


def test_login_sets_a_signed_httponly_cookie_and_logout_clears_it(app_client: TestClient) -> None:
    c = TestClient(app_client.app)
    res = c.post("/api/v1/auth/login", json={"username": "advisor", "password": "dealergate"})
    assert res.status_code == 200
    assert res.json() == {
        "username": "advisor",
        "display_name": "续保专员 陈志强",
        "role": "advisor",
        "home": "/advisor",
    }
    header = res.headers["set-cookie"]
    assert "HttpOnly" in header and "samesite=lax" in header.lower()
    assert c.get("/api/v1/me").json()["role"] == "advisor"
    assert c.post("/api/v1/auth/logout").status_code == 204
    c.cookies.clear()
    assert c.get("/api/v1/me").status_code == 401


def test_login_form_posted_by_the_browser_itself_lands_on_next_or_the_roles_home(
    app_client: TestClient,
) -> None:
    """The form a click sends before login.js has taken it over: POSTed, then the same redirects."""
    c = TestClient(app_client.app, follow_redirects=False)
    res = c.post("/login?next=/frontdesk", data={"username": "manager", "password": "dealergate"})
    assert res.status_code == 303 and res.headers["location"] == "/frontdesk"
    assert "HttpOnly" in res.headers["set-cookie"]
    assert c.get("/frontdesk").status_code == 200
    assert c.get("/api/v1/me").json()["role"] == "manager"

    home = TestClient(app_client.app, follow_redirects=False)
    res = home.post("/login", data={"username": "advisor", "password": "dealergate"})
    assert res.headers["location"] == "/advisor"
    # only a path on this server is followed: anything else falls back to the role's home
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        res = home.post(
            "/login", params={"next": outside}, data={"username": "advisor", "password": "dealergate"}
        )
        assert res.status_code == 303 and res.headers["location"] == "/advisor", outside


def test_login_form_failure_goes_back_to_the_form_without_a_session(app_client: TestClient) -> None:
    c = TestClient(app_client.app, follow_redirects=False)
    for fields in (
        {"username": "reception", "password": "nope"},
        {"username": "ghost", "password": "dealergate"},
        {"username": "reception", "password": ""},
        {"username": "reception"},
        {"username": "reception", "password": "x" * 129},
    ):
        res = c.post("/login?next=/frontdesk", data=fields)
        assert res.status_code == 303, fields
        assert res.headers["location"] == "/login?next=/frontdesk&failed=1", fields
        assert "set-cookie" not in res.headers, fields
    assert c.post("/login", data={"username": "x", "password": "y"}).headers["location"] == "/login?failed=1"
    assert c.get("/api/v1/me").status_code == 401


def test_login_form_refuses_other_sites_other_encodings_and_oversized_bodies(app_client: TestClient) -> None:
    c = TestClient(app_client.app, follow_redirects=False)
    good = {"username": "manager", "password": "dealergate"}
    cross = c.post("/login", data=good, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and "evil.example" in cross.json()["detail"]
    fetched = c.post("/login", data=good, headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"})
    assert fetched.status_code == 403
    for same in (
        {"Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # what chromium sends under no-referrer
    ):
        assert c.post("/login", data=good, headers=same).status_code == 303, same
        c.cookies.clear()
    as_json = c.post("/login", json=good)
    assert as_json.status_code == 415 and "/api/v1/auth/login" in as_json.json()["detail"]
    huge = c.post("/login", data={"username": "manager", "password": "dealergate", "pad": "x" * 5000})
    assert huge.status_code == 413
    not_utf8 = c.post(
        "/login", content=b"username=\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert not_utf8.status_code == 400 and "unreadable" in not_utf8.json()["detail"]
    assert SESSION_COOKIE not in c.cookies


def test_a_device_that_fails_too_often_must_wait_even_with_the_right_password(app_client: TestClient) -> None:
    now = [0.0]
    state = app_client.app.state
    kept, state.login_throttle = state.login_throttle, LoginThrottle(3, 600, clock=lambda: now[0])
    try:
        c = TestClient(app_client.app, follow_redirects=False)
        wrong = {"username": "reception", "password": "nope"}
        right = {"username": "reception", "password": "dealergate"}
        for _ in range(3):
            assert c.post("/api/v1/auth/login", json=wrong).status_code == 401
        locked = c.post("/api/v1/auth/login", json=right)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "600"
        assert "10 min" in locked.json()["detail"] and "10 分钟后再试" in locked.json()["detail"]
        form = c.post("/login?next=/frontdesk", data=right)
        assert form.status_code == 303 and form.headers["location"] == "/login?next=/frontdesk&locked=600"
        assert SESSION_COOKIE not in c.cookies
        now[0] = 600.0
        assert c.post("/api/v1/auth/login", json=right).status_code == 200
        c.cookies.clear()
        assert c.post("/api/v1/auth/login", json=wrong).status_code == 401, "the success cleared the count"
        assert c.post("/api/v1/auth/login", json=right).status_code == 200
    finally:
        state.login_throttle = kept  # the module's other tests log in from the same address


def test_tampered_or_expired_cookie_is_refused(app_client: TestClient) -> None:
    key = app_client.app.state.session_key
    forged = sign_session(StaffSession(1, "reception", "x", Role.ADMIN, 4_102_444_800), b"wrong key")
    c = TestClient(app_client.app, cookies={SESSION_COOKIE: forged})
    assert c.get("/api/v1/me").status_code == 401
    expired = sign_session(StaffSession(1, "reception", "x", Role.RECEPTIONIST, 1_000), key)
    assert read_session(expired, key) is None
    good = sign_session(StaffSession(1, "reception", "x", Role.RECEPTIONIST, 4_102_444_800), key)
    body, mac = good.rsplit(".", 1)
    assert read_session(body[:-2] + "xy." + mac, key) is None


def test_pages_redirect_to_login_and_respect_roles(app_client: TestClient) -> None:
    anonymous = TestClient(app_client.app, follow_redirects=False)
    res = anonymous.get("/frontdesk")
    assert res.status_code == 303 and res.headers["location"] == "/login?next=/frontdesk"
    for path in ("/", "/login"):
        page = anonymous.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "script-src 'self'" in page.headers["content-security-policy"]
    assert anonymous.get("/assets/js/i18n.js").status_code == 200

    reception = login(app_client, Role.RECEPTIONIST)
    reception.follow_redirects = False
    assert reception.get("/frontdesk").status_code == 200
    denied = reception.get("/advisor")
    assert denied.status_code == 303 and "denied=1" in denied.headers["location"]
    advisor = login(app_client, Role.ADVISOR)
    advisor.follow_redirects = False
    assert advisor.get("/advisor").status_code == 200
    assert advisor.get("/frontdesk").status_code == 303
    manager = login(app_client, Role.MANAGER)
    manager.follow_redirects = False
    assert manager.get("/frontdesk").status_code == 200 and manager.get("/advisor").status_code == 200


def test_kiosk_page_and_catalog_need_the_token(app_client: TestClient) -> None:
    c = TestClient(app_client.app, follow_redirects=False)
    # the token is not the demo default here, so the page does not fill it in
    assert c.get("/kiosk").status_code == 200
    assert c.get("/api/v1/kiosk/catalog").status_code == 403
    catalog = c.get("/api/v1/kiosk/catalog", params={"token": "kiosk-secret-for-tests"}).json()
    assert [p["key"] for p in catalog["packages"]] == ["basic", "economy", "comprehensive", "full"]
    assert catalog["seasonal_offer"] in {"flood_cover", "winter_check", "value_services"}


def test_websockets_check_role_and_token(app_client: TestClient) -> None:
    anonymous = TestClient(app_client.app)
    for path in ("/ws/frontdesk", "/ws/advisor", "/ws/kiosk", "/ws/kiosk?token=wrong"):
        with pytest.raises(WebSocketDisconnect) as refused, anonymous.websocket_connect(path) as ws:
            ws.receive_json()
        assert refused.value.code == 1008, path
    reception = login(app_client, Role.RECEPTIONIST)
    with pytest.raises(WebSocketDisconnect), reception.websocket_connect("/ws/advisor") as ws:
        ws.receive_json()
    with reception.websocket_connect("/ws/frontdesk") as ws:
        assert ws.receive_json()["type"] == "snapshot"
    with reception.websocket_connect("/ws/frontdesk", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "snapshot"
    with (
        pytest.raises(WebSocketDisconnect),
        reception.websocket_connect("/ws/frontdesk", headers={"origin": "http://evil.example"}) as ws,
    ):
        ws.receive_json()
    with anonymous.websocket_connect("/ws/kiosk?token=kiosk-secret-for-tests") as ws:
        assert ws.receive_json()["type"] == "snapshot"


def test_customer_file_is_audited(app_client: TestClient) -> None:
    advisor = login(app_client, Role.ADVISOR)
    engine = app_client.app.state.engine
    with Session(engine) as s:
        vehicle = s.exec(select(Vehicle).order_by(Vehicle.id)).first()
        before = len(s.exec(select(AuditLog)).all())
    res = advisor.get(f"/api/v1/customers/{vehicle.customer_id}")
    assert res.status_code == 200
    body = res.json()
    assert body["customer"]["honorific"].endswith(("先生", "女士"))
    assert any(v["vehicle"]["plate"] == vehicle.plate for v in body["vehicles"])
    first = body["vehicles"][0]
    assert first["renewal"]["segment"]["key"] in {
        "new_car_first",
        "renewal",
        "service_only",
        "lapsed",
        "lost",
    }
    assert first["renewal"]["next_action"]["zh"]
    with Session(engine) as s:
        rows = s.exec(select(AuditLog).order_by(AuditLog.id)).all()
    assert len(rows) == before + 1
    assert (rows[-1].who, rows[-1].action, rows[-1].customer_id) == (
        "advisor",
        "view_customer",
        vehicle.customer_id,
    )
    assert advisor.get("/api/v1/customers/999999").status_code == 404


def test_acknowledgement_is_stored_on_the_arrival(app_client: TestClient) -> None:
    """ "已接待" is a column of the arrival now: the answer, the row and every later payload carry it."""
    with Session(app_client.app.state.engine) as s:
        plate = s.exec(select(Vehicle.plate).order_by(Vehicle.id.desc()).offset(2)).first()
    event = ArrivalEvent(site="demo", camera="gate-1", plate=plate, confidence=0.95, captured_at=now_local())
    assert app_client.app.state.processor.handle_arrival(event).status == "alerted"
    event_id = str(event.event_id)
    reception = login(app_client, Role.RECEPTIONIST)
    listed = reception.get("/api/v1/arrivals").json()["arrivals"]
    before = next(a for a in listed if a["event_id"] == event_id)
    assert before["acknowledged_by"] is None and before["acknowledged_at"] is None

    res = reception.post(f"/api/v1/arrivals/{event_id}/ack")
    assert res.status_code == 200, res.text
    ack = res.json()
    assert ack["persisted"] is True and ack["acknowledged_by"] == "前台 林晓雯"
    assert ack["acknowledged_at"].endswith("+08:00"), "the dealership's local time"
    with Session(app_client.app.state.engine) as s:
        row = s.exec(select(Arrival).where(Arrival.event_id == event_id)).one()
    assert row.acknowledged_by == "前台 林晓雯" and row.acknowledged_at is not None
    for role in (Role.RECEPTIONIST, Role.ADVISOR):  # the advisor's payload extends the front desk's
        mine = next(
            a
            for a in login(app_client, role).get("/api/v1/arrivals").json()["arrivals"]
            if a["event_id"] == event_id
        )
        assert (mine["acknowledged_by"], mine["acknowledged_at"]) == (
            ack["acknowledged_by"],
            ack["acknowledged_at"],
        )

    again = login(app_client, Role.MANAGER).post(f"/api/v1/arrivals/{event_id}/ack").json()
    assert again == ack, "first tap wins: a second screen gets the stored acknowledgement"
    with Session(app_client.app.state.engine) as s:
        rows = s.exec(
            select(AuditLog).where(AuditLog.action == "acknowledge_arrival", AuditLog.detail == event_id)
        ).all()
    assert [r.who for r in rows] == ["reception"]
    assert reception.post("/api/v1/arrivals/no-such-event/ack").status_code == 404


def test_arrivals_list_per_role(app_client: TestClient) -> None:
    processor = app_client.app.state.processor
    with Session(app_client.app.state.engine) as s:
        plate = s.exec(select(Vehicle.plate).order_by(Vehicle.id.desc())).first()
    event = ArrivalEvent(site="demo", camera="gate-1", plate=plate, confidence=0.95, captured_at=now_local())
    assert processor.handle_arrival(event).status == "alerted"
    reception = login(app_client, Role.RECEPTIONIST)
    listed = reception.get("/api/v1/arrivals").json()["arrivals"]
    mine = next(a for a in listed if a["event_id"] == str(event.event_id))
    assert mine["plate"] == plate and "task" not in mine
    advisor = login(app_client, Role.ADVISOR)
    mine = next(
        a for a in advisor.get("/api/v1/arrivals").json()["arrivals"] if a["event_id"] == str(event.event_id)
    )
    assert mine["task"]["title"]["zh"]
    assert mine["vehicle"]["id"] is not None, "the tablet names the car by id (quotes, contacts)"
    assert reception.get("/api/v1/arrivals", params={"date": "2001-01-01"}).json()["arrivals"] == []
    assert reception.get("/api/v1/arrivals", params={"date": "not-a-date"}).status_code == 422
    for extreme in ("0001-01-01", "9999-12-31"):  # their bounds in UTC do not exist: was a 500
        refused = reception.get("/api/v1/arrivals", params={"date": extreme})
        assert refused.status_code == 422 and "日期超出范围" in refused.text, extreme
