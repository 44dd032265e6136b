"""The plain data the renewal rules read, and the vocabularies they speak in.

Nothing here touches a database or a clock: `server.alerts` turns rows into these facts, and the
rules turn facts into decisions, so every rule can be unit-tested with a few literals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

DEALER_CHANNEL = "dealer"
"""Policy sales channel value meaning 'sold by this dealership' (server.models.Channel.DEALER)."""


@dataclass(frozen=True)
class Label:
    """A short user-facing text in both languages the screens speak."""

    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


class ContactChannel(StrEnum):
    """How a customer was contacted (联系渠道)."""

    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    IN_STORE = "in_store"


class ContactOutcome(StrEnum):
    """What came of one contact attempt (联系结果)."""

    NO_ANSWER = "no_answer"  # 未接通 / 未回复: a failed attempt
    REACHED = "reached"  # 已沟通
    CONSIDERING = "considering"  # 考虑中
    AGREED = "agreed"  # 同意续保
    REFUSED = "refused"  # 拒绝
    COMPLAINT = "complaint"  # 投诉 / 服务不满
    RENEWED = "renewed"  # 已成交
    LOST = "lost"  # 战败: renewed elsewhere or not at all (tag the reason)


class LapseReason(StrEnum):
    """Lapse-reason tags (流失原因标签) of the playbook; every lost renewal carries one."""

    PRICE = "price"  # competitor quote more than ~15% lower
    UNREACHABLE = "unreachable"  # 6+ failed attempts across phone / SMS / WeChat
    SERVICE = "service"  # complaints, long repair waits
    MOVED_SOLD = "moved_sold"  # moved away or sold the car
    OTHER = "other"


LAPSE_REASON_LABELS: dict[LapseReason, Label] = {
    LapseReason.PRICE: Label("价格因素", "Price"),
    LapseReason.UNREACHABLE: Label("无法联系", "Unreachable"),
    LapseReason.SERVICE: Label("服务体验", "Service experience"),
    LapseReason.MOVED_SOLD: Label("迁出/卖车", "Moved or sold the car"),
    LapseReason.OTHER: Label("其他", "Other"),
}


@dataclass(frozen=True)
class PolicyFacts:
    """What the rules need to know about one policy."""

    start_date: date
    end_date: date
    channel: str
    insurer: str = ""
    ncd_factor: float = 1.0
    premium: float = 0.0
    coverages: tuple[str, ...] = ()
    """Coverage codes (own_damage, third_party ...); compulsory 交强险 is not in the premium."""


@dataclass(frozen=True)
class ClaimFacts:
    date: date
    amount: float
    type: str


@dataclass(frozen=True)
class VisitFacts:
    """One repair order: `out_date` (出厂) is known once the car left, for repair-wait times."""

    date: date
    kind: str
    out_date: date | None = None


@dataclass(frozen=True)
class ContactFacts:
    """One entry of the contact log."""

    day: date
    channel: str
    outcome: str
    lapse_reason: str | None = None
    competitor_premium: float | None = None
    """The rival quote the customer named (元), for the price lapse-risk check."""
    staff: str = ""


@dataclass(frozen=True)
class AdvisorState:
    """A renewal specialist / service advisor on shift, as the router sees them."""

    username: str
    display_name: str
    busy: bool = False
    served_before: bool = False
    """This advisor has talked to the customer before (the contact log says so)."""
    tasks_today: int = 0
