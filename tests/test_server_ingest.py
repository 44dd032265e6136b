"""Arrival pipeline: store once, dwell window, matching, per-screen payloads, MQTT round trip."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Self

import paho.mqtt.client as mqtt
import pytest
from amqtt.broker import Broker
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session, func, select

from dealergate.broker import free_port
from dealergate.contract import ArrivalEvent, now_local
from dealergate.plates import mask_plate
from server.config import ServerSettings
from server.ingest import ArrivalOutcome, ArrivalProcessor, ArrivalWorkers, MqttIngest, worker_key
from server.main import create_app
from server.models import Appointment, Arrival, ContactLog, Customer, Quote, RenewalTask, StaffUser, Vehicle

UNKNOWN_PLATE = "粤AZZZ99"  # three serial letters: a pattern the demo generator never makes


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    """A seeded server without MQTT, once on SQLite and once on PostgreSQL."""
    tmp: Path = tmp_path_factory.mktemp("ingest")
    settings = ServerSettings(database_url=database_url, var_dir=tmp / "var", seed_demo=True)
    with TestClient(create_app(settings, ingest=False)) as client:
        res = client.post("/api/v1/auth/login", json={"username": "manager", "password": "dealergate"})
        assert res.status_code == 200
        yield client


def known_vehicles(client: TestClient, n: int, offset: int = 0) -> list[tuple[Vehicle, Customer]]:
    with Session(client.app.state.engine) as s:
        rows = s.exec(
            select(Vehicle, Customer)
            .join(Customer, Customer.id == Vehicle.customer_id)
            .order_by(Vehicle.id)
            .offset(offset)
            .limit(n)
        ).all()
    return [(v, c) for v, c in rows]


def arrival_count(client: TestClient) -> int:
    with Session(client.app.state.engine) as s:
        return s.exec(select(func.count()).select_from(Arrival)).one()


def event(plate: str, **kw: object) -> ArrivalEvent:
    return ArrivalEvent(
        site="demo", camera="gate-1", plate=plate, confidence=0.96, **{"captured_at": now_local(), **kw}
    )


def test_same_event_is_stored_once(app_client: TestClient) -> None:
    ((vehicle, _),) = known_vehicles(app_client, 1, offset=0)
    processor = app_client.app.state.processor
    e = event(vehicle.plate)
    before = arrival_count(app_client)
    assert processor.handle_arrival(e).status == "alerted"
    assert processor.handle_arrival(e).status == "duplicate"
    assert arrival_count(app_client) == before + 1


def test_matched_plate_payloads(app_client: TestClient) -> None:
    ((vehicle, customer),) = known_vehicles(app_client, 1, offset=1)
    out = app_client.app.state.processor.handle_arrival(event(vehicle.plate))
    assert out.status == "alerted" and out.matched
    front = out.alerts.frontdesk
    assert front["known"] is True and front["match"] == "exact"
    assert front["customer"]["name"] == customer.name
    assert front["customer"]["honorific"][0] == customer.name[0]
    assert front["vehicle"]["model"] == vehicle.model
    assert front["next_action"]["zh"] and front["next_action"]["en"]
    assert out.alerts.advisor["task"]["title"] == front["next_action"]
    assert out.alerts.advisor["history"]["visits_total"] >= 0
    assert "phone" not in front["customer"], "the front desk never needs the phone number"
    assert out.alerts.advisor["customer"]["phone"] == customer.phone
    # renewal intelligence: added fields, the screens' existing ones unchanged
    assert front["grade"] in "ABCD" and front["grade_reasons"] and front["grade_reasons"][0]["en"]
    assert front["routing"]["lane"] in {"tablet", "private_room"}
    assert front["routing"]["advisor"]["username"] == "advisor", "the demo's only advisor is free"
    task = out.alerts.advisor["task"]
    assert task["package"]["key"] in {"basic", "economy", "comprehensive", "full"}
    assert task["quote"]["premium"] > 0 and task["quote"]["daily_cost"] > 0
    assert len(task["objections"]) == 5 and task["objections"][0]["reply"]["zh"]
    profile = out.alerts.advisor["profile"]
    assert profile["customer_type"]["key"] in {"price", "service", "indifferent"}
    assert isinstance(profile["lapse_risks"], list)
    assert "quote" not in front and "profile" not in front, "pricing and profile are for the advisor only"

    kiosk = out.alerts.kiosk
    text = json.dumps(kiosk, ensure_ascii=False)
    for secret in (customer.name, customer.phone, vehicle.plate, vehicle.vin):
        assert secret not in text, f"kiosk payload leaks {secret!r}"
    assert set(kiosk) == {
        "event_id",
        "captured_at",
        "masked_plate",
        "region",
        "plate_color",
        "brand",
        "model",
        "content",
    }
    assert kiosk["masked_plate"] == mask_plate(vehicle.plate) and kiosk["model"] == vehicle.model
    assert kiosk["content"]["seasonal_offer"] in {"flood_cover", "winter_check", "value_services"}


def test_unknown_plate_is_a_new_customer_alert(app_client: TestClient) -> None:
    out = app_client.app.state.processor.handle_arrival(event(UNKNOWN_PLATE))
    assert out.status == "alerted" and not out.matched
    front = out.alerts.frontdesk
    assert front["known"] is False and front["customer"] is None and front["match"] == "none"
    assert front["next_action"]["zh"].startswith("新客户/未建档")
    assert out.alerts.kiosk["brand"] is None and out.alerts.kiosk["masked_plate"] == "粤A·ZZ***"


def test_dwell_window_suppresses_a_returning_car(app_client: TestClient) -> None:
    ((vehicle, _),) = known_vehicles(app_client, 1, offset=2)
    processor = app_client.app.state.processor
    t0 = now_local() - timedelta(hours=1)
    assert processor.handle_arrival(event(vehicle.plate, captured_at=t0)).status == "alerted"
    assert (
        processor.handle_arrival(event(vehicle.plate, captured_at=t0 + timedelta(minutes=4))).status
        == "repeat"
    )
    # within 10 minutes of the last sighting (which itself was a repeat): still the same visit
    assert (
        processor.handle_arrival(event(vehicle.plate, captured_at=t0 + timedelta(minutes=12))).status
        == "repeat"
    )
    assert (
        processor.handle_arrival(event(vehicle.plate, captured_at=t0 + timedelta(minutes=30))).status
        == "alerted"
    )


def test_malformed_payload_changes_nothing(app_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    processor = app_client.app.state.processor
    before = arrival_count(app_client)
    good = json.loads(event(UNKNOWN_PLATE).to_payload())
    bad = {**good, "plate": "HELLO", "confidence": 1.7}
    with caplog.at_level(logging.WARNING, logger="server.ingest"):
        assert processor.handle_payload(json.dumps(bad).encode(), "dealergate/demo/gate-1/arrival") is None
        assert processor.handle_payload(b"{not json", "dealergate/demo/gate-1/arrival") is None
        # a valid event on somebody else's topic is refused too
        assert processor.handle_payload(json.dumps(good).encode(), "dealergate/other/gate-9/arrival") is None
    assert arrival_count(app_client) == before
    logged = " ".join(r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records)
    assert "plate:" in logged and "confidence:" in logged and "topic_mismatch" in logged


def test_arrival_reaches_each_screen_with_its_own_payload(app_client: TestClient) -> None:
    ((vehicle, customer),) = known_vehicles(app_client, 1, offset=3)
    processor = app_client.app.state.processor
    with (
        app_client.websocket_connect("/ws/frontdesk") as front,
        app_client.websocket_connect("/ws/advisor") as adv,
        app_client.websocket_connect("/ws/kiosk?token=demo-kiosk") as kiosk,
    ):
        for ws in (front, adv, kiosk):
            assert ws.receive_json()["type"] == "snapshot"
        e = event(vehicle.plate)
        processor.handle_arrival(e)
        got = {name: ws.receive_json() for name, ws in (("front", front), ("adv", adv), ("kiosk", kiosk))}
    assert all(m["type"] == "arrival" and m["data"]["event_id"] == str(e.event_id) for m in got.values())
    assert got["front"]["data"]["customer"]["name"] == customer.name
    assert "task" in got["adv"]["data"]
    assert customer.name not in json.dumps(got["kiosk"]["data"], ensure_ascii=False)
    # a reconnecting screen gets today's arrivals as a snapshot
    with app_client.websocket_connect("/ws/frontdesk") as again:
        snap = again.receive_json()
    assert snap["type"] == "snapshot" and str(e.event_id) in {a["event_id"] for a in snap["data"]}


class AuthBroker:
    """amqtt on a free port that requires a username: amqtt keeps persistent sessions only for
    authenticated clients (it drops anonymous ones), and Mosquitto in production does the same job."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._broker: Broker | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def boot() -> None:
            self._broker = Broker(
                {
                    "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
                    "plugins": {
                        "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}
                    },
                }
            )
            await self._broker.start()

        self._loop.run_until_complete(boot())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> Self:
        self._thread.start()
        assert self._ready.wait(15), "broker did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _publish(port: int, e: ArrivalEvent) -> None:
    pub = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"test-edge-{uuid.uuid4().hex[:8]}"
    )
    pub.username_pw_set("edge", "edge-password")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        pub.publish(e.topic(), e.to_payload(), qos=1).wait_for_publish(timeout=10)
    finally:
        pub.disconnect()
        pub.loop_stop()


