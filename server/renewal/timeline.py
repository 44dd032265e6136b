"""When to contact whom: days to expiry, the 90/60/30 reminder tiers, the insurer teams' finer
contact timeline (60 · 55 · 45 · 40 · 30 · 25 · 15 · 10 · 7 · 3 · expiry day) and the one next
action for the front desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from server.renewal.facts import Label
from server.renewal.segments import Segment

Tier = Literal[90, 60, 30, "expired"] | None


@dataclass(frozen=True)
class TimelineStep:
    """One milestone of the contact timeline: `day` days before expiry, what the contact is for."""

    day: int
    key: str
    label: Label

    def as_dict(self) -> dict[str, object]:
        return {"day": self.day, "key": self.key, **self.label.as_dict()}


TIMELINE: tuple[TimelineStep, ...] = (
    TimelineStep(
        60,
        "first_contact",
        Label("首次联系：核实身份，告知续保优惠", "First contact: confirm identity, announce renewal offers"),
    ),
    TimelineStep(55, "follow_up", Label("跟进回访", "Follow-up call")),
    TimelineStep(45, "quote", Label("报价", "Quote")),
    TimelineStep(40, "confirm", Label("确认方案", "Confirm the package")),
    TimelineStep(30, "push", Label("促成", "Push to close")),
    TimelineStep(25, "push_again", Label("再次促成", "Push again")),
    TimelineStep(15, "decisive_push", Label("关键促成", "Decisive push")),
    TimelineStep(10, "reminder", Label("到期提醒", "Expiry reminder")),
    TimelineStep(7, "final_reminder_7", Label("最后提醒（7 天）", "Final reminder (7 days)")),
    TimelineStep(3, "final_reminder_3", Label("最后提醒（3 天）", "Final reminder (3 days)")),
    TimelineStep(
        0,
        "lapse_warning",
        Label(
            "到期日脱保提醒：无论在哪家投保，请立即投保，安全驾驶",
            "Expiry-day lapse warning: whoever you insure with, insure now; drive safely",
        ),
    ),
)
"""Contact milestones, furthest from expiry first."""


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


def contact_step(days: int | None) -> TimelineStep | None:
    """The milestone the customer is at: the last one reached counting down (50 days → the 55 follow-up).

    None before the timeline starts (more than 60 days), after expiry, or when expiry is unknown.
    """
    if days is None or days < 0:
        return None
    reached = [s for s in TIMELINE if s.day >= days]
    return reached[-1] if reached else None


def next_contact_step(days: int | None) -> TimelineStep | None:
    """The next milestone still ahead (50 days → the 45-day quote); None on or after expiry day."""
    if days is None or days <= 0:
        return None
    return next((s for s in TIMELINE if s.day < days), None)


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
