"""Manager dashboard figures on a small hand-made dealership whose right answers are known, and the
dashboard's routes (roles, CSV with BOM, audit) on the seeded demo."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from staff_login import login

from server import stats
from server.api.kiosk_content import KioskContentSettings
from server.config import ServerSettings
from server.db import make_engine
from server.main import create_app
from server.migrate import upgrade_database
from server.models import (
    Arrival,
    AuditLog,
    Claim,
    ContactLog,
    Customer,
    Policy,
    RenewalTask,
    Role,
    ServiceVisit,
    Site,
    StaffUser,
    Vehicle,
)
from server.seed import DEMO_SISTER_SITE

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 3, 18)  # a Wednesday: the last complete week began on Monday 9 March
WEEKS = 4  # Monday 16 Feb .. Sunday 15 Mar
D = date.fromisoformat


def _local(day: str, hm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=TZ)


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    """The hand-made dealership below, once on SQLite and once on PostgreSQL."""
    engine = make_engine(database_url)
    upgrade_database(engine)
    with Session(engine) as s:
        a = StaffUser(username="adv_a", display_name="顾问甲", role=Role.ADVISOR.value, password_hash="x")
        b = StaffUser(username="adv_b", display_name="顾问乙", role=Role.ADVISOR.value, password_hash="x")
        owner = Customer(name="测试车主", phone="13800000000")
        s.add_all([a, b, owner])
        s.flush()
        cars = {
            key: Vehicle(plate=f"粤A1000{i}" if key != "v7" else "湘A12345", brand=brand, model=model, purchase_date=bought)
            for i, (key, brand, model, bought) in enumerate([
                ("v1", "丰田", "凯美瑞", D("2024-02-20")),
                ("v2", "本田", "思域", D("2025-02-25")),
                ("v3", "本田", "思域", D("2020-05-01")),
                ("v4", "丰田", "凯美瑞", D("2020-01-01")),
                ("v5", "丰田", "卡罗拉", D("2020-01-01")),
                ("v6", "本田", "雅阁", D("2019-01-01")),
                ("v7", "丰田", "汉兰达", D("2019-01-01")),
            ])
        }  # fmt: skip
        s.add_all(cars.values())
        s.flush()
        n = iter(range(1, 100))

        def policy(car: str, start: str, end: str, channel: str = "dealer") -> Policy:
            row = Policy(policy_no=f"P{next(n)}", insurer="PICC", start_date=D(start), end_date=D(end),
                         premium=4000, channel=channel, vehicle_id=cars[car].id)  # fmt: skip
            s.add(row)
            s.flush()
            return row

        # v1: second dealer year due Fri 20 Feb, renewed the next day; its task is adviser A's
        policy("v1", "2024-02-21", "2025-02-20")
        p1 = policy("v1", "2025-02-21", "2026-02-20")
        policy("v1", "2026-02-21", "2027-02-20")
        # v2: new car's first policy due Sat 28 Feb, not renewed; B holds a task for the car, price tag
        policy("v2", "2025-03-01", "2026-02-28")
        # v3: insured online, serviced here, due Mon 2 Mar, renewed online again: untagged loss
        policy("v3", "2025-03-03", "2026-03-02", "online")
        policy("v3", "2026-03-03", "2027-03-02", "online")
        # v4: due Mon 9 Mar, renewed here 23 days late (within the 30-day grace); A's task
        p4 = policy("v4", "2025-03-10", "2026-03-09")
        policy("v4", "2026-04-01", "2027-03-31")
        # v5: outside the period on both sides
        policy("v5", "2025-02-11", "2026-02-10")
        policy("v5", "2025-03-21", "2026-03-20")
        # v6: due Sun 1 Mar, back 45 days later (past the grace): lost; its only tag is a year old
        policy("v6", "2025-03-02", "2026-03-01")
        policy("v6", "2026-04-15", "2027-04-14")
        s.add_all([
            ServiceVisit(vehicle_id=cars["v3"].id, date=D("2025-10-01"), kind="maintenance"),
            RenewalTask(vehicle_id=cars["v1"].id, policy_id=p1.id, kind="timeline", due_date=D("2026-01-01"),
                        assigned_to=a.id),
            RenewalTask(vehicle_id=cars["v2"].id, kind="timeline", due_date=D("2026-02-01"), assigned_to=b.id),
            RenewalTask(vehicle_id=cars["v4"].id, policy_id=p4.id, kind="arrival", due_date=D("2026-02-01"),
                        assigned_to=a.id),
            RenewalTask(vehicle_id=cars["v6"].id, kind="timeline", due_date=D("2026-02-01")),  # nobody's
            ContactLog(customer_id=owner.id, vehicle_id=cars["v2"].id, channel="phone", outcome="lost",
                       lapse_reason="price", at=_local("2026-03-05", "10:00")),
            ContactLog(customer_id=owner.id, vehicle_id=cars["v6"].id, channel="phone", outcome="lost",
                       lapse_reason="service", at=_local("2025-01-01", "10:00")),
            ContactLog(customer_id=owner.id, vehicle_id=cars["v1"].id, channel="phone", outcome="lost",
                       lapse_reason="other", at=_local("2026-02-10", "10:00")),  # renewed after all
        ])  # fmt: skip
        claims = [("v1", "glass", 10), ("v2", "scratch", 6), ("v3", "rear_end", 4), ("v7", "flood", 3)]
        s.add_all(
            Claim(vehicle_id=cars[car].id, date=D("2026-01-10"), amount=800, type=kind)
            for car, kind, times in claims
            for _ in range(times)
        )
        s.add(Claim(vehicle_id=cars["v1"].id, date=D("2025-03-01"), amount=800, type="theft"))  # > a year ago
        arrivals = [
            ("2026-03-15", "12:00", cars["v1"].id, True),  # before the three days
            ("2026-03-17", "10:00", cars["v1"].id, True),
            ("2026-03-17", "23:30", None, True),
            ("2026-03-18", "00:30", cars["v4"].id, True),  # 16:30 UTC on the 17th: still the 18th here
            ("2026-03-18", "09:00", None, False),  # a repeat sighting: not an arrival
        ]
        s.add_all(
            Arrival(event_id=f"e{i}", site="t", camera="gate", plate="粤A00000", confidence=0.9,
                    captured_at=_local(day, hm).astimezone(UTC), vehicle_id=vid, alerted=alerted)
            for i, (day, hm, vid, alerted) in enumerate(arrivals)
        )  # fmt: skip
        s.commit()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def board(engine: Engine) -> dict:
    with Session(engine) as s:
        return stats.dashboard(s, TODAY, TZ, stats.BoardScope(WEEKS, 3))


def _rows(board: dict, key: str) -> list[list]:
    """A table's rows with labels in Chinese, as the CSV shows them."""
    table = next(t for t in board["tables"] if t["key"] == key)
    return [[c["zh"] if isinstance(c, dict) else c for c in row] for row in table["rows"]]


