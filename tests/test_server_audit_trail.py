"""Reading the audit trail: who opened which customer's file, by customer, car, person, action and
day, paged; managers and admins only, and every reading is itself on the trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from staff_login import login
from typer.testing import CliRunner

from dealergate.cli import app as cli
from server.config import ServerSettings
from server.db import local_today
from server.main import create_app
from server.models import AuditLog, Customer, Role, Vehicle


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("audit")
    settings = ServerSettings(database_url=database_url, var_dir=tmp / "var", seed_demo=True)
    with TestClient(create_app(settings, ingest=False)) as client:
        yield client


Opened = tuple[Customer, Vehicle, Customer]
"""(a customer, their car, another customer) whose files were opened."""


@pytest.fixture(scope="module")
def opened(server: TestClient) -> Opened:
    """The advisor opens two files, the receptionist one of them: three rows on the trail."""
    with Session(server.app.state.engine) as s:
        pairs = s.exec(select(Customer, Vehicle).join(Vehicle, Vehicle.customer_id == Customer.id)).all()
    (first, car), (second, _) = pairs[0], next(p for p in pairs if p[0].id != pairs[0][0].id)
    advisor, reception = login(server, Role.ADVISOR), login(server, Role.RECEPTIONIST)
    for client, customer in ((advisor, first), (advisor, second), (reception, first)):
        assert client.get(f"/api/v1/customers/{customer.id}").status_code == 200
    return first, car, second


def test_who_opened_a_customers_file_by_id_or_by_plate(server: TestClient, opened: Opened) -> None:
    first, car, _ = opened
    manager = login(server, Role.MANAGER)
    by_id = manager.get("/api/v1/audit", params={"customer_id": first.id, "action": "view_customer"}).json()
    assert [(e["who"], e["role"]) for e in by_id["entries"]] == [
        ("reception", "receptionist"),
        ("advisor", "advisor"),
    ]
    assert all(e["customer_name"] == first.name for e in by_id["entries"])
    assert by_id["next_before"] is None
    plate = f"{car.plate[:2]}·{car.plate[2:].lower()}"  # as someone would type it
    by_plate = manager.get("/api/v1/audit", params={"plate": plate, "action": "view_customer"}).json()
    assert [e["id"] for e in by_plate["entries"]] == [e["id"] for e in by_id["entries"]]
    unknown = manager.get("/api/v1/audit", params={"plate": "粤Z00000"}).json()
    assert unknown["entries"] == []


def test_what_one_person_opened_paged_newest_first(server: TestClient, opened: Opened) -> None:
    first, _, second = opened
    admin = login(server, Role.ADMIN)
    today = local_today(server.app.state.settings.tz).isoformat()
    params = {"who": "advisor", "action": "view_customer", "since": today, "until": today, "limit": 1}
    page1 = admin.get("/api/v1/audit", params=params).json()
    assert [e["customer_id"] for e in page1["entries"]] == [second.id]
    page2 = admin.get("/api/v1/audit", params={**params, "before": page1["next_before"]}).json()
    assert [e["customer_id"] for e in page2["entries"]] == [first.id]
    page3 = admin.get("/api/v1/audit", params={**params, "before": page2["next_before"]}).json()
    assert page3 == {"entries": [], "next_before": None}
    yesterday = admin.get("/api/v1/audit", params={"until": "2020-01-01"}).json()
    assert yesterday["entries"] == []


def test_reading_the_trail_is_recorded_and_kept_from_other_roles(server: TestClient, opened: Opened) -> None:
    first = opened[0]
    for role in (Role.RECEPTIONIST, Role.ADVISOR):
        assert login(server, role).get("/api/v1/audit").status_code == 403
    assert TestClient(server.app).get("/api/v1/audit").status_code == 401
    manager = login(server, Role.MANAGER)
    bad = manager.get("/api/v1/audit", params={"since": "2026-03-02", "until": "2026-03-01"})
    assert bad.status_code == 422 and "开始日期晚于结束日期" in bad.json()["detail"]
    assert manager.get("/api/v1/audit", params={"limit": 501}).status_code == 422
    for extreme in ({"since": "0001-01-01"}, {"until": "9999-12-31"}):
        assert manager.get("/api/v1/audit", params=extreme).status_code == 422, extreme
    assert (
        manager.get("/api/v1/audit", params={"since": "1970-01-01", "until": "9999-12-30"}).status_code == 200
    )
    manager.get("/api/v1/audit", params={"customer_id": first.id})
    with Session(server.app.state.engine) as s:
        row = s.exec(
            select(AuditLog).where(AuditLog.action == "read_audit").order_by(AuditLog.id.desc())
        ).first()
    assert row is not None and (row.who, row.role, row.customer_id) == ("manager", "manager", first.id)
    assert row.detail == f"customer_id={first.id}"


def test_command_line_prints_the_rows(server: TestClient, opened: Opened) -> None:
    first = opened[0]
    env = {"DEALERGATE_DATABASE_URL": str(server.app.state.settings.database_url)}
    res = CliRunner().invoke(
        cli, ["server", "audit", "--customer", str(first.id), "--action", "view_customer"], env=env
    )
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert len(lines) == 3 and "reception" in lines[0] and "advisor" in lines[1]
    assert f"#{first.id} {first.name}" in lines[0]
    assert lines[-1] == f"2 条 / rows (customer_id={first.id} action=view_customer)"
