"""Premium estimate for a proposed package: last premium, the NCD step, coverage deltas, deductible.

An estimate for the conversation, not the insurer's quote: it tells the advisor which way and
roughly how much the premium moves, and gives the "daily cost of cover" for price objections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.renewal.facts import Label, PolicyFacts

NCD_CLAIM_FREE_LADDER: tuple[float, ...] = (1.0, 0.8, 0.7, 0.6, 0.5)
"""NCD 无赔款优待 factor after 0, 1, 2, 3, 4+ consecutive claim-free years."""
NCD_AFTER_CLAIMS: dict[int, float] = {1: 1.0, 2: 1.25, 3: 1.5, 4: 1.75}
"""NCD factor after a policy year with this many claims; 5 or more gives NCD_MAX."""
NCD_MAX = 2.0
COVERAGE_WEIGHTS: dict[str, float] = {
    "own_damage": 0.55,
    "third_party": 0.25,
    "theft": 0.06,
    "passenger": 0.04,
    "no_deductible": 0.10,
    "glass": 0.04,
    "scratch": 0.05,
    "repair_at_dealer": 0.05,
    "self_ignition": 0.02,
    "flood": 0.03,
    "roadside": 0.01,
}
"""Share of a comprehensive (周到) commercial premium each coverage stands for; comprehensive = 1.0."""
DEDUCTIBLE_DISCOUNTS: dict[int, float] = {300: 0.05, 500: 0.08, 1000: 0.13, 2000: 0.20}
"""Absolute deductibles (绝对免赔额, 元) on offer and how much of the own-damage premium each saves."""
BASE_PREMIUM_BY_CLASS: dict[str, float] = {"economy": 3200.0, "mid": 4800.0, "premium": 7500.0}
"""Comprehensive premium at NCD 1.0 by price class, when the car's last premium is not on file."""


@dataclass(frozen=True)
class PriceLine:
    label: Label
    amount: float


@dataclass(frozen=True)
class PremiumEstimate:
    premium: float
    basis: str
    """'last_premium' (the car's own last policy) or 'price_class' (no premium on file)."""
    last_premium: float | None
    ncd_now: float
    ncd_next: float
    deductible: int | None
    lines: tuple[PriceLine, ...]

    @property
    def daily_cost(self) -> float:
        return round(self.premium / 365, 1)

    @property
    def change(self) -> float | None:
        """Relative change against last year's premium (0.1 = 10 % more), when it is known."""
        return None if not self.last_premium else self.premium / self.last_premium - 1


def ncd_from_history(claim_years: Sequence[int]) -> float:
    """NCD factor from the claim counts of the previous policy years, most recent last."""
    if not claim_years:
        return 1.0
    last = claim_years[-1]
    if last:
        return NCD_AFTER_CLAIMS.get(last, NCD_MAX)
    free = 0
    for n in reversed(claim_years):
        if n:
            break
        free += 1
    return NCD_CLAIM_FREE_LADDER[min(free, len(NCD_CLAIM_FREE_LADDER) - 1)]


def next_ncd(current: float, claims_this_year: int) -> float:
    """NCD factor of the renewal: one step down the ladder for a claim-free year, else by claim count.

    A penalised factor (above 1.0) falls to the first claim-free step (0.8), as in `ncd_from_history`.
    """
    if claims_this_year:
        return NCD_AFTER_CLAIMS.get(claims_this_year, NCD_MAX)
    lower = [f for f in NCD_CLAIM_FREE_LADDER[1:] if f < current - 1e-9]
    return lower[0] if lower else NCD_CLAIM_FREE_LADDER[-1]


def cover_weight(codes: Iterable[str]) -> float:
    return sum(COVERAGE_WEIGHTS.get(c, 0.0) for c in set(codes))


def estimate_premium(
    *,
    last: PolicyFacts | None,
    claims_this_year: int,
    coverages: Sequence[str],
    price_class: str = "mid",
    deductible: int | None = None,
    lapsed_over_a_year: bool = False,
) -> PremiumEstimate:
    """Premium of `coverages` for the coming year.

    Start from last year's premium without its NCD, scale by the coverage weights (added riders
    cost, dropped ones save), apply the next NCD step, then the optional absolute deductible on the
    own-damage share. A lapse of more than a year breaks the claim-free record (NCD back to 1.0).
    """
    if deductible is not None and deductible not in DEDUCTIBLE_DISCOUNTS:
        raise ValueError(f"deductible must be one of {sorted(DEDUCTIBLE_DISCOUNTS)} 元")
    new_weight = cover_weight(coverages)
    if last is not None and last.premium > 0:
        ncd_now = last.ncd_factor or 1.0
        base = last.premium / ncd_now
        old_weight = cover_weight(last.coverages) or 1.0
        basis = "last_premium"
        base_label = Label(
            f"上年保费 {last.premium:.0f} 元（去除 NCD {ncd_now:.2f}）",
            f"Last premium {last.premium:.0f} 元 without NCD {ncd_now:.2f}",
        )
    else:
        ncd_now = last.ncd_factor if last is not None else 1.0
        base = BASE_PREMIUM_BY_CLASS.get(price_class, BASE_PREMIUM_BY_CLASS["mid"])
        old_weight = 1.0
        basis = "price_class"
        base_label = Label("同级车型参考保费", "Reference premium for this class of car")
    ncd = 1.0 if lapsed_over_a_year else next_ncd(ncd_now, claims_this_year)
    covered = base * new_weight / old_weight
    after_ncd = covered * ncd
    saving = (
        after_ncd * COVERAGE_WEIGHTS["own_damage"] / new_weight * DEDUCTIBLE_DISCOUNTS[deductible]
        if (deductible is not None and "own_damage" in coverages and new_weight > 0)
        else 0.0
    )
    lines = [
        PriceLine(base_label, round(base, 2)),
        PriceLine(Label("险种调整", "Coverage changes"), round(covered - base, 2)),
        PriceLine(
            Label(f"无赔款优待系数 {ncd:.2f}", f"No-claim discount factor {ncd:.2f}"),
            round(after_ncd - covered, 2),
        ),
    ]
    if saving:
        lines.append(
            PriceLine(
                Label(f"绝对免赔额 {deductible} 元", f"{deductible} 元 absolute deductible"),
                -round(saving, 2),
            )
        )
    return PremiumEstimate(
        premium=round(after_ncd - saving, 2),
        basis=basis,
        last_premium=last.premium if last is not None and last.premium > 0 else None,
        ncd_now=ncd_now,
        ncd_next=ncd,
        deductible=deductible,
        lines=tuple(lines),
    )
