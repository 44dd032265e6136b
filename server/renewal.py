"""Renewal rules of the dealership playbooks (docs: /work/shared/DOMAIN.md) as pure functions.

No database and no clock: every function takes plain data and `today`, so the rules are easy to
read, to unit-test and to change when a dealership's playbook differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

Tier = Literal[90, 60, 30, "expired"] | None
DEALER_CHANNEL = "dealer"
LAPSE_TO_LOST_DAYS = 3 * 365
"""Lapsed longer than three years the customer counts as lost (流失), not lapsed (断保)."""
RECENT_SERVICE_DAYS = 365
"""A service visit within a year makes the customer 'services here' (在修)."""
NEW_CAR_START_SLACK_DAYS = 60
"""A first policy starting within this many days of purchase was sold with the new car."""


@dataclass(frozen=True)
class Label:
    """A short user-facing text in both languages the screens speak."""

    zh: str
    en: str


class Segment(StrEnum):
    """Renewal segments: they decide the pitch and who should serve the customer."""

    NEW_CAR_FIRST = "new_car_first"  # 新车首年
    RENEWAL = "renewal"  # 续转续
    SERVICE_ONLY = "service_only"  # 在修不在保
    LAPSED = "lapsed"  # 断保
    LOST = "lost"  # 流失


SEGMENT_LABELS: dict[Segment, Label] = {
    Segment.NEW_CAR_FIRST: Label("新车首年", "New car, first renewal"),
    Segment.RENEWAL: Label("续转续", "Repeat renewal"),
    Segment.SERVICE_ONLY: Label("在修不在保", "Services here, insured elsewhere"),
    Segment.LAPSED: Label("断保", "Lapsed"),
    Segment.LOST: Label("流失", "Lost"),
}

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
"""The four packages (险种组合套餐) of the playbook, with their coverage codes."""


@dataclass(frozen=True)
class PolicyFacts:
    """What the rules need to know about one policy."""

    start_date: date
    end_date: date
    channel: str
    insurer: str = ""
    ncd_factor: float = 1.0
    premium: float = 0.0


def days_to_expiry(policy_end: date, today: date) -> int:
    """Days until the policy ends: 0 on the last day of cover, negative once it has lapsed."""
    return (policy_end - today).days


def reminder_tier(days: int | None) -> Tier:
    """Reminder tier of the 90 / 60 / 30-day playbook; None when expiry is further away or unknown."""
    if days is None:
        return None
    if days < 0:
        return "expired"
    if days <= 30:
        return 30
    if days <= 60:
        return 60
    if days <= 90:
        return 90
    return None


def latest_policy(policies: Sequence[PolicyFacts]) -> PolicyFacts | None:
    """The policy that ends last: the one a renewal would replace."""
    return max(policies, key=lambda p: p.end_date, default=None)


def has_recent_service(service_dates: Sequence[date], today: date) -> bool:
    return any(0 <= (today - d).days <= RECENT_SERVICE_DAYS for d in service_dates)


def segment(
    *,
    purchase_date: date | None,
    policies: Sequence[PolicyFacts],
    service_dates: Sequence[date],
    today: date,
) -> Segment:
    """Segment of a vehicle's renewal, from its policy history and its service visits here.

    Order matters: a lapse is reported before the channel, because an uninsured car is the
    most urgent case whoever sold the last policy.
    """
    latest = latest_policy(policies)
    serviced = has_recent_service(service_dates, today)
    if latest is None:
        return Segment.SERVICE_ONLY if serviced else Segment.LOST
    if latest.end_date < today:
        return Segment.LOST if (today - latest.end_date).days > LAPSE_TO_LOST_DAYS else Segment.LAPSED
    if latest.channel != DEALER_CHANNEL:
        return Segment.SERVICE_ONLY if serviced else Segment.LOST
    first_with_car = (
        len(policies) == 1
        and purchase_date is not None
        and 0 <= (latest.start_date - purchase_date).days <= NEW_CAR_START_SLACK_DAYS
    )
    return Segment.NEW_CAR_FIRST if first_with_car else Segment.RENEWAL


def renewal_grade(
    seg: Segment,
    *,
    dealer_renewals: int,
    claims_last_year: int,
    recent_service: bool,
) -> str:
    """Grade A (sure) to D (likely lost) for the renewal list, from the playbook's signals."""
    if seg is Segment.LOST:
        return "D"
    if seg is Segment.LAPSED:
        return "C" if recent_service else "D"
    if seg is Segment.SERVICE_ONLY:
        return "C"
    if claims_last_year >= 2:  # premium goes up: the customer will shop around
        return "B"
    if seg is Segment.NEW_CAR_FIRST:
        return "A" if recent_service else "B"
    return "A" if dealer_renewals >= 2 and recent_service else "B"