def _wait_health(client: TestClient, mqtt_state: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get("/healthz").json()
        if body["mqtt"] == mqtt_state or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def _stored(client: TestClient, event_id: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(client.app.state.engine) as s:
            if s.exec(select(Arrival).where(Arrival.event_id == event_id)).first() is not None:
                return True
        time.sleep(0.1)
    return False


def test_mqtt_round_trip_and_persistent_session(tmp_path: Path, fresh_database_url: str) -> None:
    """paho publish → broker → server ingest → front-desk WebSocket, also across a server restart."""
    port = free_port()
    settings = ServerSettings(
        database_url=fresh_database_url,
        var_dir=tmp_path / "var",
        seed_demo=True,
        mqtt_url=f"mqtt://dealergate:s%40cret@127.0.0.1:{port}",
        site="rt",
    )
    assert (settings.mqtt_target().username, settings.mqtt_target().password) == ("dealergate", "s@cret")
    with AuthBroker(port):
        with TestClient(create_app(settings)) as client:
            assert _wait_health(client, "connected")["status"] == "ok"
            client.post("/api/v1/auth/login", json={"username": "reception", "password": "dealergate"})
            ((vehicle, customer),) = known_vehicles(client, 1, offset=4)
            with client.websocket_connect("/ws/frontdesk") as ws:
                assert ws.receive_json()["type"] == "snapshot"
                e = ArrivalEvent(
                    site="rt", camera="gate-1", plate=vehicle.plate, confidence=0.93, captured_at=now_local()
                )
                _publish(port, e)
                msg = ws.receive_json()
            assert msg["type"] == "arrival" and msg["data"]["event_id"] == str(e.event_id)
            assert msg["data"]["customer"]["name"] == customer.name
            assert client.get("/healthz").json()["arrivals_today"] >= 1
        # server down: the broker keeps the QoS 1 arrival for the server's persistent session
        late = ArrivalEvent(
            site="rt", camera="gate-1", plate=UNKNOWN_PLATE, confidence=0.9, captured_at=now_local()
        )
        _publish(port, late)
        with TestClient(create_app(settings)) as client:
            assert _wait_health(client, "connected")["mqtt"] == "connected"
            assert _stored(client, str(late.event_id)), "arrival published while the server was down was lost"


def test_server_starts_and_stays_up_without_a_broker(tmp_path: Path) -> None:
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp_path / 'nb.db'}",
        var_dir=tmp_path / "var",
        mqtt_url=f"mqtt://127.0.0.1:{free_port()}",
    )
    with TestClient(create_app(settings)) as client:
        time.sleep(0.5)
        body = client.get("/healthz").json()
    assert body == {**body, "status": "degraded", "db": "ok", "mqtt": "disconnected"}