def test_period_is_the_complete_weeks_before_this_one(board: dict) -> None:
    assert board["period"] == {"start": "2026-02-16", "end": "2026-03-15", "weeks": 4}


def test_summary_counts_due_renewed_and_capture(board: dict) -> None:
    assert board["summary"] == {
        "due": 5,
        "renewed": 2,
        "renewal_rate": 0.4,
        "lost": 3,
        "arrivals": 3,
        "capture_rate": 0.6667,
    }


def test_weekly_renewal_rate_per_advisor(board: dict) -> None:
    assert _rows(board, "renewal_weekly") == [
        ["2026-02-16", "顾问甲", 1, 1, 1.0],
        ["2026-02-16", "全店", 1, 1, 1.0],
        ["2026-02-23", "顾问乙", 1, 0, 0.0],
        ["2026-02-23", "未分配", 1, 0, 0.0],
        ["2026-02-23", "全店", 2, 0, 0.0],
        ["2026-03-02", "未分配", 1, 0, 0.0],
        ["2026-03-02", "全店", 1, 0, 0.0],
        ["2026-03-09", "顾问甲", 1, 1, 1.0],
        ["2026-03-09", "全店", 1, 1, 1.0],
    ]
    chart = board["charts"]["renewal_weekly"]
    assert chart["labels"] == ["2026-02-16", "2026-02-23", "2026-03-02", "2026-03-09"]
    by_name = {s["label"]["zh"]: s["data"] for s in chart["series"]}
    assert by_name == {
        "全店": [1.0, 0.0, 0.0, 1.0],
        "顾问甲": [1.0, None, None, 1.0],  # None: nothing due that week, not a 0 % week
        "顾问乙": [None, 0.0, None, None],
        "未分配": [None, 0.0, 0.0, None],
    }


