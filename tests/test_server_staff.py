"""Staff accounts from the command line (`dealergate server user`), and what a change does to the
sessions already open: a new password or role, or a disabled account, ends them at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

import server.api.ws as ws_module
from dealergate.cli import app as cli
from server.config import ServerSettings
from server.main import create_app
from server.models import AuditLog, StaffUser
from server.push import Audience


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A seeded server without MQTT, and the environment that points the CLI at its database."""
    tmp: Path = tmp_path_factory.mktemp("staff")
    env = {"DEALERGATE_DATABASE_URL": database_url, "DEALERGATE_VAR_DIR": str(tmp / "var")}
    settings = ServerSettings(database_url=database_url, var_dir=tmp / "var", seed_demo=True)
    with TestClient(create_app(settings, ingest=False)) as client:
        yield client, env


def user_cli(env: dict[str, str], *args: str, password: str | None = None) -> tuple[int, str]:
    stdin = None if password is None else password + "\n"
    res = CliRunner().invoke(cli, ["server", "user", *args], input=stdin, env=env)
    return res.exit_code, res.output


def log_in(client: TestClient, username: str, password: str) -> TestClient:
    c = TestClient(client.app, follow_redirects=False)
    res = c.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert res.status_code == 200, res.text
    return c


def test_add_list_and_log_in(server: tuple[TestClient, dict[str, str]]) -> None:
    client, env = server
    code, out = user_cli(
        env,
        "add",
        "fd.wang",
        "--name",
        "前台 王芳",
        "--role",
        "receptionist",
        "--password-stdin",
        password="front-desk-1",
    )
    assert code == 0, out
    assert "fd.wang: 已添加 / added" in out
    code, out = user_cli(env, "list")
    row = next(line for line in out.splitlines() if line.startswith("fd.wang"))
    assert "前台 王芳" in row and "receptionist" in row and "启用 active" in row
    me = log_in(client, "fd.wang", "front-desk-1").get("/api/v1/me").json()
    assert me == {
        "username": "fd.wang",
        "display_name": "前台 王芳",
        "role": "receptionist",
        "home": "/frontdesk",
    }
    with Session(client.app.state.engine) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "staff.add")).one()
    assert audit.who.startswith("cli:") and audit.detail.startswith("fd.wang receptionist")


@pytest.mark.parametrize(
    ("args", "password", "says"),
    [
        (("add", "fd.wang", "--name", "x", "--role", "receptionist"), "long-enough", "already exists"),
        (("add", "Bad Name", "--name", "x", "--role", "receptionist"), "long-enough", "invalid username"),
        (("add", "adv.li", "--name", "x", "--role", "boss"), "long-enough", "unknown role 'boss'"),
        (("add", "adv.li", "--name", "x", "--role", "advisor"), "short", "8 to 128 characters"),
        (
            ("add", "adv.li", "--name", "x", "--role", "advisor", "--site", "nowhere"),
            "long-enough",
            "no store",
        ),
        (("add", "adv.li", "--name", " ", "--role", "advisor"), "long-enough", "display name"),
        (("passwd", "ghost"), "long-enough", "no user ghost"),
        (("role", "reception", "boss"), None, "unknown role"),
        (("disable", "ghost"), None, "no user ghost"),
    ],
)
def test_refused_changes_say_why_and_write_nothing(
    server: tuple[TestClient, dict[str, str]], args: tuple[str, ...], password: str | None, says: str
) -> None:
    client, env = server
    with Session(client.app.state.engine) as s:
        before = [(u.username, u.role, u.active, u.password_hash) for u in s.exec(select(StaffUser))]
    stdin_args = ("--password-stdin",) if password is not None else ()
    code, out = user_cli(env, *args, *stdin_args, password=password)
    assert code == 2 and says in out, out
    with Session(client.app.state.engine) as s:
        assert [(u.username, u.role, u.active, u.password_hash) for u in s.exec(select(StaffUser))] == before


def test_a_new_password_a_new_role_or_disabling_ends_open_sessions(
    server: tuple[TestClient, dict[str, str]],
) -> None:
    client, env = server
    assert (
        user_cli(
            env,
            "add",
            "adv.zhao",
            "--name",
            "续保专员 赵敏",
            "--role",
            "advisor",
            "--password-stdin",
            password="advisor-one",
        )[0]
        == 0
    )
    tablet = log_in(client, "adv.zhao", "advisor-one")
    phone = log_in(client, "adv.zhao", "advisor-one")
    assert tablet.get("/api/v1/me").status_code == 200 and tablet.get("/advisor").status_code == 200

    assert user_cli(env, "passwd", "adv.zhao", "--password-stdin", password="advisor-two")[0] == 0
    for device in (tablet, phone):
        assert device.get("/api/v1/me").status_code == 401
        assert device.get("/advisor").headers["location"] == "/login?next=/advisor"
        with pytest.raises(WebSocketDisconnect) as refused, device.websocket_connect("/ws/advisor") as ws:
            ws.receive_json()
        assert refused.value.code == 1008
    assert (
        TestClient(client.app)
        .post("/api/v1/auth/login", json={"username": "adv.zhao", "password": "advisor-one"})
        .status_code
        == 401
    )
    tablet = log_in(client, "adv.zhao", "advisor-two")

    assert user_cli(env, "role", "adv.zhao", "manager")[0] == 0
    assert tablet.get("/api/v1/me").status_code == 401, "the cookie still says advisor"
    tablet = log_in(client, "adv.zhao", "advisor-two")
    assert tablet.get("/api/v1/me").json()["role"] == "manager"

    code, out = user_cli(env, "disable", "adv.zhao")
    assert code == 0 and "已停用" in out
    assert tablet.get("/api/v1/me").status_code == 401
    refused = TestClient(client.app).post(
        "/api/v1/auth/login", json={"username": "adv.zhao", "password": "advisor-two"}
    )
    assert refused.status_code == 401
    assert "停用 disabled" in next(
        line for line in user_cli(env, "list")[1].splitlines() if line.startswith("adv.zhao")
    )

    assert user_cli(env, "enable", "adv.zhao")[0] == 0
    assert log_in(client, "adv.zhao", "advisor-two").get("/api/v1/me").status_code == 200
    with Session(client.app.state.engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.detail.startswith("adv.zhao")))]
    assert actions == ["staff.add", "staff.password", "staff.role", "staff.disable", "staff.enable"]


