"""The advisor's tablet (顾问平板, 1280×800 landscape and 800×1280 portrait) in a real browser: an
arrival pushed over MQTT lands in the queue, opening it shows the customer file (policy timeline,
claims, visits, contacts) and the payload's talking points and objection replies, the quote builder
stores the package the advisor taps, the contact log shows the API's own 422 for a lost renewal
without a lapse reason, a follow-up date puts a task in "my tasks", and the task moves through its
statuses. Screenshots of both orientations land in test-artifacts/screens/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from server.models import AuditLog, Claim, ContactLog, Policy, Quote, RenewalTask

from .harness import (
    TABLET,
    UI_TIMEOUT_MS,
    Car,
    LiveServer,
    NewContext,
    PageWatch,
    Publish,
    collect_ws_frames,
    log_in,
    pushed_arrival,
    screenshot,
    set_lang,
    wait_live,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_TIMEOUT_MS)

TABLET_PORTRAIT = {"width": 800, "height": 1280}
MIN_TARGET_PX = 44  # the smallest comfortable touch target


@pytest.fixture()
def db(live_server: LiveServer) -> Iterator[Callable[[], Session]]:
    """Sessions on the live server's database (to check what the tablet stored)."""
    engine = create_engine(live_server.db_url)
    yield lambda: Session(engine)
    engine.dispose()


def _tablet(
    new_context: NewContext, server: LiveServer, viewport: dict[str, int]
) -> tuple[Page, PageWatch, list[str]]:
    page = new_context(viewport).new_page()
    watch = PageWatch().attach(page)
    frames = collect_ws_frames(page)
    log_in(page, server, "advisor", "/advisor")
    wait_live(page)
    expect(page.locator("[data-slot=user]")).to_have_text("续保专员 陈志强")
    return page, watch, frames


def _open_arrival(page: Page, car: Car, publish: Publish) -> None:
    publish(car.plate, car.plate_type)
    item = page.locator(f'.arrival-card--queue[data-plate="{car.plate}"]')
    expect(item.locator(".aq-name")).to_have_text(car.honorific)
    item.click()
    expect(item).to_have_attribute("aria-selected", "true")
    expect(page.locator(".d-name")).to_contain_text(car.honorific)


