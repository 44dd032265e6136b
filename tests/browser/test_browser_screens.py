"""The screens in a real browser: live arrivals over MQTT reach the front desk, kiosk and advisor
pages as a person would see them, the kiosk never shows personal data, the language switch works
and sticks, and staff pages stay behind the login and its roles.

Full-page screenshots of every page (after an arrival, in both languages) land in
test-artifacts/screens/ for a human look.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from dealergate.plates import mask_plate

from .harness import (
    DESKTOP,
    SELF_SERVICE_URL,
    TABLET,
    UI_TIMEOUT_MS,
    UNKNOWN_PLATE,
    Car,
    LiveServer,
    NewContext,
    PageWatch,
    Publish,
    collect_ws_frames,
    credentials,
    log_in,
    screenshot,
    set_lang,
    wait_live,
    ws_probe,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_TIMEOUT_MS)

PAGES = [  # (screenshot name, path, demo role that logs in, or None); live screens first, so that
    # the home page's screenshot counts today's arrivals
    ("frontdesk", "/frontdesk", "receptionist"),
    ("kiosk", "/kiosk", None),
    ("advisor", "/advisor", "advisor"),
    ("dashboard", "/dashboard", "manager"),
    ("audit", "/audit", "manager"),
    ("staff", "/staff", "admin"),
    ("account", "/account", "receptionist"),
    ("index", "/", None),
    ("login", "/login", None),
]


def _open(page: Page, server: LiveServer, path: str, role: str | None) -> None:
    if role is None:
        page.goto(server.url(path))
    else:
        log_in(page, server, role, path)


def _wait_ready(page: Page, name: str) -> None:
    """Wait until the page has done its start-up requests (health, login, catalogue, socket)."""
    if name == "index":
        expect(page.locator("[data-slot=h-mqtt]")).to_have_attribute("data-ok", "true")
    elif name == "account":
        expect(page.locator("[data-slot=user]")).not_to_be_empty()
    elif name == "login":
        expect(page.locator("[data-slot=form]")).to_be_visible()
    elif name == "kiosk":
        wait_live(page)
        expect(page.locator(".attract .slide.on")).to_be_visible()
    elif name in ("dashboard", "audit", "staff"):
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
    else:
        wait_live(page)
        expect(page.locator("[data-slot=user]")).not_to_be_empty()


def _show_arrival(page: Page, name: str, car: Car, publish: Publish) -> None:
    """Drive `car` through the gate and wait until this page shows it."""
    publish(car.plate, car.plate_type)
    if name == "frontdesk":
        expect(page.locator(f'.arrival-card--featured[data-plate="{car.plate}"]')).to_be_visible()
    elif name == "kiosk":
        expect(page.locator(f'.welcome__card[data-plate="{mask_plate(car.plate)}"]')).to_be_visible()
    elif name == "advisor":
        page.locator(f'.arrival-card--queue[data-plate="{car.plate}"]').click()
        expect(page.locator(".d-name")).to_contain_text(car.honorific)


@pytest.mark.parametrize(("name", "path", "role"), PAGES, ids=[p[0] for p in PAGES])
def test_page_loads_without_errors(
    name: str,
    path: str,
    role: str | None,
    live_server: LiveServer,
    new_context: NewContext,
    publish: Publish,
    next_car: Callable[[], Car],
) -> None:
    page = new_context(TABLET if name == "advisor" else DESKTOP).new_page()
    watch = PageWatch().attach(page)
    _open(page, live_server, path, role)
    _wait_ready(page, name)
    if name in ("frontdesk", "kiosk", "advisor"):
        _show_arrival(page, name, next_car(), publish)
    screenshot(page, name, "zh")
    set_lang(page, "en")
    screenshot(page, name, "en")
    assert watch.problems == [], f"{path} complained:\n" + "\n".join(watch.problems)


def test_frontdesk_shows_a_known_customer_and_a_new_one(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    page = new_context().new_page()
    log_in(page, live_server, "receptionist", "/frontdesk")
    wait_live(page)

    car = next_car()
    publish(car.plate, car.plate_type)
    card = page.locator(f'.arrival-card--featured[data-plate="{car.plate}"]')
    expect(card.locator(".fa-name")).to_have_text(car.honorific)
    expect(card.locator(".fa-car")).to_contain_text(f"{car.brand} {car.model}")
    expect(card).to_have_attribute("data-known", "true")

    publish(UNKNOWN_PLATE)
    stranger = page.locator(f'.arrival-card--featured[data-plate="{UNKNOWN_PLATE}"]')
    expect(stranger.locator(".fa-name")).to_have_text("新客户/未建档")
    expect(stranger).to_have_attribute("data-known", "false")
    # the known customer moved into today's list and is still named there
    expect(page.locator(f'.arrival-card--compact[data-plate="{car.plate}"] .ac-name')).to_have_text(
        car.honorific
    )


def test_kiosk_never_shows_personal_data(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    page = new_context().new_page()
    frames = collect_ws_frames(page)
    page.goto(live_server.url("/kiosk"))
    wait_live(page)

    car = next_car()
    masked = mask_plate(car.plate)
    publish(car.plate, car.plate_type)
    card = page.locator(".welcome__card")
    expect(card).to_contain_text(car.model)
    # everything the welcome shows is checked below: claims, region, offer, packages, the QR code
    expect(card.locator(".welcome__pkgs .pkg")).to_have_count(4)
    expect(card.locator(".offer")).to_be_visible()
    expect(card.locator("canvas.qr")).to_have_attribute("data-url", SELF_SERVICE_URL)
    secrets = {"plate": car.plate, "name": car.name, "honorific": car.honorific, "phone": car.phone}
    extras = page.request.get(live_server.url("/api/v1/kiosk/extras?token=demo-kiosk")).text()
    assert [what for what, value in secrets.items() if value in extras] == [], (
        "kiosk extras carry personal data"
    )
    for lang in ("zh-CN", "en"):
        set_lang(page, lang)
        expect(card).to_be_visible()
        html = page.content()
        leaked = [what for what, value in secrets.items() if value in html]
        assert leaked == [], f"kiosk DOM ({lang}) shows the customer's {leaked}"
        assert masked in html, f"kiosk DOM ({lang}) lacks the masked plate {masked}"
    arrival_frames = [f for f in frames if masked in f]
    assert arrival_frames, "the kiosk socket delivered the arrival"
    leaked = [what for what, value in secrets.items() if any(value in f for f in frames)]
    assert leaked == [], f"kiosk socket carried the customer's {leaked}"
    expect(card).to_have_attribute("data-plate", masked)


def test_language_switch_flips_texts_and_persists(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    page = new_context().new_page()
    log_in(page, live_server, "receptionist", "/frontdesk")
    wait_live(page)
    car = next_car()
    publish(car.plate, car.plate_type)
    card = page.locator(f'.arrival-card--featured[data-plate="{car.plate}"]')
    logout = page.locator("[data-action=logout]")
    expect(card.locator(".fa-action__label")).to_have_text("下一步")
    expect(logout).to_have_text("退出")

    set_lang(page, "en")
    expect(logout).to_have_text("Log out")
    expect(page.locator("[data-i18n='fd.recent']")).to_have_text("Arrivals today")
    expect(card.locator(".fa-action__label")).to_have_text("Next step")  # drawn by script, redrawn
    expect(page.locator(".lang-switch button[data-lang=en]")).to_have_attribute("aria-pressed", "true")

    page.reload()
    wait_live(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(logout).to_have_text("Log out")
    expect(card.locator(".fa-action__label")).to_have_text("Next step")  # from the snapshot

    set_lang(page, "zh-CN")
    expect(logout).to_have_text("退出")
    page.reload()
    wait_live(page)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("[data-i18n='fd.recent']")).to_have_text("今日到店记录")
    expect(card.locator(".fa-action__label")).to_have_text("下一步")


def test_advisor_queue_shows_the_arrival(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    page = new_context(TABLET).new_page()
    log_in(page, live_server, "advisor", "/advisor")
    wait_live(page)
    car = next_car()
    publish(car.plate, car.plate_type)
    item = page.locator(f'.arrival-card--queue[data-plate="{car.plate}"]')
    expect(item.locator(".aq-name")).to_have_text(car.honorific)
    expect(item).to_contain_text(car.model)
    expect(page.locator("[data-slot=queue-empty]")).to_be_hidden()
    item.click()
    expect(item).to_have_attribute("aria-selected", "true")
    expect(page.locator(".d-name")).to_contain_text(car.honorific)


def test_staff_pages_redirect_to_login(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    for path in ("/frontdesk", "/advisor"):
        page.goto(live_server.url(path))
        expect(page).to_have_url(live_server.url(f"/login?next={path}"))
        expect(page.locator("[data-slot=form]")).to_be_visible()
        expect(page.locator("[data-slot=notice]")).to_be_hidden()
    assert ws_probe(page, "/ws/frontdesk").startswith("refused")
    assert ws_probe(page, "/ws/advisor").startswith("refused")


def test_login_form_posts_before_its_script_runs_and_keeps_the_password_out_of_addresses(
    live_server: LiveServer, new_context: NewContext
) -> None:
    """A click before login.js has taken the form over (here: scripts off altogether) makes the
    browser submit the form itself: it must POST, land where the login was going, and never put
    the password in an address (history, server logs)."""
    page = new_context(java_script_enabled=False).new_page()
    addresses: list[str] = []
    page.on("request", lambda req: addresses.append(req.url))
    user, password = credentials("manager")
    page.goto(live_server.url("/dashboard"))
    expect(page).to_have_url(live_server.url("/login?next=/dashboard"))

    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url("/login?next=/dashboard&failed=1"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_response(live_server.url("/dashboard")) as landed:
        page.click("button[type=submit]")
    assert landed.value.status == 200
    expect(page).to_have_url(live_server.url("/dashboard"))
    leaked = [a for a in addresses if "password" in a or password in a or "not-the-password" in a]
    assert leaked == [], leaked


def test_login_follows_next_only_within_the_site_and_says_how_long_a_locked_device_waits(
    live_server: LiveServer, new_context: NewContext
) -> None:
    page = new_context().new_page()
    user, password = credentials("manager")
    # "/\host" is "//host" to a browser: the script must not follow it off the site
    page.goto(live_server.url("/login?next=/%5Cevil.example/x"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url("/dashboard"), wait_until="commit")

    # a device over the failed-login limit: the server's 429 and its Retry-After, in minutes, in both languages
    page = new_context().new_page()
    page.route(
        "**/api/v1/auth/login",
        lambda route: route.fulfill(status=429, headers={"Retry-After": "125"}, json={"detail": "locked"}),
    )
    page.goto(live_server.url("/login"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    notice = page.locator("[data-slot=notice]")
    expect(notice).to_have_text("这台设备登录失败次数过多，请 3 分钟后再试")
    set_lang(page, "en")
    expect(notice).to_have_text("Too many failed logins from this device: try again in 3 min")
    expect(page).to_have_url(live_server.url("/login"))


@pytest.mark.parametrize(
    ("role", "home", "forbidden"),
    [("receptionist", "/frontdesk", "/advisor"), ("advisor", "/advisor", "/frontdesk")],
)
def test_each_role_opens_only_its_screens(
    role: str, home: str, forbidden: str, live_server: LiveServer, new_context: NewContext
) -> None:
    page = new_context().new_page()
    log_in(page, live_server, role, home)
    assert ws_probe(page, f"/ws{home}") == "open"
    assert ws_probe(page, f"/ws{forbidden}").startswith("refused")

    page.goto(live_server.url(forbidden))
    expect(page).to_have_url(live_server.url(f"/login?next={forbidden}&denied=1"))
    expect(page.locator("[data-slot=notice]")).to_have_text("当前账号无权访问该页面，请换一个账号登录")


def test_kiosk_socket_needs_its_token(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context().new_page()
    page.goto(live_server.url("/kiosk"))
    expect(page).to_have_url(live_server.url("/kiosk?token=demo-kiosk"))
    assert ws_probe(page, "/ws/kiosk?token=demo-kiosk") == "open"
    assert ws_probe(page, "/ws/kiosk?token=wrong").startswith("refused")
    assert ws_probe(page, "/ws/kiosk").startswith("refused")
