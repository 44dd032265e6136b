"""The audit trail page in a real browser: a manager finds who opened a customer's file by typing
the car's plate, in Chinese and in English; the filter survives a reload; a wrong search says
what is wrong; other roles are kept out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from server.models import Vehicle

from .harness import UI_TIMEOUT_MS, LiveServer, NewContext, PageWatch, log_in, set_lang

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_TIMEOUT_MS)


def _owner_of(server: LiveServer, plate: str) -> int:
    engine = create_engine(server.db_url)
    try:
        with Session(engine) as s:
            owner = s.exec(select(Vehicle.customer_id).where(Vehicle.plate == plate)).one()
    finally:
        engine.dispose()
    assert owner is not None
    return owner


def test_manager_finds_who_opened_a_customers_file(live_server: LiveServer, new_context: NewContext) -> None:
    car = live_server.cars()[-1]
    customer_id = _owner_of(live_server, car.plate)
    advisor = new_context().new_page()
    log_in(advisor, live_server, "advisor", "/advisor")
    assert advisor.request.get(live_server.url(f"/api/v1/customers/{customer_id}")).status == 200

    page = new_context().new_page()
    watch = PageWatch().attach(page)
    log_in(page, live_server, "manager", "/audit")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    form = page.locator("[data-slot=filter]")
    form.locator("[name=plate]").fill(f"{car.plate[:2]}·{car.plate[2:].lower()}")
    form.locator("[name=action]").select_option("view_customer")
    form.locator("button[type=submit]").click()

    first = page.locator("[data-slot=rows] tr").first
    expect(first).to_have_attribute("data-action", "view_customer")
    expect(first.locator("td").nth(1)).to_contain_text("advisor")
    expect(first.locator("td").nth(1)).to_contain_text("续保专员")
    expect(first.locator("td").nth(2)).to_have_text("查看客户档案")
    expect(first.locator("td").nth(3)).to_have_text(f"#{customer_id} {car.name}")
    expect(page.locator("[data-slot=status]")).to_contain_text("共显示")
    set_lang(page, "en")
    expect(first.locator("td").nth(2)).to_have_text("Opened customer file")
    expect(page.locator("[data-slot=status]")).to_contain_text("entries shown")
    assert watch.problems == [], "\n".join(watch.problems)

    page.reload()  # the filter is in the address
    expect(page.locator("[name=action]")).to_have_value("view_customer")
    expect(page.locator("[data-slot=rows] tr").first).to_have_attribute("data-action", "view_customer")

    form.locator("[name=since]").fill("2026-03-02")
    form.locator("[name=until]").fill("2026-03-01")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-slot=status]")).to_contain_text("Check the search")
    expect(page.locator("[data-slot=status]")).to_contain_text("开始日期晚于结束日期")


def test_only_managers_and_admins_open_the_audit_page(
    live_server: LiveServer, new_context: NewContext
) -> None:
    page = new_context().new_page()
    log_in(page, live_server, "advisor", "/advisor")
    page.goto(live_server.url("/audit"))
    expect(page).to_have_url(live_server.url("/login?next=/audit&denied=1"))
    assert page.request.get(live_server.url("/api/v1/audit")).status == 403
