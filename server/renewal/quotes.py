"""The quote builder's comparison: every package of the playbook priced for one car on one day.

Pure, like the rest of `renewal/`: the same inputs `assess` prices its one recommendation with
(last policy, claims in the current policy year, a lapse of over a year), applied to each package,
so the advisor can show the customer the four side by side and the premium of the one they pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from server.renewal.engine import VehicleCase, claim_years
from server.renewal.facts import Label
from server.renewal.packages import PACKAGES, seasonal_addons, suggest_package
from server.renewal.pricing import PremiumEstimate, estimate_premium
from server.renewal.segments import latest_policy, segment
from server.renewal.timeline import days_to_expiry


@dataclass(frozen=True)
class PackageQuote:
    key: str
    label: Label
    coverages: tuple[str, ...]
    addons: tuple[str, ...]
    estimate: PremiumEstimate
    recommended: bool


def price_package(
    case: VehicleCase,
    today: date,
    package: str,
    *,
    addons: Sequence[str] = (),
    deductible: int | None = None,
) -> PremiumEstimate:
    """Premium of `package` plus `addons` for this car (ValueError for an unknown package/deductible)."""
    if package not in PACKAGES:
        raise ValueError(f"package must be one of {sorted(PACKAGES)}")
    covers = PACKAGES[package][1]
    latest = latest_policy(case.policies)
    days = days_to_expiry(latest.end_date, today) if latest is not None else None
    per_year = claim_years(case.policies, case.claims)
    return estimate_premium(
        last=latest,
        claims_this_year=per_year[-1] if per_year else 0,
        coverages=tuple(dict.fromkeys((*covers, *addons))),
        price_class=case.price_class or "mid",
        deductible=deductible,
        lapsed_over_a_year=days is not None and days < -365,
    )


def compare_packages(case: VehicleCase, today: date, *, deductible: int | None = None) -> list[PackageQuote]:
    """The four packages, cheapest cover first, each with the season's add-ons it lacks priced in."""
    seg = segment(
        purchase_date=case.purchase_date,
        policies=case.policies,
        service_dates=[v.date for v in case.visits],
        today=today,
    )
    age = (today - case.purchase_date).days / 365.25 if case.purchase_date else None
    best = suggest_package(seg, vehicle_age_years=age, price_class=case.price_class)
    quotes = []
    for key, (label, covers) in PACKAGES.items():
        addons = seasonal_addons(today, covers)
        own_damage = "own_damage" in covers
        quotes.append(
            PackageQuote(
                key,
                label,
                covers,
                addons,
                price_package(case, today, key, addons=addons, deductible=deductible if own_damage else None),
                key == best,
            )
        )
    return quotes
