"""Renewal segments (新车首年 / 续转续 / 在修不在保 / 断保 / 流失) from a car's policy and visit history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from server.renewal.facts import DEALER_CHANNEL, Label, PolicyFacts

LAPSE_TO_LOST_DAYS = 3 * 365
"""Lapsed (断保) up to three years; longer than that the customer counts as lost (流失)."""
RECENT_SERVICE_DAYS = 365
"""A service visit within a year makes the customer 'services here' (在修)."""
NEW_CAR_START_SLACK_DAYS = 60
"""A first policy starting within this many days of purchase was sold with the new car."""


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


def latest_policy(policies: Sequence[PolicyFacts]) -> PolicyFacts | None:
    """The policy that ends last: the one a renewal would replace."""
    return max(policies, key=lambda p: p.end_date, default=None)


def has_recent_service(service_dates: Sequence[date], today: date) -> bool:
    return any(0 <= (today - d).days <= RECENT_SERVICE_DAYS for d in service_dates)


def dealer_renewals(policies: Sequence[PolicyFacts]) -> int:
    """Renewals sold here: dealer policies after the first one (the first came with the car)."""
    return max(0, sum(1 for p in policies if p.channel == DEALER_CHANNEL) - 1)


def segment(
    *,
    purchase_date: date | None,
    policies: Sequence[PolicyFacts],
    service_dates: Sequence[date],
    today: date,
) -> Segment:
    """Segment of a vehicle's renewal, from its policy history and its service visits here.

    Order matters: a lapse is reported before the channel, because an uninsured car is the
    most urgent case whoever sold the last policy. DOMAIN.md's "lapsed 1–3 years" is read as
    "lapsed, for up to three years": a policy that ended last week is 断保 too, not yet 流失.
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
