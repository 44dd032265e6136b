"""Logging a test client in as a staff member, for the server's route tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from server.models import Role
from server.seed import DEMO_LOGINS

_DEMO = {login.role: (login.username, login.password) for login in DEMO_LOGINS}
TEST_PASSWORD = "dealergate"
"""The password tests give the staff users they create themselves."""


def login(client: TestClient, who: Role | str) -> TestClient:
    """A separate client (its own cookie jar) on the same app, logged in as the demo user of role
    `who`, or as the user named `who` with `TEST_PASSWORD`."""
    other = TestClient(client.app)
    user, password = _DEMO[who] if isinstance(who, Role) else (who, TEST_PASSWORD)
    res = other.post("/api/v1/auth/login", json={"username": user, "password": password})
    assert res.status_code == 200, res.text
    return other
