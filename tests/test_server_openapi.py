"""Property-based walk of the published API (schemathesis): generated requests to every operation,
as a logged-in manager and as the waiting-area kiosk (its token, no login).

- no operation answers 5xx, whatever the input;
- the kiosk token never gets a personal field: no customer name, phone or full plate on file
  appears in any response it receives.

Derandomized (the same examples every run) and a few examples per operation, on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlmodel import Session, select

from server.auth import SESSION_COOKIE, new_session, sign_session
from server.config import ServerSettings
from server.main import create_app
from server.models import Customer, Role, StaffUser, Vehicle

KIOSK_TOKEN = "kiosk-token-for-openapi-tests"
EXAMPLES = settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    config = ServerSettings(
        database_url=database_url,
        var_dir=tmp / "var",
        seed_demo=True,
        kiosk_token=KIOSK_TOKEN,
        daily_jobs=False,
    )
    with TestClient(create_app(config, ingest=False)) as client:
        yield client


@pytest.fixture(scope="module")
def api(app_client: TestClient) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", app_client.app)


@pytest.fixture(scope="module")
def manager_cookie(app_client: TestClient) -> dict[str, str]:
    with Session(app_client.app.state.engine) as s:
        user = s.exec(select(StaffUser).where(StaffUser.role == Role.MANAGER.value)).first()
    token = sign_session(new_session(user, 1), app_client.app.state.session_key)
    return {SESSION_COOKIE: token}


@pytest.fixture(scope="module")
def personal_values(app_client: TestClient) -> set[str]:
    """Every customer name and phone and every plate on file: none may reach the kiosk."""
    with Session(app_client.app.state.engine) as s:
        names = {c.name for c in s.exec(select(Customer)).all()} | {
            c.phone for c in s.exec(select(Customer)).all()
        }
        plates = set(s.exec(select(Vehicle.plate)).all())
    assert names and plates
    return names | plates


def operations(api: schemathesis.schemas.BaseSchema) -> list:
    ops = [result.ok() for result in api.get_all_operations()]
    assert len(ops) >= 15, "the whole published API is walked"
    return ops


def walk(api: schemathesis.schemas.BaseSchema, check: Callable[[schemathesis.Case], None]) -> None:
    """Run `check(case)` on generated cases of every operation (hypothesis drives the inputs)."""
    for op in operations(api):

        @EXAMPLES
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            check(case)

        run()


def test_manager_never_gets_a_server_error(
    api: schemathesis.schemas.BaseSchema, manager_cookie: dict[str, str]
) -> None:
    def check(case: schemathesis.Case) -> None:
        case.validate_response(case.call(cookies=manager_cookie), checks=[not_a_server_error])

    walk(api, check)


def test_the_leak_detector_sees_a_customer_file(
    app_client: TestClient, manager_cookie: dict[str, str], personal_values: set[str]
) -> None:
    """The kiosk check below would notice a leak: a staff response is full of personal values."""
    staff_view = TestClient(app_client.app, cookies=manager_cookie).get("/api/v1/customers/1").text
    assert any(v in staff_view for v in personal_values)


def test_kiosk_token_never_gets_personal_data(
    api: schemathesis.schemas.BaseSchema, personal_values: set[str]
) -> None:
    def check(case: schemathesis.Case) -> None:
        response = case.call(params={**(case.query or {}), "token": KIOSK_TOKEN})
        case.validate_response(response, checks=[not_a_server_error])
        leaked = sorted(v for v in personal_values if v in response.text)
        assert leaked == [], f"{case.method} {case.formatted_path} gave the kiosk {leaked[:5]}"

    walk(api, check)
