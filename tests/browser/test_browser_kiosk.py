"""The waiting-area kiosk in a real browser: content tailored to the arriving car (model, region,
packages, seasonal offer, a QR code that really decodes to the self-service URL), back to the loop
after the idle timeout, a portrait layout, and a greeting by name only when the payload says the
customer consented (the rest of its privacy checks: test_browser_screens.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from dealergate.plates import mask_plate

from .harness import (
    DESKTOP,
    PORTRAIT,
    SELF_SERVICE_URL,
    UI_TIMEOUT_MS,
    Car,
    LiveServer,
    NewContext,
    PageWatch,
    Publish,
    collect_ws_frames,
    pushed_arrival,
    screenshot,
    wait_live,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_TIMEOUT_MS)
WELCOME_S = 3  # the kiosk's idle timeout in these tests (?welcome_s=)


def _open_kiosk(page: Page, server: LiveServer, welcome_s: int = WELCOME_S) -> None:
    page.goto(server.url(f"/kiosk?token=demo-kiosk&welcome_s={welcome_s}"))
    wait_live(page)
    expect(page.locator(".attract .slide.on")).to_be_visible()


def decode_qr(canvas: Locator) -> str:
    """What a phone reads from the QR code as drawn on screen (OpenCV's detector on a screenshot)."""
    image = cv2.imdecode(np.frombuffer(canvas.screenshot(), np.uint8), cv2.IMREAD_COLOR)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def test_welcome_is_tailored_then_the_loop_returns(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    page = new_context(DESKTOP).new_page()
    watch = PageWatch().attach(page)
    frames = collect_ws_frames(page)
    _open_kiosk(page, live_server)
    extras = page.request.get(live_server.url("/api/v1/kiosk/extras?token=demo-kiosk")).json()
    car = next_car()
    publish(car.plate, car.plate_type)
    card = page.locator(f'.welcome__card[data-plate="{mask_plate(car.plate)}"]')
    expect(card).to_be_visible()
    k = pushed_arrival(frames, mask_plate(car.plate), field="masked_plate")

    expect(card.locator(".welcome__car")).to_have_text(f"{car.brand} {car.model}")
    expect(card.locator(".claims-panel h2")).to_contain_text(car.model)
    expect(card.locator(".welcome__pkgs .pkg")).to_have_count(4)
    expect(card.locator(".pkg--rec")).to_have_attribute("data-package", k["content"]["package"])
    expect(card.locator(".offer h2")).not_to_be_empty()
    region = extras["region_claims"].get(k["region"])
    if region:
        expect(card.locator("[data-slot=region] .bars li")).to_have_count(len(region["top"]))
        expect(card.locator("[data-slot=region] h2")).to_contain_text(k["region"])
    else:
        expect(card.locator("[data-slot=region]")).to_have_count(0)
    qr = card.locator("[data-slot=self-service] canvas.qr")
    expect(qr).to_have_attribute("data-url", SELF_SERVICE_URL)
    assert decode_qr(qr) == SELF_SERVICE_URL

    # nobody else drives in: after the idle timeout the attract loop is back
    expect(page.locator("[data-slot=attract]")).to_be_visible(timeout=(WELCOME_S + 5) * 1000)
    expect(page.locator("[data-slot=welcome]")).to_be_hidden()
    expect(page.locator(".welcome__card")).to_have_count(0)
    assert watch.problems == [], "\n".join(watch.problems)


def test_portrait_kiosk_stacks_the_panels(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[[], Car]
) -> None:
    page = new_context(PORTRAIT).new_page()
    _open_kiosk(page, live_server, welcome_s=60)
    screenshot(page, "kiosk-portrait-loop", "zh")
    car = next_car()
    publish(car.plate, car.plate_type)
    card = page.locator(".welcome__card")
    expect(card).to_be_visible()
    columns = card.evaluate("c => getComputedStyle(c).gridTemplateColumns.split(' ').length")
    assert columns == 2, "portrait layout not applied"
    overflow = page.evaluate(
        """() => [...document.querySelectorAll('.welcome__card > *')]
             .filter(n => n.getBoundingClientRect().right > innerWidth + 1).map(n => n.className)"""
    )
    assert overflow == [], f"panels run off a portrait screen: {overflow}"
    assert decode_qr(card.locator("canvas.qr")) == SELF_SERVICE_URL
    screenshot(page, "kiosk-portrait", "zh")


def _fake_kiosk_feed(page: Page) -> list[WebSocketRoute]:
    """Stand in for the server on /ws/kiosk (to send payloads the server does not send yet)."""
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        ws.send(json.dumps({"type": "snapshot", "data": []}))
        sockets.append(ws)

    page.route_web_socket("**/ws/kiosk*", route)
    return sockets


def _kiosk_payload(**extra: object) -> str:
    return json.dumps(
        {
            "type": "arrival",
            "data": {
                "event_id": str(uuid.uuid4()),
                "captured_at": "2026-01-01T10:00:00+08:00",
                "masked_plate": "粤A·12***",
                "region": "粤",
                "plate_color": "blue",
                "brand": "丰田",
                "model": "凯美瑞",
                "content": {"claim_topics": ["glass"], "seasonal_offer": "flood_cover", "package": "full"},
                **extra,
            },
        },
        ensure_ascii=False,
    )


def test_greeting_by_name_only_with_consent(live_server: LiveServer, new_context: NewContext) -> None:
    page = new_context(DESKTOP).new_page()
    feed = _fake_kiosk_feed(page)
    _open_kiosk(page, live_server, welcome_s=60)
    title = page.locator(".welcome__title")

    feed[-1].send(_kiosk_payload(greeting={"zh": "王先生", "en": "Mr Wang"}))  # no consent flag
    expect(title).to_have_text("欢迎光临")
    assert "王先生" not in page.content()
    feed[-1].send(_kiosk_payload(greeting={"zh": "王先生", "en": "Mr Wang"}, consent_greeting=False))
    expect(title).to_have_text("欢迎光临")
    assert "王先生" not in page.content()

    feed[-1].send(_kiosk_payload(greeting={"zh": "王先生", "en": "Mr Wang"}, consent_greeting=True))
    expect(title).to_have_text("王先生，欢迎光临")
    page.click(".lang-switch button[data-lang='en']")
    expect(title).to_have_text("Welcome, Mr Wang")


def test_a_consenting_customer_is_greeted_by_honorific_only(
    live_server: LiveServer, new_context: NewContext, publish: Publish, next_car: Callable[..., Car]
) -> None:
    """End to end through the server: consent on file -> 王先生 on the kiosk, still no full name,
    phone or full plate anywhere in the page or on its socket."""
    page = new_context(DESKTOP).new_page()
    frames = collect_ws_frames(page)
    _open_kiosk(page, live_server, welcome_s=60)
    car = next_car(consent=True)
    publish(car.plate, car.plate_type)
    expect(page.locator(".welcome__title")).to_have_text(f"{car.honorific}，欢迎光临")
    html = page.content()
    for secret in (car.name, car.phone, car.plate):
        assert secret not in html and not any(secret in f for f in frames), secret
