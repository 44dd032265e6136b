"""Which package (险种组合套餐) to propose, with the season's add-ons and the value-adds of a renewal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from server.renewal.facts import Label
from server.renewal.segments import Segment

PACKAGES: dict[str, tuple[Label, tuple[str, ...]]] = {
    "basic": (Label("基本保障", "Basic"), ("third_party", "passenger", "no_deductible")),
    "economy": (Label("经济保障", "Economy"), ("own_damage", "third_party", "theft", "no_deductible")),
    "comprehensive": (
        Label("周到保障", "Comprehensive"),
        ("own_damage", "third_party", "theft", "no_deductible", "passenger"),
    ),
    "full": (
        Label("完全保障", "Full"),
        (
            "own_damage",
            "third_party",
            "theft",
            "no_deductible",
            "passenger",
            "glass",
            "scratch",
            "repair_at_dealer",
        ),
    ),
}
"""The four packages of the playbook, with their coverage codes."""

VALUE_ADDS: tuple[Label, ...] = (
    Label("免费保养一次", "One free maintenance service"),
    Label("精致洗车", "Car wash"),
    Label("24 小时道路救援", "24-hour roadside assistance"),
    Label("续保积分可兑换钣喷代金券", "Points redeemable for body-shop vouchers"),
)
"""What the dealership bundles with every renewal (DOMAIN: value-adds)."""


@dataclass(frozen=True)
class Recommendation:
    """The package to propose first, plus seasonal add-on coverages not already in it."""

    key: str
    label: Label
    coverages: tuple[str, ...]
    addons: tuple[str, ...]
    value_adds: tuple[Label, ...] = VALUE_ADDS

    @property
    def all_coverages(self) -> tuple[str, ...]:
        return self.coverages + self.addons


def suggest_package(seg: Segment, *, vehicle_age_years: float | None, price_class: str) -> str:
    """Package key to propose first (the playbook: full for new premium cars, basic to re-win lapsed)."""
    if seg in (Segment.LAPSED, Segment.LOST):
        return "economy" if (vehicle_age_years or 0) < 6 else "basic"
    if vehicle_age_years is not None and vehicle_age_years >= 10:
        return "basic"
    if vehicle_age_years is not None and vehicle_age_years >= 6:
        return "economy"
    if seg is Segment.NEW_CAR_FIRST or price_class == "premium":
        return "full"
    return "comprehensive"


def seasonal_offer(today: date) -> str:
    """Seasonal bundle for the kiosk: South China's rainy and typhoon season needs flood cover."""
    if 4 <= today.month <= 9:
        return "flood_cover"
    if today.month in (12, 1, 2):
        return "winter_check"
    return "value_services"


SEASONAL_ADDONS: dict[str, tuple[str, ...]] = {
    "flood_cover": ("flood",),  # rainy / typhoon season: engine water damage
    "winter_check": ("roadside",),  # ice and snow: towing and jump starts
    "value_services": (),
}
"""Coverage codes each seasonal bundle adds to the proposed package."""


def seasonal_addons(today: date, coverages: Iterable[str]) -> tuple[str, ...]:
    """The season's add-on coverages the package does not already include."""
    have = set(coverages)
    return tuple(c for c in SEASONAL_ADDONS[seasonal_offer(today)] if c not in have)


def recommend(
    seg: Segment, *, vehicle_age_years: float | None, price_class: str, today: date
) -> Recommendation:
    key = suggest_package(seg, vehicle_age_years=vehicle_age_years, price_class=price_class)
    label, covers = PACKAGES[key]
    return Recommendation(key, label, covers, seasonal_addons(today, covers))
