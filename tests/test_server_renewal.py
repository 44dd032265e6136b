"""The renewal rules (server/renewal/: segments, timeline) and the demo dataset, without a database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dealergate.plates import PlateType, matching_types
from server import renewal
from server.renewal import PolicyFacts, Segment
from server.seed import DEMO_LOGINS, demo_plates, generate_demo_dataset

TODAY = date(2026, 6, 15)


def policy(end_offset: int, channel: str = "dealer", *, years_back: int = 0, **kw: float) -> PolicyFacts:
    end = TODAY + timedelta(days=end_offset - 365 * years_back)
    return PolicyFacts(start_date=end - timedelta(days=364), end_date=end, channel=channel, **kw)


def test_days_to_expiry_counts_the_last_day_of_cover_as_zero() -> None:
    assert renewal.days_to_expiry(TODAY, TODAY) == 0
    assert renewal.days_to_expiry(TODAY + timedelta(days=45), TODAY) == 45
    assert renewal.days_to_expiry(TODAY - timedelta(days=3), TODAY) == -3


@pytest.mark.parametrize(
    ("days", "tier"),
    [
        (None, None),
        (-1, "expired"),
        (-800, "expired"),
        (0, 30),
        (30, 30),
        (31, 60),
        (60, 60),
        (61, 90),
        (90, 90),
        (91, None),
        (300, None),
    ],
)
def test_reminder_tier_boundaries(days: int | None, tier: object) -> None:
    assert renewal.reminder_tier(days) == tier


def test_segment_new_car_first_renewal() -> None:
    first = policy(40)
    seg = renewal.segment(
        purchase_date=first.start_date - timedelta(days=3),
        policies=[first],
        service_dates=[TODAY - timedelta(days=100)],
        today=TODAY,
    )
    assert seg is Segment.NEW_CAR_FIRST


def test_segment_renewal_of_renewal() -> None:
    history = [policy(40, years_back=2), policy(40, years_back=1), policy(40)]
    seg = renewal.segment(
        purchase_date=history[0].start_date, policies=history, service_dates=[], today=TODAY
    )
    assert seg is Segment.RENEWAL


def test_segment_services_here_insured_elsewhere() -> None:
    history = [policy(40, years_back=1), policy(40, "online")]
    recent_visit = [TODAY - timedelta(days=60)]
    assert (
        renewal.segment(purchase_date=None, policies=history, service_dates=recent_visit, today=TODAY)
        is Segment.SERVICE_ONLY
    )
    # no policy on record at all, but the car is serviced here
    assert (
        renewal.segment(purchase_date=None, policies=[], service_dates=recent_visit, today=TODAY)
        is Segment.SERVICE_ONLY
    )


def test_segment_lapsed_then_lost() -> None:
    lapsed = policy(-400)
    assert (
        renewal.segment(purchase_date=None, policies=[lapsed], service_dates=[], today=TODAY)
        is Segment.LAPSED
    )
    long_gone = policy(-4 * 365)
    assert (
        renewal.segment(purchase_date=None, policies=[long_gone], service_dates=[], today=TODAY)
        is Segment.LOST
    )
    # insured elsewhere and no longer serviced here either
    stale_visit = [TODAY - timedelta(days=800)]
    assert (
        renewal.segment(
            purchase_date=None, policies=[policy(100, "other_agent")], service_dates=stale_visit, today=TODAY
        )
        is Segment.LOST
    )


def test_lapse_wins_over_channel() -> None:
    """An uninsured car is the urgent case, whoever sold the last policy."""
    seg = renewal.segment(
        purchase_date=None,
        policies=[policy(-10, "online")],
        service_dates=[TODAY - timedelta(days=20)],
        today=TODAY,
    )
    assert seg is Segment.LAPSED


def test_next_action_follows_the_timeline() -> None:
    far = renewal.next_action(Segment.RENEWAL, 200)
    assert "200" in far.zh and "增值服务" in far.zh
    quote = renewal.next_action(Segment.RENEWAL, 45)
    assert "报价" in quote.zh and "quote" in quote.en
    close = renewal.next_action(Segment.NEW_CAR_FIRST, 20)
    assert close.zh.startswith("新车首年续保") and "15 分钟" in close.zh
    final = renewal.next_action(Segment.RENEWAL, 3)
    assert "最后提醒" in final.zh and "final reminder" in final.en
    assert "今天到期" in renewal.next_action(Segment.RENEWAL, 0).zh
    lapsed = renewal.next_action(Segment.LAPSED, -12)
    assert "已脱保 12 天" in lapsed.zh and "Lapsed 12 days" in lapsed.en
    elsewhere = renewal.next_action(Segment.SERVICE_ONLY, 50)
    assert elsewhere.zh.startswith("在修不在保") and elsewhere.en.startswith("Insured elsewhere")
    assert "流失" in renewal.next_action(Segment.LOST, -2000).zh
    assert renewal.next_action(Segment.SERVICE_ONLY, None).en.startswith("Insured elsewhere, expiry unknown")


def test_every_action_has_both_languages() -> None:
    for seg in Segment:
        for days in (None, -30, 0, 5, 20, 45, 75, 150):
            action = renewal.next_action(seg, days)
            assert action.zh and action.en and not action.en[0].islower(), (seg, days, action)


def test_package_and_points() -> None:
    assert renewal.suggest_package(Segment.NEW_CAR_FIRST, vehicle_age_years=0.9, price_class="mid") == "full"
    assert renewal.suggest_package(Segment.RENEWAL, vehicle_age_years=7, price_class="premium") == "economy"
    assert renewal.suggest_package(Segment.LAPSED, vehicle_age_years=11, price_class="mid") == "basic"
    assert set(renewal.PACKAGES) == {"basic", "economy", "comprehensive", "full"}
    points = renewal.talking_points(
        Segment.SERVICE_ONLY,
        days=20,
        latest=policy(20, "online", ncd_factor=0.6, premium=3650.0),
        claims_last_year=0,
        serviced_here=True,
    )
    texts = " ".join(p.zh for p in points)
    assert "0.60" in texts and "10.0 元" in texts and "直赔" in texts
    assert renewal.seasonal_offer(date(2026, 7, 1)) == "flood_cover"
    assert renewal.seasonal_offer(date(2026, 1, 10)) == "winter_check"


@pytest.mark.parametrize(
    ("days", "step", "following"),
    [
        (None, None, None),
        (120, None, 60),
        (61, None, 60),
        (60, 60, 55),
        (56, 60, 55),
        (55, 55, 45),
        (50, 55, 45),
        (45, 45, 40),
        (31, 40, 30),
        (26, 30, 25),
        (16, 25, 15),
        (12, 15, 10),
        (8, 10, 7),
        (7, 7, 3),
        (4, 7, 3),
        (3, 3, 0),
        (1, 3, 0),
        (0, 0, None),
        (-1, None, None),
    ],
)
def test_contact_timeline_steps(days: int | None, step: int | None, following: int | None) -> None:
    """The insurer teams' timeline: 60 · 55 · 45 · 40 · 30 · 25 · 15 · 10 · 7 · 3 · expiry day."""
    assert [s.day for s in renewal.TIMELINE] == [60, 55, 45, 40, 30, 25, 15, 10, 7, 3, 0]
    current = renewal.contact_step(days)
    assert (current.day if current else None) == step
    upcoming = renewal.next_contact_step(days)
    assert (upcoming.day if upcoming else None) == following


