"""Kiosk content cards (等候区内容): which of the cards managers wrote show today, where, for which car.

Cards are authored text (offers, service promotions, insurance explainers) and never carry customer
data, so the kiosk may have them all; an arrival's kiosk payload names the ids of those targeted at
that car (brand, plate type), nothing about the car's owner.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from server.cache import DatabaseCache
from server.models import KioskCard

KINDS = ("offer", "service", "insurance", "other")
ARRIVAL_CARDS_MAX_AGE_S = 60.0
"""How long arrivals reuse the list of arrival-screen cards instead of reading it again. A change
committed in this process (the managers' page) is seen by the next arrival; one made by another
process (an import, a second server) within this many seconds."""


def is_live(card: KioskCard, today: date) -> bool:
    """Switched on, and today within its schedule (an open end is no limit)."""
    return (
        card.active
        and (card.starts_on is None or card.starts_on <= today)
        and (card.ends_on is None or today <= card.ends_on)
    )


def ordered(session: Session) -> list[KioskCard]:
    return list(session.exec(select(KioskCard).order_by(col(KioskCard.position), col(KioskCard.id))).all())


def live_cards(session: Session, today: date) -> list[KioskCard]:
    return [c for c in ordered(session) if is_live(c, today)]


def matches(card: KioskCard, brand: str | None, plate_type: str | None) -> bool:
    """A card targeted at a brand / plate type fits only a car of that brand / plate type."""
    return (card.brand is None or card.brand == brand) and (
        card.plate_type is None or card.plate_type == plate_type
    )


def arrival_card_ids(session: Session, today: date, brand: str | None, plate_type: str | None) -> list[int]:
    """Ids of today's arrival-screen cards that fit this car: those targeted at it (brand, plate type)
    first, then the untargeted ones, each in the managers' order (the kiosk shows the first)."""
    fitting = [c for c in _arrival_cards.get(session) if is_live(c, today) and matches(c, brand, plate_type)]
    targeted = [c for c in fitting if c.brand is not None or c.plate_type is not None]
    return [c.id for c in targeted + [c for c in fitting if c not in targeted]]  # type: ignore[misc]


def _load_arrival_cards(session: Session) -> tuple[KioskCard, ...]:
    """The `on_arrival` cards in the managers' order, live or not, as detached copies (safe to share
    between threads and sessions): every arrival needs them, managers seldom change them."""
    return tuple(KioskCard(**c.model_dump()) for c in ordered(session) if c.on_arrival)


_arrival_cards = DatabaseCache(_load_arrival_cards, ARRIVAL_CARDS_MAX_AGE_S, KioskCard)


def public(card: KioskCard) -> dict[str, Any]:
    """What the kiosk gets of a card: its text and where it shows (no author)."""
    return {
        "id": card.id,
        "kind": card.kind,
        "title": {"zh": card.title_zh, "en": card.title_en or card.title_zh},
        "body": {"zh": card.body_zh, "en": card.body_en or card.body_zh},
        "brand": card.brand,
        "plate_type": card.plate_type,
        "in_loop": card.in_loop,
        "on_arrival": card.on_arrival,
    }


def full(card: KioskCard, today: date) -> dict[str, Any]:
    """The managers' view: every field, and whether the card shows today (`live`)."""
    return {
        "id": card.id,
        "kind": card.kind,
        "title_zh": card.title_zh,
        "title_en": card.title_en,
        "body_zh": card.body_zh,
        "body_en": card.body_en,
        "brand": card.brand,
        "plate_type": card.plate_type,
        "in_loop": card.in_loop,
        "on_arrival": card.on_arrival,
        "active": card.active,
        "starts_on": card.starts_on.isoformat() if card.starts_on else None,
        "ends_on": card.ends_on.isoformat() if card.ends_on else None,
        "position": card.position,
        "live": is_live(card, today),
        "updated_by": card.updated_by,
        "updated_at": card.updated_at.isoformat(timespec="seconds"),
    }


def demo_cards() -> list[KioskCard]:
    """The demo dataset's cards: a seasonal offer, a service promotion, an explainer, a green-plate card."""
    return [
        KioskCard(
            kind="offer",
            title_zh="雨季涉水险限时优惠",
            title_en="Rainy-season flood cover offer",
            body_zh="5月至9月续保加购涉水险（发动机涉水损失）享 8 折，暴雨积水路段不再提心吊胆。",
            body_en="Add flood / engine-water cover to your renewal from May to September at 20% off.",
            in_loop=True,
            on_arrival=True,
            position=1,
            updated_by="seed",
        ),
        KioskCard(
            kind="service",
            title_zh="续保即送免费保养一次",
            title_en="Renew here, get a free maintenance service",
            body_zh="在本店续保商业险，即赠基础保养一次（机油、机滤、工时），另享全年免费洗车。",
            body_en="Renew your commercial cover with us and get one basic service (oil, filter, labour) "
            "plus free car washes all year.",
            in_loop=True,
            on_arrival=False,
            position=2,
            updated_by="seed",
        ),
        KioskCard(
            kind="insurance",
            title_zh="什么是无赔款优待（NCD）？",
            title_en="What is the no-claim discount (NCD)?",
            body_zh="连续不出险，保费逐年下降：最多可低至基准保费的 5 折。小刮蹭自费修，可能更划算。",
            body_en="Each claim-free year lowers your premium, down to half the base rate. "
            "Paying for a small scratch yourself can cost less.",
            in_loop=True,
            on_arrival=True,
            position=3,
            updated_by="seed",
        ),
        KioskCard(
            kind="insurance",
            title_zh="新能源车专属保险条款",
            title_en="New-energy vehicle cover",
            body_zh="绿牌车适用新能源汽车专属条款：三电系统（电池、电机、电控）损失和充电时的意外均在保障范围内。",
            body_en="Green-plate cars get the new-energy clauses: battery, motor and controller damage "
            "and accidents while charging are covered.",
            plate_type="new_energy_small",
            in_loop=False,
            on_arrival=True,
            position=4,
            updated_by="seed",
        ),
    ]