def test_arrival_reads_the_renewal_work_and_opens_a_task(app_client: TestClient) -> None:
    """Appointment, contact log and quote feed the payloads; the arrival becomes the advisor's task."""
    ((vehicle, customer),) = known_vehicles(app_client, 1, offset=5)
    engine = app_client.app.state.engine
    with Session(engine) as s:
        advisor_id = s.exec(select(StaffUser.id).where(StaffUser.username == "advisor")).one()
        s.add(
            Appointment(
                customer_id=customer.id, vehicle_id=vehicle.id, scheduled_at=now_local(), kind="maintenance"
            )
        )
        s.add(Quote(vehicle_id=vehicle.id, customer_id=customer.id, package="comprehensive", premium=5000.0))
        s.add(
            ContactLog(
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                staff_id=advisor_id,
                channel="phone",
                outcome="considering",
                competitor_premium=3900.0,
                at=now_local() - timedelta(days=2),
            )
        )
        s.commit()
    out = app_client.app.state.processor.handle_arrival(event(vehicle.plate))
    front, adv = out.alerts.frontdesk, out.alerts.advisor
    assert front["appointment"]["kind"] == "maintenance"
    assert front["open_tasks"] == [], "this arrival's own task is not an open reminder of it"
    assert [r["tag"] for r in adv["profile"]["lapse_risks"]] == ["price"]  # 3900 is 22 % under 5000
    assert front["routing"]["lane"] == "private_room"
    with Session(engine) as s:
        tasks = s.exec(select(RenewalTask).where(RenewalTask.vehicle_id == vehicle.id)).all()
    assert len(tasks) == 1 and tasks[0].kind == "arrival" and tasks[0].assigned_to == advisor_id
    assert tasks[0].lane == "private_room" and tasks[0].status == "open"
    # the next visit finds the task still open (an open reminder now) and reuses it
    later = app_client.app.state.processor.handle_arrival(
        event(vehicle.plate, captured_at=now_local() + timedelta(hours=1))
    )
    assert [t["kind"] for t in later.alerts.frontdesk["open_tasks"]] == ["arrival"]
    with Session(engine) as s:
        assert len(s.exec(select(RenewalTask).where(RenewalTask.vehicle_id == vehicle.id)).all()) == 1


