"""Renewal engine without a database: grade, customer type, lapse risks, price, pitch, routing, assess."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server import renewal
from server.renewal import (
    AdvisorState,
    ClaimFacts,
    ContactFacts,
    CustomerType,
    Lane,
    LapseReason,
    PolicyFacts,
    Segment,
    VehicleCase,
    VisitFacts,
)

TODAY = date(2026, 6, 15)
COMPREHENSIVE = renewal.PACKAGES["comprehensive"][1]


def policy(end_offset: int, channel: str = "dealer", *, years_back: int = 0, **kw: object) -> PolicyFacts:
    end = TODAY + timedelta(days=end_offset - 365 * years_back)
    return PolicyFacts(start_date=end - timedelta(days=364), end_date=end, channel=channel, **kw)  # type: ignore[arg-type]


def contact(days_ago: int, outcome: str, channel: str = "phone", **kw: object) -> ContactFacts:
    return ContactFacts(TODAY - timedelta(days=days_ago), channel, outcome, **kw)  # type: ignore[arg-type]


# --- grade ----------------------------------------------------------------------------------------


def test_grade_letters_follow_the_playbook_signals() -> None:
    sure = renewal.grade(Segment.RENEWAL, dealer_renewals=3, claims_last_year=0, recent_service=True)
    assert sure.letter == "A"
    assert any("续保 3 次" in r.zh for r in sure.reasons) and any("保养" in r.zh for r in sure.reasons)
    claims = renewal.grade(Segment.RENEWAL, dealer_renewals=3, claims_last_year=2, recent_service=True)
    assert claims.letter == "B" and any("出险 2 次" in r.zh for r in claims.reasons)
    assert (
        renewal.grade(
            Segment.NEW_CAR_FIRST, dealer_renewals=0, claims_last_year=0, recent_service=True
        ).letter
        == "A"
    )
    assert (
        renewal.grade(
            Segment.NEW_CAR_FIRST, dealer_renewals=0, claims_last_year=0, recent_service=False
        ).letter
        == "B"
    )
    assert (
        renewal.grade(Segment.SERVICE_ONLY, dealer_renewals=0, claims_last_year=0, recent_service=True).letter
        == "C"
    )
    assert (
        renewal.grade(Segment.LAPSED, dealer_renewals=0, claims_last_year=0, recent_service=True).letter
        == "C"
    )
    assert (
        renewal.grade(Segment.LAPSED, dealer_renewals=0, claims_last_year=0, recent_service=False).letter
        == "D"
    )
    lost = renewal.grade(Segment.LOST, dealer_renewals=5, claims_last_year=0, recent_service=True)
    assert lost.letter == "D" and lost.reasons[0].en == "Lost customer"


def test_contact_results_move_the_grade() -> None:
    base = {"dealer_renewals": 1, "claims_last_year": 0, "recent_service": True}
    assert renewal.grade(Segment.RENEWAL, **base).letter == "B"
    agreed = renewal.grade(Segment.RENEWAL, **base, contacts=[contact(3, "agreed")])
    assert agreed.letter == "A" and "同意续保" in agreed.reasons[-1].zh
    refused = renewal.grade(Segment.RENEWAL, **base, contacts=[contact(40, "agreed"), contact(3, "refused")])
    assert refused.letter == "C", "the latest conversation counts, not the best one"
    silent = renewal.grade(Segment.RENEWAL, **base, contacts=[contact(d, "no_answer") for d in (9, 6, 3)])
    assert silent.score == renewal.grade(Segment.RENEWAL, **base).score - 1
    assert "3 次未联系上" in silent.reasons[-1].zh


# --- customer type --------------------------------------------------------------------------------


def test_customer_type_from_history() -> None:
    price = renewal.customer_type(
        policies=[
            policy(40, "dealer", years_back=1, coverages=("own_damage", "third_party", "glass")),
            policy(40, "online", coverages=("own_damage", "third_party")),
        ],
        visits=[],
        contacts=[],
        today=TODAY,
    )
    assert price.type is CustomerType.PRICE and len(price.reasons) == 2
    service = renewal.customer_type(
        policies=[policy(40, coverages=("own_damage", "repair_at_dealer"))],
        visits=[VisitFacts(TODAY - timedelta(days=d), "maintenance") for d in (30, 200)],
        contacts=[],
        today=TODAY,
    )
    assert service.type is CustomerType.SERVICE
    assert {r.en for r in service.reasons} == {"2 visits within a year", "Bought repair-at-dealer cover"}
    none = renewal.customer_type(policies=[policy(40)], visits=[], contacts=[], today=TODAY)
    assert none.type is CustomerType.INDIFFERENT and none.reasons == ()
    tie = renewal.customer_type(
        policies=[policy(40, "online", coverages=("repair_at_dealer",))], visits=[], contacts=[], today=TODAY
    )
    assert tie.type is CustomerType.INDIFFERENT and len(tie.reasons) == 2


# --- lapse-risk tags ------------------------------------------------------------------------------


def test_price_risk_needs_a_rival_quote_more_than_15_percent_lower() -> None:
    def risks(rival: float) -> list[LapseReason]:
        found = renewal.lapse_risks(
            contacts=[contact(5, "considering", competitor_premium=rival)],
            visits=[],
            quoted_premium=4000.0,
            today=TODAY,
        )
        return [r.tag for r in found]

    assert risks(3500.0) == []  # 12.5 % lower: within haggling range
    assert risks(3400.0) == []  # exactly 15 %: not more than
    assert risks(3300.0) == [LapseReason.PRICE]


def test_unreachable_after_six_failed_attempts_across_channels() -> None:
    attempts = [contact(30 - 2 * i, "no_answer", ch) for i, ch in enumerate(["phone", "sms", "wechat"] * 2)]
    tags = renewal.lapse_risks(contacts=attempts[:5], visits=[], quoted_premium=None, today=TODAY)
    assert tags == []
    found = renewal.lapse_risks(contacts=attempts, visits=[], quoted_premium=None, today=TODAY)
    assert [r.tag for r in found] == [LapseReason.UNREACHABLE] and "6 次" in found[0].reason.zh
    # a conversation in between resets the count
    reset = [*attempts[:3], contact(23, "reached"), *attempts[3:]]
    assert renewal.lapse_risks(contacts=reset, visits=[], quoted_premium=None, today=TODAY) == []


def test_service_risk_from_complaints_and_long_repairs_and_recorded_tags() -> None:
    long_wait = VisitFacts(TODAY - timedelta(days=100), "repair", out_date=TODAY - timedelta(days=88))
    short = VisitFacts(TODAY - timedelta(days=60), "repair", out_date=TODAY - timedelta(days=58))
    found = renewal.lapse_risks(contacts=[], visits=[long_wait, short], quoted_premium=None, today=TODAY)
    assert [r.tag for r in found] == [LapseReason.SERVICE] and "12 天" in found[0].reason.zh
    found = renewal.lapse_risks(
        contacts=[contact(400, "complaint"), contact(380, "lost", lapse_reason="moved_sold")],
        visits=[short],
        quoted_premium=None,
        today=TODAY,
    )
    assert [r.tag for r in found] == [LapseReason.SERVICE, LapseReason.MOVED_SOLD]
    assert found[1].as_dict()["zh"] == "迁出/卖车"


# --- pricing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "claims", "expected"),
    [
        (1.0, 0, 0.8),
        (0.8, 0, 0.7),
        (0.7, 0, 0.6),
        (0.6, 0, 0.5),
        (0.5, 0, 0.5),
        (1.25, 0, 0.8),
        (0.5, 1, 1.0),
        (0.7, 2, 1.25),
        (0.7, 3, 1.5),
        (0.7, 4, 1.75),
        (0.7, 5, 2.0),
    ],
)
def test_ncd_steps_by_claim_count(current: float, claims: int, expected: float) -> None:
    assert renewal.next_ncd(current, claims) == expected


def test_ncd_from_history_agrees_with_the_steps() -> None:
    assert renewal.ncd_from_history([]) == 1.0
    assert renewal.ncd_from_history([0, 0, 0, 0, 0]) == 0.5
    assert renewal.ncd_from_history([2, 0, 0]) == 0.7
    assert renewal.ncd_from_history([0, 0, 1]) == 1.0
    assert renewal.ncd_from_history([0, 2]) == 1.25


def test_premium_estimate_from_last_premium_ncd_and_cover() -> None:
    last = PolicyFacts(TODAY, TODAY, "dealer", ncd_factor=0.8, premium=4000.0, coverages=COMPREHENSIVE)
    same = renewal.estimate_premium(last=last, claims_this_year=0, coverages=COMPREHENSIVE)
    assert same.basis == "last_premium" and same.ncd_next == 0.7
    assert same.premium == pytest.approx(4000 / 0.8 * 0.7)
    assert same.change == pytest.approx(0.7 / 0.8 - 1)
    assert sum(line.amount for line in same.lines) == pytest.approx(same.premium, abs=0.05)
    full = renewal.estimate_premium(last=last, claims_this_year=0, coverages=renewal.PACKAGES["full"][1])
    assert full.premium == pytest.approx(same.premium * 1.14)  # glass + scratch + repair-at-dealer
    basic = renewal.estimate_premium(last=last, claims_this_year=0, coverages=renewal.PACKAGES["basic"][1])
    assert basic.premium < same.premium * 0.5
    claimed = renewal.estimate_premium(last=last, claims_this_year=2, coverages=COMPREHENSIVE)
    assert claimed.premium == pytest.approx(4000 / 0.8 * 1.25) and claimed.change > 0.5
    lapsed = renewal.estimate_premium(
        last=last, claims_this_year=0, coverages=COMPREHENSIVE, lapsed_over_a_year=True
    )
    assert lapsed.ncd_next == 1.0


def test_deductible_lowers_only_the_own_damage_share() -> None:
    last = PolicyFacts(TODAY, TODAY, "dealer", ncd_factor=1.0, premium=5000.0, coverages=COMPREHENSIVE)
    plain = renewal.estimate_premium(last=last, claims_this_year=0, coverages=COMPREHENSIVE)
    with_1000 = renewal.estimate_premium(
        last=last, claims_this_year=0, coverages=COMPREHENSIVE, deductible=1000
    )
    assert plain.premium - with_1000.premium == pytest.approx(plain.premium * 0.55 * 0.13, abs=0.02)
    assert with_1000.lines[-1].label.zh == "绝对免赔额 1000 元"
    basic = renewal.PACKAGES["basic"][1]  # no own-damage cover: nothing to deduct from
    assert renewal.estimate_premium(
        last=last, claims_this_year=0, coverages=basic, deductible=500
    ).premium == (renewal.estimate_premium(last=last, claims_this_year=0, coverages=basic).premium)
    with pytest.raises(ValueError, match="deductible"):
        renewal.estimate_premium(last=last, claims_this_year=0, coverages=COMPREHENSIVE, deductible=700)


def test_estimate_without_a_premium_on_file_uses_the_price_class() -> None:
    est = renewal.estimate_premium(
        last=None, claims_this_year=0, coverages=COMPREHENSIVE, price_class="premium"
    )
    assert est.basis == "price_class" and est.last_premium is None and est.change is None
    assert est.premium == pytest.approx(7500 * 0.8)
    assert est.daily_cost == pytest.approx(round(7500 * 0.8 / 365, 1))


# --- packages, pitch ------------------------------------------------------------------------------


def test_seasonal_addons_are_added_only_when_missing() -> None:
    rainy, winter, autumn = date(2026, 7, 1), date(2026, 1, 5), date(2026, 10, 20)
    assert renewal.seasonal_addons(rainy, COMPREHENSIVE) == ("flood",)
    assert renewal.seasonal_addons(rainy, (*COMPREHENSIVE, "flood")) == ()
    assert renewal.seasonal_addons(winter, COMPREHENSIVE) == ("roadside",)
    assert renewal.seasonal_addons(autumn, COMPREHENSIVE) == ()
    rec = renewal.recommend(Segment.NEW_CAR_FIRST, vehicle_age_years=1, price_class="mid", today=rainy)
    assert rec.key == "full" and rec.all_coverages[-1] == "flood" and len(rec.value_adds) == 4


def test_talking_points_follow_the_customer_type() -> None:
    args = {"days": 40, "latest": policy(40, premium=3650.0), "claims_last_year": 0, "serviced_here": True}
    price = " ".join(
        p.zh for p in renewal.talking_points(Segment.RENEWAL, **args, customer_type=CustomerType.PRICE)
    )
    service = " ".join(
        p.en for p in renewal.talking_points(Segment.RENEWAL, **args, customer_type=CustomerType.SERVICE)
    )
    indifferent = " ".join(p.zh for p in renewal.talking_points(Segment.RENEWAL, **args))
    assert "少谈价格" in price and "礼包" in price
    assert "10-minute claim response" in service and "Spell out" in service
    assert "逐项讲清" in indifferent and "洗车券" in indifferent
    est = renewal.estimate_premium(
        last=policy(40, premium=3650.0), claims_this_year=0, coverages=COMPREHENSIVE
    )
    averse = renewal.talking_points(Segment.RENEWAL, **args, estimate=est, claim_free_years=4)
    assert any("1000 元绝对免赔额" in p.zh for p in averse)
    assert not any("免赔额" in p.zh for p in renewal.talking_points(Segment.RENEWAL, **args, estimate=est))


def test_objection_replies_are_filled_in_for_this_customer() -> None:
    est = renewal.estimate_premium(
        last=policy(20, premium=3650.0), claims_this_year=0, coverages=COMPREHENSIVE
    )
    price = renewal.objection_replies(
        Segment.RENEWAL, customer_type=CustomerType.PRICE, estimate=est, days=20
    )
    assert price[0].key == "too_expensive" and f"{est.premium / 365:.1f} 元" in price[0].reply.zh
    think = next(o for o in price if o.key == "think_about_it")
    assert "20 天后到期日" in think.reply.zh and "no double payment" in think.reply.en
    service = renewal.objection_replies(
        Segment.RENEWAL, customer_type=CustomerType.SERVICE, estimate=est, days=20
    )
    assert service[0].key == "claims_hassle"
    elsewhere = renewal.objection_replies(
        Segment.SERVICE_ONLY, customer_type=CustomerType.SERVICE, estimate=None, days=None
    )
    assert elsewhere[0].key == "cheaper_elsewhere"
    assert {o.key for o in elsewhere} == {o.key for o in price}
    for o in elsewhere + price:
        assert o.objection.zh and o.objection.en and o.reply.zh and o.reply.en


# --- routing --------------------------------------------------------------------------------------


def test_plain_renewal_goes_to_the_tablet_lane() -> None:
    lane, why = renewal.routing.choose_lane(
        Segment.RENEWAL, grade="A", claims_last_year=0, risks=[], premium_change=-0.1
    )
    assert lane is Lane.TABLET and why[0].en == "Plain renewal, nothing changes"


@pytest.mark.parametrize(
    ("seg", "grade", "claims", "change", "reason"),
    [
        (Segment.SERVICE_ONLY, "B", 0, None, "Needs winning back to insure here"),
        (Segment.RENEWAL, "C", 0, 0.0, "Renewal grade C"),
        (Segment.RENEWAL, "B", 2, 0.0, "Several claims: the premium change needs explaining"),
        (Segment.RENEWAL, "B", 0, 0.25, "Premium expected to rise 25%"),
    ],
)
def test_complex_cases_go_to_the_private_room(
    seg: Segment, grade: str, claims: int, change: float | None, reason: str
) -> None:
    lane, why = renewal.routing.choose_lane(
        seg, grade=grade, claims_last_year=claims, risks=[], premium_change=change
    )
    assert lane is Lane.PRIVATE_ROOM and reason in [w.en for w in why]


def test_the_free_advisor_who_knows_the_customer_is_picked() -> None:
    team = [
        AdvisorState("chen", "陈志强", tasks_today=1),
        AdvisorState("li", "李娜", busy=True, served_before=True),
        AdvisorState("wu", "吴敏", tasks_today=0),
        AdvisorState("he", "何俊", tasks_today=3, served_before=True),
    ]
    r = renewal.route(
        Segment.RENEWAL, grade="A", claims_last_year=0, risks=[], premium_change=0.0, advisors=team
    )
    assert r.advisor.username == "he", "busy li is skipped; he served the customer before"
    assert [a.username for a in r.alternatives] == ["wu", "chen"]
    assert r.instruction.zh == "平板快速办理（约 15 分钟）：请 何俊 接待"
    nobody = renewal.route(
        Segment.LAPSED, grade="D", claims_last_year=0, risks=[], premium_change=None, advisors=team[1:2]
    )
    assert nobody.advisor is None and "休息区" in nobody.instruction.zh and nobody.lane is Lane.PRIVATE_ROOM


# --- the engine -----------------------------------------------------------------------------------


def test_assess_puts_the_rules_together() -> None:
    purchase = TODAY - timedelta(days=3 * 365 + 20)
    policies = tuple(
        policy(
            25,
            years_back=y,
            premium=5200.0 - 300 * (2 - y),
            ncd_factor=(1.0, 0.8, 0.7)[2 - y],
            coverages=COMPREHENSIVE,
        )
        for y in (2, 1, 0)
    )
    case = VehicleCase(
        purchase_date=purchase,
        price_class="mid",
        policies=policies,
        claims=(ClaimFacts(TODAY - timedelta(days=2 * 365 + 30), 1200.0, "glass"),),
        visits=(
            VisitFacts(TODAY - timedelta(days=50), "maintenance"),
            VisitFacts(TODAY - timedelta(days=230), "repair"),
        ),
        contacts=(
            ContactFacts(TODAY - timedelta(days=5), "phone", "considering", competitor_premium=3000.0),
        ),
        advisors=(AdvisorState("advisor", "续保专员 陈志强"),),
    )
    a = renewal.assess(case, TODAY)
    assert a.segment is Segment.RENEWAL and a.days == 25 and a.tier == 30
    assert a.step.day == 25 and a.next_step.day == 15
    assert a.dealer_renewals == 2 and a.claim_free_years == 2
    assert a.package == "comprehensive" and a.recommendation.addons == ("flood",)
    assert a.estimate.ncd_next == 0.6 and a.estimate.last_premium == 4600.0
    assert a.deductible_option is None, "two claim-free years are not yet claim-averse"
    assert [r.tag for r in a.risks] == [LapseReason.PRICE]
    assert a.profile.type is CustomerType.INDIFFERENT, "price and service signals (2 visits) balance out"
    assert a.routing.lane is Lane.PRIVATE_ROOM and a.routing.advisor.username == "advisor"
    assert a.objections[0].key == "think_about_it"
    assert a.grade.letter == "A"


def test_assess_a_car_insured_elsewhere_with_no_policy_on_file() -> None:
    case = VehicleCase(
        purchase_date=TODAY - timedelta(days=4 * 365),
        price_class="economy",
        visits=(VisitFacts(TODAY - timedelta(days=20), "maintenance"),),
    )
    a = renewal.assess(case, TODAY)
    assert a.segment is Segment.SERVICE_ONLY and a.days is None and a.step is None
    assert a.estimate.basis == "price_class" and a.routing.advisor is None
    assert a.grade.letter == "C" and a.action.en.startswith("Insured elsewhere, expiry unknown")