def test_one_stores_figures_count_its_files_and_its_gates(engine: Engine, board: dict) -> None:
    """v2's file moves to a sister store, which gets one arrival of its own: the sister store's board
    counts v2's lost policy and that arrival, this store's the rest (files without a store are its
    own), and the two add up to the group's."""
    with Session(engine) as s:
        s.add_all([Site(code="t", name_zh="本店"), Site(code="sister", name_zh="兄弟店")])
        s.flush()
        v2 = s.exec(select(Vehicle).where(Vehicle.brand == "本田").order_by(Vehicle.id)).first()  # type: ignore[arg-type]
        assert v2 is not None and v2.purchase_date == D("2025-02-25")
        v2.site = "sister"
        s.add(Arrival(event_id="sister-1", site="sister", camera="gate", plate="粤A00000", confidence=0.9,
                      captured_at=_local("2026-03-16", "09:00").astimezone(UTC), vehicle_id=v2.id))  # fmt: skip
        s.commit()
        try:
            sister = stats.dashboard(
                s, TODAY, TZ, stats.BoardScope(WEEKS, 3, stats.SiteScope("sister", own=False))
            )
            own = stats.dashboard(s, TODAY, TZ, stats.BoardScope(WEEKS, 3, stats.SiteScope("t", own=True)))
        finally:
            s.delete(s.exec(select(Arrival).where(Arrival.event_id == "sister-1")).one())
            v2.site = None
            s.commit()
            for site in s.exec(select(Site)).all():
                s.delete(site)
            s.commit()
    assert sister["site"] == "sister" and own["site"] == "t"
    assert sister["summary"] == {
        "due": 1, "renewed": 0, "renewal_rate": 0.0, "lost": 1, "arrivals": 1, "capture_rate": 1.0,
    }  # fmt: skip
    due_weeks = [r for r in _rows(sister, "renewal_weekly") if r[2]]
    assert due_weeks == [["2026-02-23", "顾问乙", 1, 0, 0.0], ["2026-02-23", "全店", 1, 0, 0.0]]
    assert _rows(sister, "lapse_reasons")[0] == ["价格因素", 1, 1.0]
    assert {k: own["summary"][k] for k in ("due", "renewed", "arrivals")} == {
        "due": board["summary"]["due"] - 1,
        "renewed": board["summary"]["renewed"],
        "arrivals": board["summary"]["arrivals"],  # the hand-made arrivals are all at gate site "t"
    }


def test_arrivals_per_local_day_and_capture_rate(board: dict) -> None:
    assert _rows(board, "arrivals_daily") == [
        ["2026-03-16", 0, 0, 0, None],
        ["2026-03-17", 2, 1, 1, 0.5],
        ["2026-03-18", 1, 1, 0, 1.0],
    ]


def test_conversion_by_segment_channel_and_model(board: dict) -> None:
    assert _rows(board, "conversion_segment") == [
        ["新车首年", 1, 0, 0.0],
        ["续转续", 3, 2, 0.6667],
        ["在修不在保", 1, 0, 0.0],
    ]
    assert _rows(board, "conversion_channel") == [["本店", 4, 2, 0.5], ["互联网平台", 1, 0, 0.0]]
    assert _rows(board, "conversion_model") == [
        ["丰田 凯美瑞", 2, 2, 1.0],
        ["本田 思域", 2, 0, 0.0],
        ["本田 雅阁", 1, 0, 0.0],
    ]


