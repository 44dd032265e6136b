"""Kiosk content cards (issue 6) in a real browser: a manager writes a card on the touch-friendly
page (the server's 422 shown next to the field), the kiosk's attract loop shows it, and a card
targeted at a brand appears on the arrival screen of a car of that brand — not on the loop."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from dealergate.plates import mask_plate

from .harness import (
    DESKTOP,
    TABLET,
    Car,
    LiveServer,
    NewContext,
    PageWatch,
    Publish,
    log_in,
    screenshot,
    set_lang,
    wait_live,
)

pytestmark = pytest.mark.browser
CARD_TIMEOUT_MS = 30_000  # the loop turns once a second here (?slide_s=1) through ten-odd slides


def _write_card(page: Page, title_zh: str, title_en: str, body_zh: str, **options: object) -> int:
    """Fill in the new-card form and save; returns the new card's id."""
    page.click("[data-action=new]")
    form = page.locator("[data-slot=form]")
    expect(form).to_be_visible()
    form.locator("[name=title_zh]").fill(title_zh)
    form.locator("[name=title_en]").fill(title_en)
    form.locator("[name=body_zh]").fill(body_zh)
    if "brand" in options:
        form.locator("[name=brand]").fill(str(options["brand"]))
    form.locator("[name=in_loop]").set_checked(bool(options.get("in_loop", True)))
    form.locator("[name=on_arrival]").set_checked(bool(options.get("on_arrival", False)))
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/kiosk-cards") and r.request.method == "POST"
    ) as res:
        form.locator("button[type=submit]").click()
    assert res.value.status == 201, res.value.text()
    card_id = res.value.json()["id"]
    expect(page.locator(f'.kc-card[data-card-id="{card_id}"] h3')).to_have_text(title_zh)
    expect(form).to_be_hidden()
    return card_id


def test_manager_card_reaches_the_kiosk_loop_and_a_matching_arrival(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    tag = uuid.uuid4().hex[:6]
    car = next_car()
    manager = new_context(TABLET).new_page()
    manager_watch = PageWatch().attach(manager)
    log_in(manager, live_server, "manager", "/kiosk-content")
    expect(manager.locator("body")).to_have_attribute("data-ready", "true")
    expect(manager.locator(".kc-card")).not_to_have_count(0)  # the demo cards

    # the server's validation, shown next to the field it names
    manager.click("[data-action=new]")
    form = manager.locator("[data-slot=form]")
    form.locator("[name=title_zh]").fill(f"无效卡片{tag}")
    form.locator("[name=starts_on]").fill("2026-06-01")
    form.locator("[name=ends_on]").fill("2026-05-01")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-err=ends_on]")).to_contain_text("结束日期早于开始日期")
    form.locator("[data-action=cancel]").click()

    loop_title = f"秋季保养节{tag}"
    loop_id = _write_card(manager, loop_title, f"Autumn service days {tag}", "九月到店保养工时 8 折")

    kiosk = new_context(DESKTOP).new_page()
    kiosk_watch = PageWatch().attach(kiosk)
    kiosk.goto(live_server.url("/kiosk?token=demo-kiosk&welcome_s=30&slide_s=1"))
    wait_live(kiosk)
    slide = kiosk.locator(f'.attract .slide--card[data-card-id="{loop_id}"]')
    expect(slide.locator(".slide__title")).to_have_text(loop_title, timeout=CARD_TIMEOUT_MS)
    expect(slide.locator(".slide__sub")).to_have_text("九月到店保养工时 8 折")

    # written after the kiosk loaded its cards: the arrival's payload names it, the kiosk fetches it
    target_title = f"{car.brand}车主专享{tag}"
    target_id = _write_card(
        manager, target_title, f"For {car.brand} owners {tag}", "原厂配件更换享工时优惠",
        brand=car.brand, in_loop=False, on_arrival=True,
    )  # fmt: skip
    publish(car.plate, car.plate_type)
    welcome = kiosk.locator(f'.welcome__card[data-plate="{mask_plate(car.plate)}"]')
    expect(welcome).to_be_visible()
    expect(welcome.locator(f'.kcard[data-card-id="{target_id}"] h2')).to_have_text(target_title)
    expect(welcome.locator(f'[data-card-id="{loop_id}"]')).to_have_count(0)
    screenshot(kiosk, "kiosk-card-arrival", "zh")
    set_lang(kiosk, "en")
    expect(welcome.locator(f'.kcard[data-card-id="{target_id}"] h2')).to_have_text(
        f"For {car.brand} owners {tag}"
    )

    screenshot(manager, "kiosk-content", "zh")
    # switched off on the manager's page: no longer showing there
    row = manager.locator(f'.kc-card[data-card-id="{target_id}"]')
    row.locator("[data-action=toggle]").uncheck()
    expect(row).to_have_attribute("data-live", "false")
    for card_id in (loop_id, target_id):  # the live server is shared with other modules
        assert manager.request.delete(live_server.url(f"/api/v1/kiosk-cards/{card_id}")).status == 204

    # the invalid card above (its HTTP status and chromium's console line for it), nothing else
    expected = [p for p in manager_watch.problems if "422" in p and p.endswith("/api/v1/kiosk-cards")]
    assert len(expected) == 2, manager_watch.problems
    assert [p for p in manager_watch.problems if p not in expected] == [], "\n".join(manager_watch.problems)
    assert kiosk_watch.problems == [], "\n".join(kiosk_watch.problems)


def test_dashboard_links_to_the_content_page(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    log_in(page, live_server, "manager", "/dashboard")
    page.click("[data-action=kiosk-content]")
    # the URL is what this test is about; the page's content is checked by `expect` below (waiting for
    # the whole `load` of a busy dashboard timed out once under a loaded CI machine)
    page.wait_for_url(live_server.url("/kiosk-content"), wait_until="commit")
    expect(page.locator("[data-action=new]")).to_be_visible()