def _small_targets(page: Page) -> list[str]:
    """Visible buttons and tappable cards smaller than a fingertip."""
    return page.evaluate(
        """(min) => [...document.querySelectorAll('main button, main [role=button], main summary')]
            .filter((n) => n.offsetParent !== null)
            .map((n) => [n.getBoundingClientRect(), n])
            .filter(([r]) => r.height < min || r.width < min)
            .map(([r, n]) => `${n.textContent.trim().slice(0, 20)} ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        MIN_TARGET_PX,
    )


def test_arrival_opens_file_talking_points_and_quote(
    live_server: LiveServer,
    new_context: NewContext,
    publish: Publish,
    next_car: Callable[[], Car],
    db: Callable[[], Session],
) -> None:
    page, watch, frames = _tablet(new_context, live_server, TABLET)
    assert watch.problems == [], "the page loads clean:\n" + "\n".join(watch.problems)
    car = next_car()
    _open_arrival(page, car, publish)
    a = pushed_arrival(frames, car.plate)
    vehicle_id = a["vehicle"]["id"]

    # talking points and objection replies: the pushed payload's, in Chinese
    points = [p["zh"] for p in a["task"]["talking_points"]]
    assert points, "a known car comes with talking points"
    expect(page.locator("[data-slot=points] li")).to_have_text(points)
    objections = a["task"]["objections"]
    shown = page.locator("[data-slot=objections] .objection")
    expect(shown).to_have_count(len(objections))
    if objections:
        first = shown.first
        expect(first.locator("p")).to_be_hidden()
        first.locator("summary").click()
        expect(first.locator("p")).to_contain_text(objections[0]["reply"]["zh"])

    # the customer file opened with the tap (and was audited): policy timeline newest first, claims
    with db() as s:
        policies = s.exec(
            select(Policy.policy_no)
            .where(Policy.vehicle_id == vehicle_id)
            .order_by(col(Policy.end_date).desc())
        ).all()
        claims = s.exec(select(Claim).where(Claim.vehicle_id == vehicle_id)).all()
    timeline = page.locator("[data-slot=policy-timeline] li")
    expect(timeline).to_have_count(len(policies))
    expect(timeline.first).to_have_attribute("data-policy-no", policies[0])
    expect(timeline.first).to_have_class("timeline__item is-current")
    expect(page.locator("[data-slot=claims] tbody tr")).to_have_count(max(1, len(claims)))
    expect(page.locator("[data-slot=contacts]")).to_be_visible()
    with db() as s:
        audited = s.exec(
            select(AuditLog.who).where(
                AuditLog.action == "view_customer", AuditLog.customer_id == a["customer"]["id"]
            )
        ).all()
    assert "advisor" in audited, "opening the customer file is audited"

    # quote builder: four packages side by side, one recommended, a deductible re-prices them
    page.click("[data-action=load-quotes]")
    cards = page.locator("[data-slot=packages] .pkg")
    expect(cards).to_have_count(4)
    expect(page.locator(".pkg--recommended")).to_have_count(1)
    expect(page.locator(".pkg--recommended")).to_have_attribute("aria-pressed", "true")
    comprehensive = page.locator('.pkg[data-package="comprehensive"]')
    before = float(comprehensive.get_attribute("data-premium") or 0)
    page.click("[data-field=deductible] [data-value='1000']")
    expect(page.locator("[data-field=deductible] [data-value='1000']")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(comprehensive).not_to_have_attribute("data-premium", str(before))
    premium = float(comprehensive.get_attribute("data-premium") or 0)
    assert 0 < premium < before, "an absolute deductible lowers the premium"
    comprehensive.click()
    expect(comprehensive).to_have_attribute("aria-pressed", "true")
    page.click("[data-action=save-quote]")
    saved = page.locator("[data-slot=quote-saved]")
    expect(saved).to_contain_text("已保存报价：周到保障")
    quote_id = int(saved.get_attribute("data-quote-id") or 0)
    with db() as s:
        quote = s.get(Quote, quote_id)
    assert quote is not None and quote.vehicle_id == vehicle_id
    assert (quote.package, quote.deductible, quote.premium) == ("comprehensive", 1000, premium)
    assert _small_targets(page) == []
    screenshot(page, "advisor-quote", "zh")
    page.locator("[data-slot=detail]").evaluate("n => { n.scrollTop = 0; }")
    screenshot(page, "advisor-tablet", "zh")

    set_lang(page, "en")
    expect(page.locator("[data-slot=points] li")).to_have_text([p["en"] for p in a["task"]["talking_points"]])
    expect(page.locator(".d-nav [data-go=quote]")).to_have_text("Quote")
    expect(saved).to_contain_text("Quote saved: Comprehensive")
    expect(page.locator(".adv-tabs [data-tab=tasks]")).to_contain_text("My tasks")
    screenshot(page, "advisor-tablet", "en")
    page.reload()
    wait_live(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert watch.problems == [], "\n".join(watch.problems)


def test_contact_log_validation_follow_up_and_task_status(
    live_server: LiveServer,
    new_context: NewContext,
    publish: Publish,
    next_car: Callable[[], Car],
    db: Callable[[], Session],
) -> None:
    page, watch, frames = _tablet(new_context, live_server, TABLET_PORTRAIT)
    car = next_car()
    _open_arrival(page, car, publish)
    a = pushed_arrival(frames, car.plate)
    vehicle_id = a["vehicle"]["id"]

    # the arrival opened a task for today: in "my tasks" under due today, not overdue
    page.click(".adv-tabs [data-tab=tasks]")
    mine = page.locator(f'.task-card[data-plate="{car.plate}"][data-kind="arrival"]')
    page.click("[data-filter=due_today]")
    expect(mine).to_be_visible()
    page.click("[data-filter=overdue]")
    expect(mine).to_have_count(0)
    page.click("[data-filter=open]")
    expect(mine).to_be_visible()

    # task status: open → in progress (PATCH)
    bar = page.locator("[data-slot=taskbar]")
    expect(bar).to_have_attribute("data-task-id", mine.get_attribute("data-task-id") or "")
    task_id = int(bar.get_attribute("data-task-id") or 0)
    bar.locator("[data-task-action=in_progress]").click()
    expect(bar.locator("[data-slot=task-status]")).to_have_text("处理中")
    with db() as s:
        assert s.get(RenewalTask, task_id).status == "in_progress"

    # considering, call again in 3 days: the follow-up shows in my tasks
    page.click("[data-field=outcome] [data-value=considering]")
    page.click("[data-follow-in='3']")
    page.fill("textarea[name=note]", "下周带家人来看方案")
    page.click("[data-action=save-contact]")
    msg = page.locator("[data-slot=contact-msg]")
    expect(msg).to_have_attribute("data-ok", "true")
    due = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=3)).isoformat()
    expect(msg).to_have_text(f"联系记录已保存，{due} 跟进")
    follow = page.locator(f'.task-card[data-plate="{car.plate}"][data-kind="follow_up"]')
    expect(follow).to_contain_text(due)
    expect(mine).to_have_count(0)  # the arrival task was answered
    expect(page.locator("[data-slot=contacts] tbody tr").first).to_contain_text("考虑中")

    # lost without a lapse reason: the API's 422, shown inline; nothing stored
    page.click("[data-field=outcome] [data-value=lost]")
    expect(page.locator("[name=next_follow_up]")).to_have_count(0)
    page.click("[data-action=save-contact]")
    expect(msg).to_have_text("战败须标注流失原因")
    expect(msg).to_have_attribute("data-ok", "false")
    with db() as s:
        outcomes = s.exec(select(ContactLog.outcome).where(ContactLog.vehicle_id == vehicle_id)).all()
    assert outcomes == ["considering"]

    # with a reason it is stored, and the renewal's open work is closed
    page.click("[data-field=lapse_reason] [data-value=moved_sold]")
    page.click("[data-action=save-contact]")
    expect(msg).to_have_attribute("data-ok", "true")
    expect(follow).to_have_count(0)
    expect(page.locator("[data-slot=contacts] tbody tr").first).to_contain_text("搬迁/卖车")
    with db() as s:
        rows = s.exec(
            select(ContactLog).where(ContactLog.vehicle_id == vehicle_id).order_by(col(ContactLog.id))
        ).all()
    assert [(r.outcome, r.lapse_reason, r.channel) for r in rows] == [
        ("considering", None, "in_store"),
        ("lost", "moved_sold", "in_store"),
    ]
    assert rows[0].note == "下周带家人来看方案"
    assert _small_targets(page) == []
    screenshot(page, "advisor-portrait", "zh")
    expected = [p for p in watch.problems if "/api/v1/contacts" in p and "422" in p]
    assert expected, "the refused contact went to the server"
    assert [p for p in watch.problems if p not in expected] == [], "\n".join(watch.problems)


def test_a_sister_store_customer_is_marked_on_the_tablet(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[..., Car]
) -> None:
    """The queue and the opened arrival say the file belongs to the sister store (in both languages)."""
    page, watch, frames = _tablet(new_context, live_server, TABLET)
    car = next_car(sister=True)
    _open_arrival(page, car, publish)
    a = pushed_arrival(frames, car.plate)
    assert a["other_site"] is True and a["file_site"]["code"] == car.site
    queued = page.locator(f'.arrival-card--queue[data-plate="{car.plate}"] [data-slot=other-site]')
    expect(queued).to_have_text("兄弟店")
    head = page.locator(".d-head [data-slot=other-site]")
    expect(head).to_have_text(f"兄弟店客户 · {a['file_site']['zh']}")
    set_lang(page, "en")
    expect(head).to_have_text(f"Customer of {a['file_site']['en']}")
    expect(queued).to_have_text("Sister store")
    assert watch.problems == [], "\n".join(watch.problems)


def test_an_unsure_read_warns_the_advisor_before_the_name(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[..., Car]
) -> None:
    """A read the edge was unsure of (a half-hidden province) matches the car on file only as probable:
    the opened arrival says to check the plate, as the front desk's card does (in both languages)."""
    page, watch, frames = _tablet(new_context, live_server, TABLET)
    car = next_car()
    publish(car.plate, car.plate_type, confidence=0.31)
    item = page.locator(f'.arrival-card--queue[data-plate="{car.plate}"]')
    expect(item.locator(".aq-name")).to_have_text(car.honorific)
    item.click()
    a = pushed_arrival(frames, car.plate)
    assert a["match"] == "probable" and a["match_note"] is not None
    warn = page.locator(".d-card .d-warn")
    expect(warn).to_have_text(a["match_note"]["zh"])
    set_lang(page, "en")
    expect(warn).to_have_text(a["match_note"]["en"])
    assert watch.problems == [], "\n".join(watch.problems)