def test_lapse_reasons_count_tags_near_the_loss_and_untagged_apart(board: dict) -> None:
    assert _rows(board, "lapse_reasons") == [
        ["价格因素", 1, 0.3333],
        ["无法联系", 0, 0.0],
        ["服务体验", 0, 0.0],  # v6's service tag is a year older than its loss
        ["迁出/卖车", 0, 0.0],
        ["其他", 0, 0.0],  # v1 was tagged, but renewed
        ["未标注原因", 2, 0.6667],
    ]
    assert _rows(board, "lost_destination") == [
        ["互联网平台", 1, 0.3333],
        ["无后续保单记录（脱保或未知）", 2, 0.6667],
    ]


def test_csv_has_a_bom_and_the_chosen_language(engine: Engine) -> None:
    with Session(engine) as s:
        parts = stats.dashboard_parts(s, TODAY, TZ, stats.BoardScope(WEEKS, 3))
    table = next(t for t, _ in parts if t.key == "conversion_channel")
    zh = stats.csv_text(table, "zh-CN")
    assert zh.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(zh[1:]))) == [
        ["原渠道", "到期台数", "续保台数", "续保率"],
        ["本店", "4", "2", "50.0%"],
        ["互联网平台", "1", "0", "0.0%"],
    ]
    assert stats.csv_text(table, "en").splitlines()[1] == "This dealership,4,2,50.0%"


def test_an_empty_period_has_no_rates_rather_than_zero(engine: Engine) -> None:
    with Session(engine) as s:
        empty = stats.dashboard(s, date(2030, 1, 1), TZ, stats.BoardScope(2, 1))
    assert empty["summary"]["due"] == 0 and empty["summary"]["renewal_rate"] is None
    assert empty["summary"]["capture_rate"] is None


def test_regional_claim_mix_only_for_provinces_with_enough_claims(engine: Engine) -> None:
    with Session(engine) as s:
        mix = stats.regional_claim_mix(s, TODAY)
    assert mix == {  # 湘 has 3 claims: too few to say anything, and close to pointing at one car
        "粤": {
            "claims": 20,
            "top": [
                {"type": "glass", "share": 0.5},
                {"type": "scratch", "share": 0.3},
                {"type": "rear_end", "share": 0.2},
            ],
        }
    }


# ---------------------------------------------------------------- routes, on the seeded demo


@pytest.fixture(scope="module")
def demo_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("dashboard")
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp / 'demo.db'}", var_dir=tmp / "var", seed_demo=True
    )
    with TestClient(create_app(settings, ingest=False)) as client:
        yield client


def test_dashboard_is_for_managers_and_admins(demo_client: TestClient) -> None:
    assert TestClient(demo_client.app).get("/api/v1/dashboard").status_code == 401
    for role in (Role.RECEPTIONIST, Role.ADVISOR):
        staff = login(demo_client, role)
        assert staff.get("/api/v1/dashboard").status_code == 403
        assert staff.get("/api/v1/dashboard/lapse_reasons.csv").status_code == 403
        page = staff.get("/dashboard", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/dashboard&denied=1"
    for role in (Role.MANAGER, Role.ADMIN):
        body = login(demo_client, role).get("/api/v1/dashboard", params={"weeks": 26}).json()
        assert [t["key"] for t in body["tables"]] == [
            "renewal_weekly", "arrivals_daily", "conversion_segment", "conversion_channel",
            "conversion_model", "lapse_reasons", "lost_destination",
        ]  # fmt: skip
        assert body["summary"]["due"] > 0 and 0 <= body["summary"]["renewal_rate"] <= 1
        assert len(body["footnotes"]) == len(stats.FOOTNOTES)


def test_csv_export_is_excel_friendly_and_audited(demo_client: TestClient) -> None:
    manager = login(demo_client, Role.MANAGER)
    res = manager.get("/api/v1/dashboard/conversion_segment.csv", params={"weeks": 26})
    assert res.status_code == 200
    assert res.headers["content-type"] == "text/csv; charset=utf-8"
    assert res.headers["content-disposition"].startswith(
        'attachment; filename="dealergate-conversion_segment-'
    )
    assert res.content.startswith(b"\xef\xbb\xbf")
    assert res.content.decode("utf-8-sig").splitlines()[0] == "客户类型,到期台数,续保台数,续保率"
    en = manager.get("/api/v1/dashboard/conversion_segment.csv", params={"lang": "en"})
    assert en.content.decode("utf-8-sig").splitlines()[0] == "Segment,Due,Renewed,Renewal rate"
    assert manager.get("/api/v1/dashboard/customers.csv").status_code == 404
    with Session(demo_client.app.state.engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "export_dashboard")).all()
    assert [(a.who, a.detail) for a in audit][-2:] == [
        ("manager", "conversion_segment"),
        ("manager", "conversion_segment"),
    ]


