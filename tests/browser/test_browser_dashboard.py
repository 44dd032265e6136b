"""The manager dashboard in a real browser: the figures the server computed are the ones drawn, every
chart is a live Chart.js chart, the CSV buttons download Excel-ready files in the page's language,
and only managers and admins get in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from time import monotonic, sleep
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import create_engine
from sqlmodel import Session, col, func, select

from server.models import Arrival

from .harness import (
    UI_TIMEOUT_MS,
    Car,
    LiveServer,
    NewContext,
    PageWatch,
    Publish,
    log_in,
    set_lang,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_TIMEOUT_MS)
TZ = ZoneInfo("Asia/Shanghai")
TABLES = ["renewal_weekly", "arrivals_daily", "conversion_segment", "conversion_channel", "conversion_model",
          "lapse_reasons", "lost_destination"]  # fmt: skip


def _arrivals_today(server: LiveServer) -> tuple[int, int]:
    """(all, matched) alerted arrivals of today, counted straight from the table."""
    start = datetime.combine(datetime.now(TZ).date(), time.min, tzinfo=TZ)
    engine = create_engine(server.db_url)
    try:
        with Session(engine) as s:
            base = (
                select(func.count())
                .select_from(Arrival)
                .where(col(Arrival.captured_at) >= start, col(Arrival.alerted).is_(True))
            )
            return s.exec(base).one(), s.exec(base.where(col(Arrival.vehicle_id).is_not(None))).one()
    finally:
        engine.dispose()


def _chart_data(page: Page, key: str) -> dict:
    return page.evaluate(
        """key => { const c = Chart.getChart(document.querySelector(`[data-table=${key}] canvas`));
        return { type: c.config.type, labels: c.data.labels, sets: c.data.datasets.map(d => [d.label, d.data]) }; }""",
        key,
    )


def _open_dashboard(page: Page, server: LiveServer, weeks: int = 26) -> dict:
    """Log in as the manager, pick the period, wait for the drawing; returns the API's figures."""
    log_in(page, server, "manager", "/dashboard")
    with page.expect_response(lambda r: f"/api/v1/dashboard?weeks={weeks}" in r.url) as res:
        page.select_option("[data-slot=weeks]", str(weeks))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return res.value.json()


def test_dashboard_draws_the_servers_figures(
    live_server: LiveServer,
    new_context: NewContext,
    publish: Publish,
    next_car: Callable[[], Car],
    next_stranger: Callable[[], str],
) -> None:
    car = next_car()
    already = _arrivals_today(live_server)[0]  # other modules' arrivals of today (the server is shared)
    publish(car.plate, car.plate_type)
    publish(next_stranger())
    page = new_context().new_page()
    watch = PageWatch().attach(page)
    deadline = monotonic() + UI_TIMEOUT_MS / 1000
    while (counts := _arrivals_today(live_server))[0] < already + 2 and monotonic() < deadline:
        sleep(0.1)  # the server stores both arrivals before the dashboard counts them
    expected_all, expected_matched = counts
    body = _open_dashboard(page, live_server)

    assert [c.get_attribute("data-table") for c in page.locator(".dash-card").all()] == TABLES
    summary = body["summary"]
    rate = f"{summary['renewal_rate'] * 100:.1f}%"
    expect(page.locator("[data-kpi=rate] .kpi__v")).to_have_text(rate)
    expect(page.locator("[data-kpi=due] .kpi__v")).to_have_text(str(summary["due"]))
    # today's arrivals row agrees with the arrival table itself
    today = page.locator("[data-table=arrivals_daily] tbody tr").last
    expect(today.locator("td").nth(1)).to_have_text(str(expected_all))
    expect(today.locator("td").nth(2)).to_have_text(str(expected_matched))
    expect(today.locator("td").nth(4)).to_have_text(f"{expected_matched / expected_all * 100:.1f}%")

    segment = _chart_data(page, "conversion_segment")
    table = next(t for t in body["tables"] if t["key"] == "conversion_segment")
    assert segment["type"] == "bar"
    assert segment["labels"] == [r[0]["zh"] for r in table["rows"]]
    assert segment["sets"][0][1] == [r[3] for r in table["rows"]]
    weekly = _chart_data(page, "renewal_weekly")
    assert weekly["type"] == "line" and weekly["sets"][0][0] == "全店"
    assert len(weekly["labels"]) == 26
    expect(page.locator("[data-slot=notes] li")).to_have_count(len(body["footnotes"]))
    expect(page.locator("[data-slot=notes]")).to_contain_text("续保率 = 续保台数 / 到期台数")

    set_lang(page, "en")  # charts and tables are redrawn in English
    expect(page.locator("[data-table=renewal_weekly] h2")).to_have_text("Weekly renewal rate by advisor")
    assert _chart_data(page, "renewal_weekly")["sets"][0][0] == "Whole dealership"
    expect(page.locator("[data-kpi=rate] .kpi__l")).to_have_text("Renewal rate")
    assert watch.problems == [], "\n".join(watch.problems)


