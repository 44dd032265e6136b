"""Kiosk content cards: managers and admins write them (/api/v1/kiosk-cards), the kiosk reads the
ones showing today (/api/v1/kiosk/cards, kiosk token). Authored text, no customer data: no audit.
"""

from __future__ import annotations

import hmac
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, func, select

from server import kiosk_cards
from server.api.dashboard import Manager
from server.api.deps import MAX_ROW_ID, RowId, SessionDep, SettingsDep
from server.api.fields import screen_text
from server.api.pages import _staff_page
from server.auth import MANAGER_ROLES
from server.db import local_today, utc_now
from server.models import KioskCard, Vehicle

router = APIRouter(tags=["kiosk content"])

Kind = Literal["offer", "service", "insurance", "other"]
PlateTypeTarget = Literal[
    "blue", "yellow", "yellow_double", "new_energy_small", "new_energy_large", "coach", "trailer", "hk_macao"
]
Title = screen_text(1, 40)
TitleEn = screen_text(0, 80)
BodyZh = screen_text(0, 300, multiline=True)
BodyEn = screen_text(0, 600, multiline=True)
Brand = screen_text(1, 32)
Position = Annotated[int, Field(ge=0, le=10_000)]


class CardFields(BaseModel):
    """What a manager may set; bodies name exactly these fields (an unknown one is a 422)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = "offer"
    title_en: TitleEn = ""
    body_zh: BodyZh = ""
    body_en: BodyEn = ""
    brand: Brand | None = None
    plate_type: PlateTypeTarget | None = None
    in_loop: bool = True
    on_arrival: bool = False
    active: bool = True
    starts_on: date | None = None
    ends_on: date | None = None
    position: Position | None = None


class CardCreate(CardFields):
    title_zh: Title


class CardUpdate(BaseModel):
    """A partial change: only the fields sent are changed (null clears brand, plate type, dates)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    title_zh: Title | None = None
    title_en: TitleEn | None = None
    body_zh: BodyZh | None = None
    body_en: BodyEn | None = None
    brand: Brand | None = None
    plate_type: PlateTypeTarget | None = None
    in_loop: bool | None = None
    on_arrival: bool | None = None
    active: bool | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    position: Position | None = None


class CardOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]] = Field(
        max_length=500, description="every card's id, in the order the kiosk shows them"
    )


def _problem(
    in_loop: bool, on_arrival: bool, starts_on: date | None, ends_on: date | None
) -> tuple[str, str] | None:
    """(field, message) of a contradiction between fields, or None."""
    if not (in_loop or on_arrival):
        return "on_arrival", (
            "in_loop / on_arrival: a card must show in the loop or on the arrival screen "
            "/ 至少选择一个展示位置（轮播或到店页）"
        )
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        return "ends_on", "ends_on: the end date is before the start date / 结束日期早于开始日期"
    return None


def _unprocessable(msg: str, field: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"type": "value_error", "loc": ["body", field], "msg": msg, "input": None}],
    )


def _get(db: SessionDep, card_id: int) -> KioskCard:
    card = db.get(KioskCard, card_id)
    if card is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such card / 没有这张内容卡片")
    return card


@router.get("/kiosk-content", include_in_schema=False)
def kiosk_content_page(request: Request) -> Response:
    return _staff_page(request, "kiosk-content.html", MANAGER_ROLES)


@router.get("/api/v1/kiosk-cards")
def list_cards(db: SessionDep, settings: SettingsDep, staff: Manager) -> dict[str, Any]:
    """Every card in the kiosk's order, with `live` (showing today); `brands`: the brands on file."""
    today = local_today(settings.tz)
    brands = db.exec(select(Vehicle.brand).group_by(col(Vehicle.brand)).order_by(func.count().desc())).all()
    return {
        "cards": [kiosk_cards.full(c, today) for c in kiosk_cards.ordered(db)],
        "brands": list(brands)[:60],
        "today": today.isoformat(),
    }


@router.post("/api/v1/kiosk-cards", status_code=status.HTTP_201_CREATED)
def create_card(body: CardCreate, db: SessionDep, settings: SettingsDep, staff: Manager) -> dict[str, Any]:
    """A new card; without a `position` it goes last."""
    problem = _problem(body.in_loop, body.on_arrival, body.starts_on, body.ends_on)
    if problem is not None:
        raise _unprocessable(problem[1], problem[0])
    data = body.model_dump()
    if data["position"] is None:
        last = db.exec(select(func.max(KioskCard.position))).one()
        data["position"] = min(10_000, (last or 0) + 1)
    card = KioskCard(**data, updated_by=staff.username)
    db.add(card)
    db.commit()
    db.refresh(card)
    return kiosk_cards.full(card, local_today(settings.tz))


@router.put("/api/v1/kiosk-cards/order")
def order_cards(body: CardOrder, db: SessionDep, settings: SettingsDep, staff: Manager) -> dict[str, Any]:
    """Reorder: `ids` must name every card once; the kiosk shows them in this order."""
    cards = {c.id: c for c in kiosk_cards.ordered(db)}
    if len(set(body.ids)) != len(body.ids) or set(body.ids) != set(cards):
        raise _unprocessable("ids: name every card exactly once / 需包含全部卡片且不重复", "ids")
    for i, card_id in enumerate(body.ids, start=1):
        cards[card_id].position = i
        db.add(cards[card_id])
    db.commit()
    return list_cards(db, settings, staff)


@router.patch("/api/v1/kiosk-cards/{card_id}")
def update_card(
    card_id: RowId, body: CardUpdate, db: SessionDep, settings: SettingsDep, staff: Manager
) -> dict[str, Any]:
    card = _get(db, card_id)
    changes = body.model_dump(exclude_unset=True)
    for field in ("kind", "title_zh", "title_en", "body_zh", "body_en", "in_loop", "on_arrival", "active",
                  "position"):  # fmt: skip
        if field in changes and changes[field] is None:
            raise _unprocessable(f"{field}: may not be null / 不能为空", field)
    merged = {**card.model_dump(), **changes}
    problem = _problem(merged["in_loop"], merged["on_arrival"], merged["starts_on"], merged["ends_on"])
    if problem is not None:
        raise _unprocessable(problem[1], problem[0])
    for field, value in changes.items():
        setattr(card, field, value)
    card.updated_by = staff.username
    card.updated_at = utc_now()
    db.add(card)
    db.commit()
    db.refresh(card)
    return kiosk_cards.full(card, local_today(settings.tz))


@router.delete("/api/v1/kiosk-cards/{card_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_card(card_id: RowId, db: SessionDep, staff: Manager) -> Response:
    db.delete(_get(db, card_id))
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/kiosk/cards")
def kiosk_cards_today(db: SessionDep, settings: SettingsDep, token: str = "") -> dict[str, Any]:
    """The cards showing today, in order (kiosk token, like /ws/kiosk): the loop shows those with
    `in_loop`, an arrival those its payload's `content.cards` names."""
    if not hmac.compare_digest(token.encode(), settings.kiosk_token.get_secret_value().encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "kiosk token required / 需要屏幕令牌")
    return {"cards": [kiosk_cards.public(c) for c in kiosk_cards.live_cards(db, local_today(settings.tz))]}