def test_a_correction_updates_the_arrival_and_replaces_the_alert(app_client: TestClient) -> None:
    """The edge published a misread, then the right plate under the same event_id: the stored row
    is corrected and re-matched, the screens get the corrected card, and it is not a new visit."""
    ((vehicle, customer),) = known_vehicles(app_client, 1, offset=6)
    processor = app_client.app.state.processor
    wrong = event("粤AZZZ98", captured_at=now_local() - timedelta(minutes=50))
    fixed = wrong.model_copy(update={"plate": vehicle.plate, "revision": 1, "confidence": 0.99})
    before = arrival_count(app_client)
    with app_client.websocket_connect("/ws/frontdesk") as front:
        assert front.receive_json()["type"] == "snapshot"
        assert processor.handle_arrival(wrong).status == "alerted"
        first = front.receive_json()
        out = processor.handle_arrival(fixed)
        second = front.receive_json()
    assert out.status == "updated" and out.matched
    assert first["data"]["event_id"] == second["data"]["event_id"] == str(wrong.event_id)
    assert first["data"]["customer"] is None
    assert second["type"] == "arrival" and second["data"]["customer"]["name"] == customer.name
    assert second["data"]["plate"] == vehicle.plate
    assert arrival_count(app_client) == before + 1  # corrected in place: one visit
    for stale in (fixed, wrong):  # the same revision again, or the older one late: ignored
        assert processor.handle_arrival(stale).status == "duplicate"
    with Session(app_client.app.state.engine) as s:
        row = s.exec(select(Arrival).where(Arrival.event_id == str(wrong.event_id))).one()
    assert (row.plate, row.revision, row.vehicle_id, row.alerted) == (vehicle.plate, 1, vehicle.id, True)
    assert row.confidence == pytest.approx(0.99)


