"""Who is this customer for the renewal list: grade A–D with its reasons, the customer type that
drives the pitch, and the lapse-risk tags that say what could lose the renewal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise

from server.renewal.facts import (
    LAPSE_REASON_LABELS,
    ContactChannel,
    ContactFacts,
    ContactOutcome,
    Label,
    LapseReason,
    PolicyFacts,
    VisitFacts,
)
from server.renewal.segments import RECENT_SERVICE_DAYS, Segment

GRADE_LABELS: dict[str, Label] = {
    "A": Label("肯定成功", "Sure"),
    "B": Label("基本成功", "Likely"),
    "C": Label("可能成功", "Possible"),
    "D": Label("可能失败", "Likely lost"),
}
PRICE_GAP = 0.15
"""A competitor quote this much below ours makes price the risk (DOMAIN: 'more than ~15% lower')."""
UNREACHABLE_ATTEMPTS = 6
"""Failed attempts across phone / SMS / WeChat, since the last conversation, that mean 'unreachable'."""
LONG_REPAIR_DAYS = 7
"""A repair that kept the car longer than this is a service-experience risk."""
RISK_LOOKBACK_DAYS = 2 * 365
"""Complaints and long waits older than this no longer count."""
_REMOTE = frozenset({ContactChannel.PHONE, ContactChannel.SMS, ContactChannel.WECHAT})
_CONVERSATION = frozenset(
    {
        ContactOutcome.REACHED,
        ContactOutcome.CONSIDERING,
        ContactOutcome.AGREED,
        ContactOutcome.REFUSED,
        ContactOutcome.COMPLAINT,
        ContactOutcome.RENEWED,
        ContactOutcome.LOST,
    }
)
_CHEAP_CHANNELS = frozenset({"online", "insurer_direct"})
_TAGS = frozenset(LapseReason)


@dataclass(frozen=True)
class Grade:
    """A–D with the signals that produced it (the list shows why, so staff can disagree)."""

    letter: str
    score: int
    reasons: tuple[Label, ...]


class CustomerType(StrEnum):
    """Customer types of the playbook: they decide how to pitch, not what to sell."""

    PRICE = "price"  # 价格敏感型
    SERVICE = "service"  # 服务敏感型
    INDIFFERENT = "indifferent"  # 无所谓型


CUSTOMER_TYPE_LABELS: dict[CustomerType, Label] = {
    CustomerType.PRICE: Label("价格敏感型", "Price-sensitive"),
    CustomerType.SERVICE: Label("服务敏感型", "Service-sensitive"),
    CustomerType.INDIFFERENT: Label("无所谓型", "Indifferent"),
}


@dataclass(frozen=True)
class Profile:
    type: CustomerType
    reasons: tuple[Label, ...]


@dataclass(frozen=True)
class LapseRisk:
    tag: LapseReason
    reason: Label

    def as_dict(self) -> dict[str, str]:
        return {
            "tag": self.tag.value,
            **LAPSE_REASON_LABELS[self.tag].as_dict(),
            "reason": self.reason.as_dict(),
        }


def failed_attempts(contacts: Sequence[ContactFacts]) -> int:
    """Failed remote attempts since the last real conversation (the unreachable count)."""
    n = 0
    for c in sorted(contacts, key=lambda c: c.day):
        if c.outcome in _CONVERSATION or c.channel == ContactChannel.IN_STORE:
            n = 0
        elif c.outcome == ContactOutcome.NO_ANSWER and c.channel in _REMOTE:
            n += 1
    return n


def _last_conversation(contacts: Sequence[ContactFacts]) -> ContactFacts | None:
    talks = [c for c in contacts if c.outcome in _CONVERSATION]
    return max(talks, key=lambda c: c.day, default=None)


def grade(
    seg: Segment,
    *,
    dealer_renewals: int,
    claims_last_year: int,
    recent_service: bool,
    contacts: Sequence[ContactFacts] = (),
) -> Grade:
    """Grade A (sure) to D (likely lost) from claim history, service relationship, past renewals and
    contact results — the four signals of the playbook, each worth a point or two.

    Score ≥ 3 is A, 1–2 B, −1–0 C, below D; a lost customer (流失) is D whatever else is true.
    """
    reasons: list[Label] = []
    score = 0

    def add(points: int, label: Label) -> None:
        nonlocal score
        score += points
        reasons.append(label)

    if seg is Segment.LOST:
        return Grade("D", -9, (Label("流失客户", "Lost customer"),))
    base = {
        Segment.NEW_CAR_FIRST: (2, Label("本店售车，新车首年续保", "Bought here, first renewal")),
        Segment.RENEWAL: (1, Label("上年在本店投保", "Insured here last year")),
        Segment.SERVICE_ONLY: (-1, Label("在他处投保", "Insured elsewhere")),
        Segment.LAPSED: (-2, Label("已脱保", "Policy lapsed")),
    }[seg]
    add(*base)
    if dealer_renewals >= 2:
        add(1, Label(f"已在本店续保 {dealer_renewals} 次", f"Renewed here {dealer_renewals} times"))
    if recent_service:
        add(1, Label("近一年在本店保养维修", "Serviced here within a year"))
    else:
        add(-1, Label("一年以上未回店", "No visit for over a year"))
    if claims_last_year >= 2:
        add(
            -2,
            Label(
                f"去年出险 {claims_last_year} 次，保费上浮易比价",
                f"{claims_last_year} claims last year: premium rises, will shop around",
            ),
        )
    last = _last_conversation(contacts)
    if last is not None and last.outcome in (ContactOutcome.AGREED, ContactOutcome.RENEWED):
        add(2, Label("最近联系：同意续保", "Last contact: agreed to renew"))
    elif last is not None and last.outcome in (ContactOutcome.REFUSED, ContactOutcome.LOST):
        add(-2, Label("最近联系：明确拒绝", "Last contact: refused"))
    elif last is not None and last.outcome == ContactOutcome.COMPLAINT:
        add(-1, Label("最近联系：有投诉", "Last contact: a complaint"))
    failed = failed_attempts(contacts)
    if failed >= 3:
        add(-1, Label(f"连续 {failed} 次未联系上", f"{failed} failed contact attempts in a row"))
    letter = "A" if score >= 3 else "B" if score >= 1 else "C" if score >= -1 else "D"
    return Grade(letter, score, tuple(reasons))


def customer_type(
    *,
    policies: Sequence[PolicyFacts],
    visits: Sequence[VisitFacts],
    contacts: Sequence[ContactFacts],
    today: date,
) -> Profile:
    """Price-, service-sensitive or indifferent, from what the customer did (not what they said once).

    Price signals: bought through cheaper channels, dropped coverages, refused over price.
    Service signals: comes back often, buys repair-at-dealer, complained about service.
    Neither side ahead means indifferent: state everything clearly and offer a concession.
    """
    price: list[Label] = []
    service: list[Label] = []
    if any(p.channel in _CHEAP_CHANNELS for p in policies):
        price.append(Label("曾在电销/网销渠道投保", "Has bought insurance online or by phone"))
    ordered = sorted(policies, key=lambda p: p.end_date)
    for before, after in pairwise(ordered):
        if before.coverages and set(after.coverages) < set(before.coverages):
            price.append(Label("续保时减少过险种", "Dropped coverages at a renewal"))
            break
    if any(c.lapse_reason == LapseReason.PRICE or c.competitor_premium for c in contacts):
        price.append(Label("曾以价格为由比价或拒绝", "Compared prices or refused over price"))
    recent = [v for v in visits if 0 <= (today - v.date).days <= RECENT_SERVICE_DAYS]
    if len(recent) >= 2:
        service.append(Label(f"近一年回店 {len(recent)} 次", f"{len(recent)} visits within a year"))
    if any("repair_at_dealer" in p.coverages for p in policies):
        service.append(Label("投保了修理厂特约", "Bought repair-at-dealer cover"))
    if any(c.outcome == ContactOutcome.COMPLAINT or c.lapse_reason == LapseReason.SERVICE for c in contacts):
        service.append(Label("对服务体验有诉求", "Has raised service concerns"))
    if len(price) > len(service):
        return Profile(CustomerType.PRICE, tuple(price))
    if len(service) > len(price):
        return Profile(CustomerType.SERVICE, tuple(service))
    return Profile(CustomerType.INDIFFERENT, tuple(price + service))


def lapse_risks(
    *,
    contacts: Sequence[ContactFacts],
    visits: Sequence[VisitFacts],
    quoted_premium: float | None,
    today: date,
) -> list[LapseRisk]:
    """The playbook's lapse-reason tags that already apply before the renewal is lost.

    Also carries any tag staff recorded on an earlier lost renewal (it tends to repeat).
    """
    risks: dict[LapseReason, Label] = {}
    for c in sorted(contacts, key=lambda c: c.day):
        if (
            c.competitor_premium
            and quoted_premium
            and c.competitor_premium < quoted_premium * (1 - PRICE_GAP)
        ):
            gap = 1 - c.competitor_premium / quoted_premium
            risks[LapseReason.PRICE] = Label(
                f"竞品报价低 {gap:.0%}（{c.competitor_premium:.0f} 元）",
                f"Competitor quote {gap:.0%} lower ({c.competitor_premium:.0f} 元)",
            )
        if c.outcome == ContactOutcome.COMPLAINT and (today - c.day).days <= RISK_LOOKBACK_DAYS:
            risks[LapseReason.SERVICE] = Label(
                f"{c.day.isoformat()} 有投诉", f"Complaint on {c.day.isoformat()}"
            )
        if c.lapse_reason in _TAGS:
            tag = LapseReason(c.lapse_reason)
            risks.setdefault(
                tag,
                Label(
                    f"曾标记流失原因：{LAPSE_REASON_LABELS[tag].zh}",
                    f"Earlier tagged lost for: {LAPSE_REASON_LABELS[tag].en.lower()}",
                ),
            )
    failed = failed_attempts(contacts)
    if failed >= UNREACHABLE_ATTEMPTS:
        risks[LapseReason.UNREACHABLE] = Label(
            f"电话/短信/微信连续 {failed} 次未联系上", f"{failed} failed attempts by phone, SMS and WeChat"
        )
    for v in visits:
        if v.out_date is None or (today - v.date).days > RISK_LOOKBACK_DAYS:
            continue
        wait = (v.out_date - v.date).days
        if wait > LONG_REPAIR_DAYS:
            risks.setdefault(
                LapseReason.SERVICE,
                Label(
                    f"{v.date.isoformat()} 维修等待 {wait} 天",
                    f"Waited {wait} days for a repair on {v.date.isoformat()}",
                ),
            )
    return [
        LapseRisk(tag, label)
        for tag, label in sorted(risks.items(), key=lambda kv: list(LapseReason).index(kv[0]))
    ]