def test_a_slow_answer_for_the_period_picked_before_does_not_overwrite_the_newer_one(
    live_server: LiveServer, new_context: NewContext
) -> None:
    """The manager picks 26 weeks while the page's first load (12 weeks) is still on its way; when that
    old answer lands last, the page keeps drawing the 26 weeks the period picker shows."""
    page = new_context().new_page()
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # answered only once the newer period is drawn

    page.route(lambda url: "/api/v1/dashboard?weeks=12" in url, hold)
    log_in(page, live_server, "manager", "/dashboard")
    deadline = monotonic() + UI_TIMEOUT_MS / 1000
    while not held and monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the page never asked for its first period"
    with page.expect_response(lambda r: "/api/v1/dashboard?weeks=26" in r.url) as newer:
        page.select_option("[data-slot=weeks]", "26")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    period = newer.value.json()["period"]
    drawn = page.locator("[data-slot=range]").inner_text()
    assert period["start"] in drawn and period["end"] in drawn

    with page.expect_response(lambda r: "/api/v1/dashboard?weeks=12" in r.url) as older:
        held[0].continue_()
    assert older.value.finished() is None  # the old answer's body is in the page
    # time for the old answer to be drawn, were it drawn
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")
    assert page.locator("[data-slot=range]").inner_text() == drawn
    assert page.locator("[data-slot=weeks]").input_value() == "26"


def test_csv_buttons_download_excel_ready_files(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    _open_dashboard(page, live_server, weeks=12)
    button = page.locator("[data-table=conversion_channel] [data-action=csv]")
    with page.expect_download() as dl:
        button.click()
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM: Excel would garble the Chinese"
    assert raw.decode("utf-8-sig").splitlines()[0] == "原渠道,到期台数,续保台数,续保率"
    assert dl.value.suggested_filename.startswith("dealergate-conversion_channel-")

    set_lang(page, "en")
    with page.expect_download() as dl:
        page.locator("[data-table=conversion_channel] [data-action=csv]").click()
    assert Path(dl.value.path()).read_bytes().decode("utf-8-sig").splitlines()[0] == (
        "Previous channel,Due,Renewed,Renewal rate"
    )


def test_dashboard_is_for_managers_only(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    log_in(page, live_server, "receptionist", "/frontdesk")
    page.goto(live_server.url("/dashboard"))
    expect(page).to_have_url(live_server.url("/login?next=/dashboard&denied=1"))
    assert page.request.get(live_server.url("/api/v1/dashboard")).status == 403


def test_one_stores_figures(live_server: LiveServer, new_context: NewContext) -> None:
    """The store list offers the whole group and every store by name in the page's language; a store's
    figures are the API's for that store, its CSV links and the page's URL carry it (a reload keeps it)."""
    from server.seed import DEMO_SISTER_SITE

    page = new_context().new_page()
    watch = PageWatch().attach(page)
    group = _open_dashboard(page, live_server)
    stores = page.locator("[data-slot=site] option")
    expect(stores).to_have_count(1 + len(group["sites"]))
    expect(stores.first).to_have_text("全部门店")
    expect(page.locator(f"[data-slot=site] option[value={DEMO_SISTER_SITE.code}]")).to_have_text(
        DEMO_SISTER_SITE.name_zh
    )
    with page.expect_response(lambda r: f"site={DEMO_SISTER_SITE.code}" in r.url) as res:
        page.select_option("[data-slot=site]", DEMO_SISTER_SITE.code)
    sister = res.value.json()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert sister["site"] == DEMO_SISTER_SITE.code
    assert sister["summary"]["due"] <= group["summary"]["due"]
    expect(page.locator("[data-kpi=due] .kpi__v")).to_have_text(f"{sister['summary']['due']:,}")
    csv = page.locator("[data-table=lapse_reasons] [data-action=csv]").get_attribute("href") or ""
    assert f"site={DEMO_SISTER_SITE.code}" in csv and "weeks=26" in csv
    assert f"site={DEMO_SISTER_SITE.code}" in page.url

    set_lang(page, "en")
    expect(page.locator(f"[data-slot=site] option[value={DEMO_SISTER_SITE.code}]")).to_have_text(
        DEMO_SISTER_SITE.name_en
    )
    expect(page.locator("[data-slot=site]")).to_have_value(DEMO_SISTER_SITE.code)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-slot=site]")).to_have_value(DEMO_SISTER_SITE.code)
    assert watch.problems == [], "\n".join(watch.problems)