def test_admins_manage_accounts_from_the_api(server: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = server
    admin = log_in(client, "admin", "dealergate")
    assert log_in(client, "manager", "dealergate").get("/api/v1/staff").status_code == 403
    listed = admin.get("/api/v1/staff").json()
    assert {"username": "reception", "display_name": "前台 林晓雯", "role": "receptionist", "site": "demo",
            "active": True} in listed  # fmt: skip

    new = {
        "username": "adv.sun",
        "display_name": "续保专员 孙丽",
        "role": "advisor",
        "password": "sun-advisor",
    }
    created = admin.post("/api/v1/staff", json=new)
    assert created.status_code == 201 and created.json()["site"] == "demo", created.text
    assert admin.post("/api/v1/staff", json=new).status_code == 409
    for bad, says in (
        ({**new, "username": "adv.qian", "role": "boss"}, "unknown role"),
        ({**new, "username": "adv.qian", "password": "short"}, "8 to 128"),
        ({**new, "username": "Adv Qian"}, "invalid username"),
    ):
        res = admin.post("/api/v1/staff", json=bad)
        assert res.status_code == 422 and says in res.json()["detail"], res.text
    assert admin.post("/api/v1/staff", json={**new, "username": "adv.qian", "extra": 1}).status_code == 422

    sun = log_in(client, "adv.sun", "sun-advisor")
    # a refused change writes nothing, not even the part that was fine
    res = admin.patch("/api/v1/staff/adv.sun", json={"role": "manager", "password": "short"})
    assert res.status_code == 422
    assert sun.get("/api/v1/me").json()["role"] == "advisor", "the role change was rolled back"
    assert admin.patch("/api/v1/staff/adv.sun", json={"active": False}).json()["active"] is False
    assert sun.get("/api/v1/me").status_code == 401
    assert admin.patch("/api/v1/staff/ghost", json={"active": True}).status_code == 404
    for own in ({"active": False}, {"role": "manager"}):
        res = admin.patch("/api/v1/staff/admin", json=own)
        assert res.status_code == 409 and "your own" in res.json()["detail"]
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(AuditLog).where(AuditLog.detail.startswith("adv.sun"))).all()
    assert [(r.who, r.action) for r in rows] == [("admin", "staff.add"), ("admin", "staff.disable")]


def test_an_open_screen_socket_closes_at_its_next_push_once_the_account_is_disabled(
    server: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, env = server
    monkeypatch.setattr(ws_module, "RECHECK_S", 0.0)  # check before every push, not every 30 s
    hub = client.app.state.hub

    # the tablet's socket runs on its own test client's event loop: publish there, as the server's
    # single loop does in production
    def publish(ws: WebSocketTestSession, n: int) -> None:
        ws.portal.call(hub.publish, Audience.ADVISOR, {"type": "probe", "data": n})

    assert user_cli(env, "add", "adv.wu", "--name", "续保专员 吴", "--role", "advisor", "--password-stdin",
                    password="advisor-wu")[0] == 0  # fmt: skip
    tablet = log_in(client, "adv.wu", "advisor-wu")
    with tablet.websocket_connect("/ws/advisor") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        publish(ws, 1)
        assert ws.receive_json() == {"type": "probe", "data": 1}
        assert user_cli(env, "disable", "adv.wu")[0] == 0
        publish(ws, 2)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008


def test_a_person_changes_their_own_password_and_stays_in_on_this_device_only(
    server: tuple[TestClient, dict[str, str]],
) -> None:
    client, env = server
    assert user_cli(env, "add", "fd.he", "--name", "前台 何", "--role", "receptionist", "--password-stdin",
                    password="front-he-1")[0] == 0  # fmt: skip
    desk, phone = log_in(client, "fd.he", "front-he-1"), log_in(client, "fd.he", "front-he-1")
    for body, code, says in (
        ({"current": "wrong-one", "new": "front-he-2"}, 403, "当前密码不正确"),
        ({"current": "front-he-1", "new": "front-he-1"}, 422, "must differ"),
        ({"current": "front-he-1", "new": "short"}, 422, "8 to 128"),
    ):
        res = desk.post("/api/v1/me/password", json=body)
        assert res.status_code == code and says in res.text, res.text
    changed = desk.post("/api/v1/me/password", json={"current": "front-he-1", "new": "front-he-2"})
    assert changed.status_code == 200 and changed.json()["username"] == "fd.he"
    assert desk.get("/api/v1/me").status_code == 200, "this device got a new session"
    assert phone.get("/api/v1/me").status_code == 401, "the other device is logged out"
    assert log_in(client, "fd.he", "front-he-2").get("/api/v1/me").status_code == 200
    assert (
        TestClient(client.app)
        .post("/api/v1/me/password", json={"current": "a", "new": "bbbbbbbb"})
        .status_code
        == 401
    )
    with Session(client.app.state.engine) as s:
        row = s.exec(
            select(AuditLog).where(AuditLog.action == "staff.password", AuditLog.detail == "fd.he")
        ).one()
    assert (row.who, row.role) == ("fd.he", "receptionist")
