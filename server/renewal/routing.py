"""In-store flow (双动线分流): a basic renewal is closed on a tablet in about 15 minutes, a complex
case goes to a private room; and which advisor, of those on shift, should take the customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from server.renewal.facts import AdvisorState, Label
from server.renewal.grading import LapseRisk
from server.renewal.segments import Segment

PREMIUM_RISE_LIMIT = 0.10
"""A premium rising more than this needs a sit-down explanation, not a tablet."""


class Lane(StrEnum):
    TABLET = "tablet"  # 平板快速通道, about 15 minutes
    PRIVATE_ROOM = "private_room"  # 洽谈室


LANE_LABELS: dict[Lane, Label] = {
    Lane.TABLET: Label("平板快速办理（约 15 分钟）", "Tablet lane (about 15 minutes)"),
    Lane.PRIVATE_ROOM: Label("洽谈室深度沟通", "Private room"),
}


@dataclass(frozen=True)
class Routing:
    lane: Lane
    reasons: tuple[Label, ...]
    advisor: AdvisorState | None
    instruction: Label
    alternatives: tuple[AdvisorState, ...] = field(default=())


def choose_lane(
    seg: Segment,
    *,
    grade: str,
    claims_last_year: int,
    risks: Sequence[LapseRisk],
    premium_change: float | None,
) -> tuple[Lane, tuple[Label, ...]]:
    """Tablet when it is a plain renewal of a likely customer; otherwise the private room, with why."""
    why: list[Label] = []
    if seg in (Segment.SERVICE_ONLY, Segment.LAPSED, Segment.LOST):
        why.append(Label("需说服转回本店投保", "Needs winning back to insure here"))
    if grade in ("C", "D"):
        why.append(Label(f"续保评级 {grade}", f"Renewal grade {grade}"))
    if claims_last_year >= 2:
        why.append(Label("多次出险，保费变化需解释", "Several claims: the premium change needs explaining"))
    if premium_change is not None and premium_change > PREMIUM_RISE_LIMIT:
        why.append(
            Label(f"保费预计上涨 {premium_change:.0%}", f"Premium expected to rise {premium_change:.0%}")
        )
    if risks:
        why.append(Label("有流失风险标签", "Has lapse-risk tags"))
    if why:
        return Lane.PRIVATE_ROOM, tuple(why)
    return Lane.TABLET, (Label("常规续保，条件不变", "Plain renewal, nothing changes"),)


def pick_advisor(advisors: Sequence[AdvisorState]) -> tuple[AdvisorState | None, tuple[AdvisorState, ...]]:
    """A free advisor: the one who knows the customer first, then the least loaded; plus the others free."""
    free = sorted(
        (a for a in advisors if not a.busy),
        key=lambda a: (not a.served_before, a.tasks_today, a.username),
    )
    return (free[0], tuple(free[1:])) if free else (None, ())


def route(
    seg: Segment,
    *,
    grade: str,
    claims_last_year: int,
    risks: Sequence[LapseRisk],
    premium_change: float | None,
    advisors: Sequence[AdvisorState],
) -> Routing:
    lane, why = choose_lane(
        seg, grade=grade, claims_last_year=claims_last_year, risks=risks, premium_change=premium_change
    )
    advisor, others = pick_advisor(advisors)
    place = LANE_LABELS[lane]
    if advisor is None:
        instruction = Label(
            f"{place.zh}：专员均在忙，请先引导客户到休息区等候",
            f"{place.en}: every advisor is busy, seat the customer in the lounge for now",
        )
    else:
        instruction = Label(
            f"{place.zh}：请 {advisor.display_name} 接待", f"{place.en}: {advisor.display_name} to serve"
        )
    return Routing(lane, why, advisor, instruction, others)