def test_timeline_labels_say_what_each_contact_is_for() -> None:
    by_day = {s.day: s for s in renewal.TIMELINE}
    assert "核实身份" in by_day[60].label.zh and "confirm identity" in by_day[60].label.en
    assert by_day[45].key == "quote" and by_day[15].key == "decisive_push"
    assert "无论在哪家投保" in by_day[0].label.zh and "drive safely" in by_day[0].label.en
    assert all(s.label.zh and s.label.en for s in renewal.TIMELINE)


def test_demo_dataset_is_realistic_and_deterministic() -> None:
    ds = generate_demo_dataset(seed=2026, customers=120, today=TODAY)
    again = generate_demo_dataset(seed=2026, customers=120, today=TODAY)
    assert ds == again
    assert len(ds.customers) == 120 and len(ds.vehicles) >= 120
    assert len({c.phone for c in ds.customers}) == 120
    assert all(len(c.phone) == 11 and c.phone.startswith("1") for c in ds.customers)
    for v in ds.vehicles:
        assert v.plate_type in matching_types(v.plate), v.plate
        assert len(v.vin) == 17
    types = {v.plate_type for v in ds.vehicles}
    assert {PlateType.BLUE, PlateType.NEW_ENERGY_SMALL}.issubset(types)
    assert sum(v.plate.startswith("粤") for v in ds.vehicles) / len(ds.vehicles) > 0.75
    assert {p.insurer for p in ds.policies} == {"人保", "平安", "太保", "国寿财", "大地"}
    ends = [(p.end_date - TODAY).days for p in ds.policies]
    assert any(0 <= d <= 120 for d in ends) and any(-3 * 365 <= d < 0 for d in ends)
    facts = {v.key: [] for v in ds.vehicles}
    for p in ds.policies:
        facts[p.vehicle_key].append(PolicyFacts(p.start_date, p.end_date, p.channel.value))
    visits: dict[int, list[date]] = {v.key: [] for v in ds.vehicles}
    for s in ds.visits:
        visits[s.vehicle_key].append(s.date)
    segments = {
        renewal.segment(
            purchase_date=v.purchase_date, policies=facts[v.key], service_dates=visits[v.key], today=TODAY
        )
        for v in ds.vehicles
    }
    assert segments == set(Segment), "the demo shows every segment"


def test_demo_plates_do_not_depend_on_the_date() -> None:
    plates = demo_plates(2026)
    assert plates == [
        (v.plate, v.plate_type) for v in generate_demo_dataset(2026, today=date(2030, 1, 1)).vehicles
    ]
    assert len(plates) == len(set(plates))
    assert demo_plates(7) != plates
    assert {role for role, _, _ in DEMO_LOGINS} == {"receptionist", "advisor", "manager", "admin"}