def test_a_correction_that_comes_first_is_the_arrival(app_client: TestClient) -> None:
    processor = app_client.app.state.processor
    first = event("粤AZZZ97", captured_at=now_local() - timedelta(minutes=40))
    fixed = first.model_copy(update={"plate": "粤AZZZ96", "revision": 1})
    assert processor.handle_arrival(fixed).status == "alerted"
    assert processor.handle_arrival(first).status == "duplicate"  # the older revision, late
    with Session(app_client.app.state.engine) as s:
        row = s.exec(select(Arrival).where(Arrival.event_id == str(first.event_id))).one()
    assert (row.plate, row.revision) == ("粤AZZZ96", 1)


def test_a_departure_sets_the_dwell_time_and_alerts_nobody(app_client: TestClient) -> None:
    ((vehicle, _),) = known_vehicles(app_client, 1, offset=7)
    processor = app_client.app.state.processor
    t0 = now_local() - timedelta(hours=2)
    came = event(vehicle.plate, captured_at=t0)
    left = event(vehicle.plate, captured_at=t0 + timedelta(minutes=45), kind="departure")
    before = arrival_count(app_client)
    with app_client.websocket_connect("/ws/frontdesk") as front:
        assert front.receive_json()["type"] == "snapshot"
        assert processor.handle_arrival(came).status == "alerted"
        assert front.receive_json()["data"]["event_id"] == str(came.event_id)
        assert processor.handle_arrival(left).status == "departed"
        assert processor.handle_arrival(left).status == "duplicate"  # redelivery
        marker = event("粤AZZZ94")  # a plate of its own: never a repeat, always pushed
        assert processor.handle_arrival(marker).status == "alerted"
        assert front.receive_json()["data"]["event_id"] == str(marker.event_id)  # nothing in between
    assert arrival_count(app_client) == before + 2  # the arrival and the marker, not the departure
    with Session(app_client.app.state.engine) as s:
        row = s.exec(select(Arrival).where(Arrival.event_id == str(came.event_id))).one()
    assert row.departed_at is not None and row.departed_at - row.captured_at == timedelta(minutes=45)
    assert row.departure_event_id == str(left.event_id)
    stranger = event("粤AZZZ95", kind="departure")  # never seen arriving
    assert processor.handle_arrival(stranger).status == "unmatched_departure"


def test_workers_keep_each_cars_order_and_are_done_once_stored(app_client: TestClient) -> None:
    """Arrivals handed to the workers back to back (as MQTT hands them): each car's arrival and its
    return within the dwell window keep their order whichever worker takes the car, and `done`
    (which acknowledges the MQTT message) comes only once the arrival is committed; a malformed
    payload is done at once (dropped)."""
    engine = app_client.app.state.engine
    t0 = now_local() - timedelta(hours=3)
    cars = [v.plate for v, _ in known_vehicles(app_client, 4, offset=10)]
    events = [event(p, captured_at=t0) for p in cars] + [
        event(p, captured_at=t0 + timedelta(minutes=4)) for p in cars
    ]
    seen: dict[str, tuple[str, bool]] = {}
    all_done = threading.Event()

    def done(outcome: ArrivalOutcome | None) -> None:
        assert outcome is not None
        with Session(engine) as s:
            stored = (
                s.exec(select(Arrival.id).where(Arrival.event_id == outcome.event_id)).first() is not None
            )
        seen[outcome.event_id] = (outcome.status, stored)
        if len(seen) == len(events):
            all_done.set()

    workers = ArrivalWorkers(app_client.app.state.processor)
    malformed: list[ArrivalOutcome | None] = []
    try:
        assert workers.count == (2 if engine.dialect.name == "postgresql" else 1)
        workers.submit(b"{not json", "dealergate/demo/gate-1/arrival", malformed.append)
        for e in events:
            workers.submit(e.to_payload(), e.topic(), done)
        assert all_done.wait(30), seen
    finally:
        workers.close()
    assert malformed == [None]
    assert [seen[str(e.event_id)] for e in events] == [("alerted", True)] * 4 + [("repeat", True)] * 4