def test_one_store_on_the_demo_and_its_csv(demo_client: TestClient) -> None:
    """The page's store choice: every store is offered (this one first), one store's figures are a
    part of the group's, an unknown store is a 404 and a malformed code a 422; a store's CSV says
    which store in its name and in the audit log."""
    manager = login(demo_client, Role.MANAGER)
    group = manager.get("/api/v1/dashboard", params={"weeks": 26}).json()
    assert group["site"] is None
    home = demo_client.app.state.settings.site
    assert [(c["code"], c["current"]) for c in group["sites"]] == [
        (home, True),
        (DEMO_SISTER_SITE.code, False),
    ]
    assert group["sites"][1]["zh"] == DEMO_SISTER_SITE.name_zh
    boards = {
        code: manager.get("/api/v1/dashboard", params={"weeks": 26, "site": code}).json()
        for code in (home, DEMO_SISTER_SITE.code)
    }
    assert [b["site"] for b in boards.values()] == [home, DEMO_SISTER_SITE.code]
    dues = [b["summary"]["due"] for b in boards.values()]
    assert dues[0] > 0 and sum(dues) == group["summary"]["due"], dues
    missing = manager.get("/api/v1/dashboard", params={"site": "nowhere"})
    assert missing.status_code == 404 and "没有这个门店" in missing.json()["detail"]
    bad = manager.get("/api/v1/dashboard/lapse_reasons.csv", params={"site": "Nowhere!"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "site"]
    res = manager.get("/api/v1/dashboard/lapse_reasons.csv", params={"site": DEMO_SISTER_SITE.code})
    assert res.status_code == 200
    assert (
        f'filename="dealergate-lapse_reasons-{DEMO_SISTER_SITE.code}-' in res.headers["content-disposition"]
    )
    with Session(demo_client.app.state.engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "export_dashboard")).all()
    assert audit[-1].detail == f"lapse_reasons site={DEMO_SISTER_SITE.code}"


def test_csv_never_names_a_customer(demo_client: TestClient) -> None:
    """Exports are counts: no plate, name or phone of the demo customers appears in any of them."""
    manager = login(demo_client, Role.MANAGER)
    keys = [t["key"] for t in manager.get("/api/v1/dashboard").json()["tables"]]
    text = "".join(manager.get(f"/api/v1/dashboard/{k}.csv", params={"weeks": 53}).text for k in keys)
    with Session(demo_client.app.state.engine) as s:
        secrets = [*s.exec(select(Vehicle.plate)).all(), *s.exec(select(Customer.phone)).all()]
        secrets += [n for n in s.exec(select(Customer.name)).all() if len(n) > 2]  # 2 chars: may be a model
    assert len(text) > 500 and not [x for x in secrets if x in text]


def test_kiosk_extras_need_the_token_and_carry_only_counts(
    demo_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = TestClient(demo_client.app)
    assert anonymous.get("/api/v1/kiosk/extras").status_code == 403
    body = anonymous.get("/api/v1/kiosk/extras", params={"token": "demo-kiosk"}).json()
    assert body["self_service_url"] is None  # not configured: the kiosk shows no QR code
    assert "粤" in body["region_claims"]  # the demo dealership's cars are mostly Guangdong's
    assert all(r["claims"] >= stats.REGION_MIN_CLAIMS for r in body["region_claims"].values())
    monkeypatch.setenv("DEALERGATE_SELF_SERVICE_URL", "https://renew.example.cn/h5")
    body = anonymous.get("/api/v1/kiosk/extras", params={"token": "demo-kiosk"}).json()
    assert body["self_service_url"] == "https://renew.example.cn/h5"
    with pytest.raises(ValueError, match="http"):
        KioskContentSettings(self_service_url="javascript:alert(1)")
