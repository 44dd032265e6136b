"""All the rules applied to one car on one day: `assess(case, today)` → `Assessment`.

The only place that knows the order the rules feed each other in (segment → grade → package →
price → pitch → routing); the screens read the `Assessment`, never the rules one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from server.renewal.facts import AdvisorState, ClaimFacts, ContactFacts, Label, PolicyFacts, VisitFacts
from server.renewal.grading import Grade, LapseRisk, Profile, customer_type, grade, lapse_risks
from server.renewal.packages import Recommendation, recommend
from server.renewal.pitch import OFFERED_DEDUCTIBLE, Objection, objection_replies, talking_points
from server.renewal.pricing import PremiumEstimate, estimate_premium
from server.renewal.routing import Routing, route
from server.renewal.segments import Segment, dealer_renewals, has_recent_service, latest_policy, segment
from server.renewal.timeline import (
    Tier,
    TimelineStep,
    contact_step,
    days_to_expiry,
    next_action,
    next_contact_step,
    reminder_tier,
)


@dataclass(frozen=True)
class VehicleCase:
    """Everything the rules read about one car: its history here and who could serve it now."""

    purchase_date: date | None
    price_class: str = ""
    policies: tuple[PolicyFacts, ...] = ()
    claims: tuple[ClaimFacts, ...] = ()
    visits: tuple[VisitFacts, ...] = ()
    contacts: tuple[ContactFacts, ...] = ()
    quoted_premium: float | None = None
    """Premium of the latest quote given for this car, if any (the price-risk check compares to it)."""
    advisors: tuple[AdvisorState, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """The renewal rules applied to one vehicle on one day."""

    segment: Segment
    latest: PolicyFacts | None
    days: int | None
    tier: Tier
    step: TimelineStep | None
    next_step: TimelineStep | None
    grade: Grade
    action: Label
    recommendation: Recommendation
    estimate: PremiumEstimate
    deductible_option: PremiumEstimate | None
    talking_points: list[Label]
    objections: list[Objection]
    profile: Profile
    risks: list[LapseRisk]
    routing: Routing
    claims_last_year: int
    dealer_renewals: int
    claim_free_years: int

    @property
    def package(self) -> str:
        return self.recommendation.key


def claim_years(policies: tuple[PolicyFacts, ...], claims: tuple[ClaimFacts, ...]) -> list[int]:
    """Claims per policy year, oldest first (a claim counts in the policy it fell in)."""
    ordered = sorted(policies, key=lambda p: p.end_date)
    return [sum(1 for c in claims if p.start_date <= c.date <= p.end_date) for p in ordered]


def _trailing_zeros(counts: list[int]) -> int:
    n = 0
    for c in reversed(counts):
        if c:
            break
        n += 1
    return n


def assess(case: VehicleCase, today: date) -> Assessment:
    seg = segment(
        purchase_date=case.purchase_date,
        policies=case.policies,
        service_dates=[v.date for v in case.visits],
        today=today,
    )
    latest = latest_policy(case.policies)
    days = days_to_expiry(latest.end_date, today) if latest is not None else None
    claims_last_year = sum(1 for c in case.claims if 0 <= (today - c.date).days <= 365)
    recent = has_recent_service([v.date for v in case.visits], today)
    renewals = dealer_renewals(case.policies)
    per_year = claim_years(case.policies, case.claims)
    free_years = _trailing_zeros(per_year)
    profile = customer_type(policies=case.policies, visits=case.visits, contacts=case.contacts, today=today)
    graded = grade(
        seg,
        dealer_renewals=renewals,
        claims_last_year=claims_last_year,
        recent_service=recent,
        contacts=case.contacts,
    )
    age = (today - case.purchase_date).days / 365.25 if case.purchase_date else None
    rec = recommend(seg, vehicle_age_years=age, price_class=case.price_class, today=today)
    pricing = {
        "last": latest,
        "claims_this_year": per_year[-1] if per_year else 0,
        "coverages": rec.all_coverages,
        "price_class": case.price_class or "mid",
        "lapsed_over_a_year": days is not None and days < -365,
    }
    estimate = estimate_premium(**pricing)
    deductible_option = (
        estimate_premium(**pricing, deductible=OFFERED_DEDUCTIBLE)
        if free_years >= 3 and "own_damage" in rec.all_coverages
        else None
    )
    risks = lapse_risks(
        contacts=case.contacts,
        visits=case.visits,
        quoted_premium=case.quoted_premium or estimate.premium,
        today=today,
    )
    return Assessment(
        segment=seg,
        latest=latest,
        days=days,
        tier=reminder_tier(days),
        step=contact_step(days),
        next_step=next_contact_step(days),
        grade=graded,
        action=next_action(seg, days),
        recommendation=rec,
        estimate=estimate,
        deductible_option=deductible_option,
        talking_points=talking_points(
            seg,
            days=days,
            latest=latest,
            claims_last_year=claims_last_year,
            serviced_here=recent,
            customer_type=profile.type,
            estimate=estimate,
            claim_free_years=free_years,
        ),
        objections=objection_replies(
            seg, customer_type=profile.type, estimate=estimate, days=days, claim_free_years=free_years
        ),
        profile=profile,
        risks=risks,
        routing=route(
            seg,
            grade=graded.letter,
            claims_last_year=claims_last_year,
            risks=risks,
            premium_change=estimate.change,
            advisors=case.advisors,
        ),
        claims_last_year=claims_last_year,
        dealer_renewals=renewals,
        claim_free_years=free_years,
    )