def test_look_alike_plates_go_to_the_same_worker() -> None:
    """A misread one look-alike away, or its correction, is handled after the plate it stands for."""
    assert worker_key("粤A·1234S") == worker_key("粤AI2345") == worker_key("粤A12345")
    assert worker_key("粤B8D0Z2") == worker_key("粤BBQO22")
    assert worker_key("粤A12345") != worker_key("粤A12346")
    assert worker_key("琼BE609T") == worker_key("粤BE609T")  # a misread province too
    assert worker_key("粤H972HL") == worker_key("粤B972BL") == worker_key("粤8972ML")  # groups sharing B and H


def test_mqtt_acknowledges_only_what_is_stored(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The subscriber hands each message to the workers: the broker gets its acknowledgement once
    the arrival is committed, and none for an arrival that failed (the broker delivers it again)."""
    engine = app_client.app.state.engine
    processor = app_client.app.state.processor
    good, bad = event("粤AZZZ91"), event("粤AZZZ90")
    handle = processor.handle_arrival

    def failing(e: ArrivalEvent) -> ArrivalOutcome:
        if e.event_id == bad.event_id:
            raise RuntimeError("database went away")
        return handle(e)

    monkeypatch.setattr(processor, "handle_arrival", failing)
    acked: list[tuple[int, int, bool]] = []

    class Broker:
        def ack(self, mid: int, qos: int) -> None:
            with Session(engine) as s:
                stored = s.exec(select(Arrival.id).where(Arrival.event_id == str(good.event_id))).first()
            acked.append((mid, qos, stored is not None))

    ingest = MqttIngest(app_client.app.state.settings, processor)  # never connected: fed by hand
    with caplog.at_level(logging.ERROR, logger="server.ingest"):
        for mid, e in ((1, bad), (2, good)):
            msg = mqtt.MQTTMessage(mid=mid, topic=e.topic().encode())
            msg.payload, msg.qos = e.to_payload(), 1
            ingest._on_message(Broker(), None, msg)  # type: ignore[arg-type]
        ingest.stop()  # the workers finish what they were handed
    assert acked == [(2, 1, True)]
    assert any(getattr(r, "event", None) == "arrival.failed" for r in caplog.records)


def test_a_correction_stored_meanwhile_is_applied(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers take events by plate, so a correction to another plate can race its original: when
    the original is stored after the correction looked for it, the correction's insert fails on the
    event id and it is handled again, as the correction it is."""
    ((vehicle, customer),) = known_vehicles(app_client, 1, offset=14)
    processor = app_client.app.state.processor
    first = event("粤AZZZ89", captured_at=now_local() - timedelta(minutes=30))
    fixed = first.model_copy(update={"plate": vehicle.plate, "revision": 1})
    assert processor.handle_arrival(first).status == "alerted"
    prior = ArrivalProcessor._prior
    looked: list[str] = []

    def raced(*args: object) -> tuple[int | None, bool]:
        looked.append(str(args[1]))
        return (None, False) if len(looked) == 1 else prior(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ArrivalProcessor, "_prior", staticmethod(raced))
    out = processor.handle_arrival(fixed)
    assert out.status == "updated" and out.matched and len(looked) == 2
    assert out.alerts is not None and out.alerts.frontdesk["customer"]["name"] == customer.name
    with Session(app_client.app.state.engine) as s:
        row = s.exec(select(Arrival).where(Arrival.event_id == str(first.event_id))).one()
    assert (row.plate, row.revision, row.vehicle_id) == (vehicle.plate, 1, vehicle.id)