def next_action(seg: Segment, days: int | None) -> Label:
    """The one thing the front desk should do now that this customer is in the store."""
    if seg is Segment.LOST:
        return Label(
            "流失客户回店：热情接待，了解流失原因，赠送保养券挽回",
            "Lost customer is back: welcome them, ask why they left, offer a service voucher",
        )
    if days is None:
        return Label(
            "在修不在保，到期日未知：请续保专员趁保养等候了解到期日并报价",
            "Insured elsewhere, expiry unknown: a renewal specialist should ask the date and quote",
        )
    if days < 0:
        return Label(
            f"已脱保 {-days} 天：提醒无保上路风险，立即报价，今日投保",
            f"Lapsed {-days} days ago: explain the risk of driving uninsured, quote and insure today",
        )
    prefix = {
        Segment.SERVICE_ONLY: Label("在修不在保：", "Insured elsewhere: "),
        Segment.NEW_CAR_FIRST: Label("新车首年续保：", "First renewal of a new car: "),
    }.get(seg, Label("", ""))
    tier = reminder_tier(days)
    if tier is None:
        body = Label(
            f"保单有效，{days} 天后到期，正常接待并介绍增值服务",
            f"policy valid for {days} more days, serve as usual and mention value-added services",
        )
    elif tier == 90:
        body = Label(
            f"{days} 天后到期，介绍续保套餐与本店理赔服务，约定报价时间",
            f"{days} days to expiry, introduce packages and claim service, agree a time to quote",
        )
    elif tier == 60:
        body = Label(
            f"{days} 天后到期，请续保专员当场报价、对比套餐",
            f"{days} days to expiry, have a renewal specialist quote now and compare packages",
        )
    elif days > 7:
        body = Label(
            f"{days} 天后到期，当场促成续保，平板 15 分钟办结",
            f"{days} days to expiry, close the renewal now on the tablet (15 minutes)",
        )
    elif days > 0:
        body = Label(
            f"仅剩 {days} 天到期，最后提醒，立即安排续保专员办理",
            f"only {days} days left, final reminder: a specialist should renew it right now",
        )
    else:
        body = Label(
            "今天到期，明天起无保，立即安排续保专员办理",
            "expires today, uninsured from tomorrow: a specialist should renew it right now",
        )
    en = prefix.en + body.en if prefix.en else body.en[:1].upper() + body.en[1:]
    return Label(prefix.zh + body.zh, en)


def unknown_vehicle_action() -> Label:
    """What to do for a plate the dealership has no file on."""
    return Label(
        "新客户/未建档：热情接待，登记车主与车辆信息",
        "New customer, no file: welcome them and register owner and car",
    )


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


def talking_points(
    seg: Segment,
    *,
    days: int | None,
    latest: PolicyFacts | None,
    claims_last_year: int,
    serviced_here: bool,
) -> list[Label]:
    """Short points for the advisor's conversation, using the playbook's pricing levers."""
    points: list[Label] = []
    if latest is not None and latest.ncd_factor < 1.0:
        points.append(
            Label(
                f"无赔款优待系数 {latest.ncd_factor:.2f}：连续无出险，续保保费更低",
                f"No-claim discount factor {latest.ncd_factor:.2f}: claim-free years keep the premium low",
            )
        )
    if claims_last_year >= 2:
        points.append(
            Label(
                f"去年出险 {claims_last_year} 次：可选绝对免赔额（500/1000 元）降低保费",
                f"{claims_last_year} claims last year: a 500/1000 元 absolute deductible lowers the premium",
            )
        )
    if latest is not None and latest.premium > 0:
        daily = latest.premium / 365
        points.append(
            Label(
                f"每天约 {daily:.1f} 元即可获得全年保障",
                f"Cover costs about {daily:.1f} 元 a day",
            )
        )
    if seg is Segment.SERVICE_ONLY and serviced_here:
        points.append(
            Label(
                "常在本店保养：本店续保可直赔、修理厂特约、理赔专员 10 分钟响应",
                "Services here: insure here too for direct claims, dealer repairs, 10-minute claim response",
            )
        )
    if seg is Segment.LAPSED:
        points.append(
            Label("无保上路风险大，可当天出单生效", "Driving uninsured is risky: cover can start today")
        )
    if days is not None and 0 <= days <= 30:
        points.append(
            Label(
                "续保赠送：免费保养一次 + 洗车 + 道路救援",
                "Renewal gift: free service, car wash and roadside assistance",
            )
        )
    return points
