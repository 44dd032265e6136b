"""Demo dataset of a Guangzhou Toyota/Honda/BYD 4S group: its stores, customers, cars, policies,
claims, visits. The server runs the Panyu store; a few customers' files belong to the sister store
in Tianhe (imported into the same database), so the demo shows a group customer arriving.

Deterministic for a seed: the plates in particular do not depend on `today`, so the gate clip
generator (`demo_plates`) and the seeded server agree on which cars are known customers.
Dates are drawn as offsets from `today`, so every demo shows policies about to expire.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlmodel import Session, select

from dealergate.plates import DIGITS, LETTERS, PlateType, matching_types
from server import demo_catalog as cat
from server.auth import create_staff_user
from server.demo_catalog import CarModel
from server.kiosk_cards import demo_cards
from server.models import (
    Channel,
    Claim,
    Coverage,
    Customer,
    Gender,
    KioskCard,
    Policy,
    Role,
    ServiceVisit,
    Site,
    StaffUser,
    Vehicle,
)
from server.renewal import ncd_from_history


class DemoLogin(NamedTuple):
    """One demo staff account; unpacks as `role, username, password`."""

    role: Role
    username: str
    password: str


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(Role.RECEPTIONIST, "reception", "dealergate"),
    DemoLogin(Role.ADVISOR, "advisor", "dealergate"),
    DemoLogin(Role.MANAGER, "manager", "dealergate"),
    DemoLogin(Role.ADMIN, "admin", "dealergate"),
)
"""Staff accounts of the demo (role, username, password); only `seed_demo` creates them."""
_DEMO_DISPLAY_NAMES = {
    "reception": "前台 林晓雯",
    "advisor": "续保专员 陈志强",
    "manager": "服务经理 王建国",
    "admin": "系统管理员",
}


@dataclass(frozen=True)
class DemoSite:
    """A store of the demo group; `code` None is the server's own (its `settings.site`)."""

    code: str | None
    name_zh: str
    name_en: str
    brands: tuple[str, ...]
    address: str
    phone: str


DEMO_HOME_SITE = DemoSite(
    None, "粤驰汽车番禺店", "Yuechi Motors Panyu", ("丰田", "本田", "比亚迪"), "广州市番禺区迎宾大道 188 号",
    "020-3482 6688",
)  # fmt: skip
DEMO_SISTER_SITE = DemoSite(
    "yuechi-tianhe", "粤驰汽车天河店", "Yuechi Motors Tianhe", ("丰田", "本田"), "广州市天河区黄埔大道西 668 号",
    "020-3886 5566",
)  # fmt: skip
SISTER_EVERY = 20
"""Every 20th demo customer (5 %) is on file at the sister store."""


@dataclass(frozen=True)
class DemoCustomer:
    key: int
    name: str
    phone: str
    gender: Gender
    city: str
    consent_greeting: bool
    site: str | None = None
    """The sister store's code for its customers; None: the server's own store."""


@dataclass(frozen=True)
class DemoVehicle:
    key: int
    customer_key: int
    plate: str
    plate_type: PlateType
    vin: str
    brand: str
    model: str
    series: str
    price_class: str
    purchase_date: date
    mileage_km: int


@dataclass(frozen=True)
class DemoPolicy:
    vehicle_key: int
    policy_no: str
    insurer: str
    start_date: date
    end_date: date
    premium: float
    ncd_factor: float
    coverages: list[dict[str, Any]]
    channel: Channel


@dataclass(frozen=True)
class DemoClaim:
    vehicle_key: int
    date: date
    amount: float
    type: str


@dataclass(frozen=True)
class DemoVisit:
    vehicle_key: int
    date: date
    kind: str
    mileage: int


@dataclass
class DemoDataset:
    sites: tuple[DemoSite, ...] = (DEMO_HOME_SITE, DEMO_SISTER_SITE)
    customers: list[DemoCustomer] = field(default_factory=list)
    vehicles: list[DemoVehicle] = field(default_factory=list)
    policies: list[DemoPolicy] = field(default_factory=list)
    claims: list[DemoClaim] = field(default_factory=list)
    visits: list[DemoVisit] = field(default_factory=list)


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _vin(rng: random.Random, wmi: str) -> str:
    """A VIN with a correct ISO 3779 check digit (position 9), so validators downstream accept it."""
    body = list(wmi + "".join(rng.choice(cat.VIN_CHARS) for _ in range(14)))
    values = {
        **{str(d): d for d in range(10)},
        **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
        **dict(zip("JKLMN", range(1, 6), strict=True)),
        "P": 7,
        "R": 9,
        **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
    }
    weights = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
    check = sum(values[c] * w for c, w in zip(body, weights, strict=True)) % 11
    body[8] = "X" if check == 10 else str(check)
    return "".join(body)


class _PlateMaker:
    """Draws unique plates from its own random stream: plates never depend on dates or counts."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"dealergate-plates-{seed}")
        self._seen: set[str] = set()

    def _prefix(self) -> tuple[str, str]:
        rng = self._rng
        if rng.random() < 0.88:
            letter, city = _pick(rng, [((c, n), w) for c, n, w in cat.GD_CITIES])
            return "粤" + letter, city
        province = _pick(rng, cat.OTHER_PROVINCES)
        return province + rng.choice("ABCDEF"), rng.choice(("广州", "广州", "佛山"))

    def _serial(self) -> str:
        rng = self._rng
        pattern = _pick(rng, (("DDDDD", 50), ("LDDDD", 25), ("DLDDD", 8), ("DDLDD", 7), ("LLDDD", 10)))
        return "".join(rng.choice(DIGITS) if p == "D" else rng.choice(LETTERS) for p in pattern)

    def make(self, plate_type: PlateType) -> tuple[str, str]:
        """(plate, owner's city) of the requested type, unique within this maker."""
        while True:
            prefix, city = self._prefix()
            if plate_type is PlateType.NEW_ENERGY_SMALL:
                third = self._rng.choice(DIGITS) if self._rng.random() < 0.8 else self._rng.choice(LETTERS)
                plate = (
                    prefix
                    + self._rng.choice("DF")
                    + third
                    + "".join(self._rng.choice(DIGITS) for _ in range(4))
                )
            else:
                plate = prefix + self._serial()
            if plate not in self._seen:
                if plate_type not in matching_types(plate):
                    raise AssertionError(f"generated plate {plate} is not a valid {plate_type}")
                self._seen.add(plate)
                return plate, city


def _coverages(package: str, car: CarModel, age_days: int, rng: random.Random) -> list[dict[str, Any]]:
    value = round(car.msrp_wan * 10_000 * max(0.2, 1 - 0.006 * age_days / 30), -2)
    third_party = rng.choice((1_000_000, 2_000_000, 2_000_000, 3_000_000))
    covers: list[dict[str, Any]] = [
        {"code": "compulsory", "sum_insured": 200_000},
        {"code": "third_party", "sum_insured": third_party},
    ]
    if package != "basic":
        covers += [{"code": "own_damage", "sum_insured": value}, {"code": "theft", "sum_insured": value}]
    if package in ("basic", "comprehensive", "full"):
        covers.append({"code": "passenger", "sum_insured": 10_000})
    covers.append({"code": "no_deductible", "sum_insured": None})
    if package == "full":
        covers += [
            {"code": "glass", "sum_insured": None},
            {"code": "scratch", "sum_insured": 5_000},
            {"code": "repair_at_dealer", "sum_insured": None},
        ]
    if rng.random() < 0.35:
        covers.append({"code": "flood", "sum_insured": None})
    if rng.random() < 0.5:
        covers.append({"code": "roadside", "sum_insured": None})
    return covers


def _name(rng: random.Random, gender: Gender) -> str:
    pool = cat.MALE_GIVEN if gender is Gender.MALE else cat.FEMALE_GIVEN
    given = "".join(rng.choice(pool) for _ in range(1 if rng.random() < 0.35 else 2))
    return rng.choice(cat.SURNAMES[:20] if rng.random() < 0.7 else cat.SURNAMES) + given


def generate_demo_dataset(seed: int = 2026, customers: int = 240, today: date | None = None) -> DemoDataset:
    """A realistic, deterministic dataset: same seed and `today`, same rows; same seed, same plates."""
    today = today or date.today()
    rng = random.Random(f"dealergate-demo-{seed}")
    plates = _PlateMaker(seed)
    ds = DemoDataset()
    phones: set[str] = set()
    seq = 0
    for ckey in range(1, customers + 1):
        gender = Gender.MALE if rng.random() < 0.56 else Gender.FEMALE
        phone = ""
        while not phone or phone in phones:
            phone = rng.choice(cat.MOBILE_PREFIXES) + "".join(rng.choice(DIGITS) for _ in range(8))
        phones.add(phone)
        name = _name(rng, gender)
        consent = rng.random() < 0.35
        city = ""
        for _ in range(2 if rng.random() < 0.12 else 1):
            vkey = len(ds.vehicles) + 1
            car = _pick(rng, [(c, c.weight) for c in cat.CATALOG])
            plate_type = (
                PlateType.YELLOW
                if car.large
                else PlateType.NEW_ENERGY_SMALL
                if car.new_energy
                else PlateType.BLUE
            )
            plate, plate_city = plates.make(plate_type)
            city = city or plate_city
            scenario = _pick(rng, cat.SCENARIOS)
            seq, purchase_off = _vehicle_history(rng, ds, vkey, car, scenario, today, seq)
            purchase = today + timedelta(days=purchase_off)
            mileage = max(
                (v.mileage for v in ds.visits if v.vehicle_key == vkey),
                default=int(-purchase_off * rng.uniform(25, 55)),
            )
            ds.vehicles.append(
                DemoVehicle(
                    key=vkey,
                    customer_key=ckey,
                    plate=plate,
                    plate_type=plate_type,
                    vin=_vin(rng, cat.WMI[car.brand]),
                    brand=car.brand,
                    model=car.model,
                    series=rng.choice(car.series),
                    price_class=car.price_class,
                    purchase_date=purchase,
                    mileage_km=mileage,
                )
            )
        # chosen by number, not drawn: the random streams (and so every other row) stay as they were
        site = DEMO_SISTER_SITE.code if ckey % SISTER_EVERY == SISTER_EVERY // 2 else None
        ds.customers.append(DemoCustomer(ckey, name, phone, gender, city, consent, site))
    return ds


def _vehicle_history(
    rng: random.Random, ds: DemoDataset, vkey: int, car: CarModel, scenario: str, today: date, seq: int
) -> tuple[int, int]:
    """Policies, claims and visits of one car for its scenario.

    Returns the policy sequence number reached and the purchase date as an offset from today.
    """
    if scenario == "new_first":
        latest_end, years = rng.randint(0, 120), 1
    elif scenario in ("renewal", "service_only"):
        latest_end = rng.randint(0, 120) if rng.random() < 0.72 else rng.randint(121, 330)
        years = rng.randint(2, 8)
    elif scenario == "lapsed":
        latest_end, years = -rng.randint(40, 3 * 365 - 30), rng.randint(1, 5)
    else:  # lost: lapsed long ago
        latest_end, years = -rng.randint(3 * 365 + 30, 6 * 365), rng.randint(1, 4)
    insurer, prefix, _ = _pick(rng, [(i, i[2]) for i in cat.INSURERS])
    unknown_policy = scenario == "service_only" and rng.random() < 0.25  # insured elsewhere, never told us
    first_start = latest_end - 364 - 365 * (years - 1)
    purchase = first_start - rng.randint(0, 10)
    claim_years: list[int] = []
    for y in range(years):
        start_off = first_start + 365 * y
        if rng.random() < 0.15:
            insurer, prefix, _ = _pick(rng, [(i, i[2]) for i in cat.INSURERS])
        if scenario in ("new_first", "renewal"):
            channel = Channel.DEALER
        elif scenario == "service_only":
            # bought here with its first policy, then insured elsewhere
            channel = Channel.DEALER if y == 0 and years > 2 else rng.choice(cat.OTHER_CHANNELS)
        else:
            channel = Channel.DEALER if rng.random() < 0.5 else rng.choice(cat.OTHER_CHANNELS)
        n_claims = 0 if rng.random() < 0.74 else (1 if rng.random() < 0.8 else 2)
        age = start_off - purchase
        package = (
            "full"
            if y == 0 and car.price_class != "economy"
            else ("comprehensive" if age < 4 * 365 else "economy")
        )
        base = {"economy": 3200, "mid": 4800, "premium": 7500}[car.price_class] * (1.35 if car.large else 1.0)
        ncd = ncd_from_history(claim_years)
        factor = {"basic": 0.45, "economy": 0.85, "comprehensive": 1.0, "full": 1.2}[package]
        premium = round(base * ncd * factor * 0.97 ** (age / 365) * rng.uniform(0.93, 1.07), 2)
        seq += 1
        start, end = today + timedelta(days=start_off), today + timedelta(days=start_off + 364)
        if not (unknown_policy or (scenario == "service_only" and y < years - 1 and rng.random() < 0.3)):
            ds.policies.append(
                DemoPolicy(
                    vehicle_key=vkey,
                    policy_no=f"{prefix}{start.year}4401{seq:08d}",
                    insurer=insurer,
                    start_date=start,
                    end_date=end,
                    premium=premium,
                    ncd_factor=ncd,
                    coverages=_coverages(package, car, age, rng),
                    channel=channel,
                )
            )
        for _ in range(n_claims):
            kind = (
                rng.choice(car.claim_bias)
                if rng.random() < 0.55
                else _pick(
                    rng,
                    (
                        ("glass", 25),
                        ("scratch", 25),
                        ("rear_end", 18),
                        ("collision", 18),
                        ("flood", 8),
                        ("chassis", 6),
                    ),
                )
            )
            low, high = cat.CLAIM_AMOUNTS[kind]
            when = today + timedelta(days=start_off + rng.randint(10, 350))
            if when <= today:
                ds.claims.append(DemoClaim(vkey, when, round(rng.uniform(low, high), -1), kind))
        claim_years.append(n_claims)
    _visits(rng, ds, vkey, scenario, purchase, today)
    return seq, purchase


def _visits(
    rng: random.Random, ds: DemoDataset, vkey: int, scenario: str, purchase: int, today: date
) -> None:
    """Service visits every five to seven months; lost and some lapsed customers stopped coming."""
    stop = 0
    if scenario == "lost":
        stop = -rng.randint(2 * 365, 3 * 365)
    elif scenario == "lapsed" and rng.random() < 0.5:
        stop = -rng.randint(400, 900)
    day, km = purchase + rng.randint(150, 210), 0
    while day < stop - 5:
        km += int((rng.randint(150, 210)) * rng.uniform(25, 55))
        kind = _pick(rng, (("maintenance", 75), ("repair", 13), ("bodywork", 8), ("warranty", 4)))
        ds.visits.append(DemoVisit(vkey, today + timedelta(days=day), kind, km))
        day += rng.randint(150, 210)


def demo_plates(seed: int = 2026) -> list[tuple[str, PlateType]]:
    """Plates of the demo customers' cars (with their type), for the gate-clip generator."""
    return [(v.plate, v.plate_type) for v in generate_demo_dataset(seed).vehicles]


def sister_store_plates(seed: int = 2026) -> set[str]:
    """Plates of the demo cars on file at the sister store, so the gate clip can show one."""
    ds = generate_demo_dataset(seed)
    sister = {c.key for c in ds.customers if c.site is not None}
    return {v.plate for v in ds.vehicles if v.customer_key in sister}


def _seed_sites(session: Session, sites: tuple[DemoSite, ...], home: str) -> dict[str | None, str]:
    """The group's stores: the server's own (`home`) filled in while it is still named by its code
    (as the server creates it), the sister stores created; returns demo code → code on file."""
    codes: dict[str | None, str] = {}
    for demo in sites:
        code = demo.code if demo.code not in (None, home) else home
        row = session.exec(select(Site).where(Site.code == code)).first()
        if row is None or (code == home and row.name_zh == code):
            row = row or Site(code=code, name_zh=demo.name_zh)
            row.name_zh, row.name_en, row.brands = demo.name_zh, demo.name_en, list(demo.brands)
            row.address, row.phone = demo.address, demo.phone
            session.add(row)
        codes[demo.code] = code
    session.flush()
    return codes


def seed_demo(session: Session, dataset: DemoDataset, *, site: str) -> dict[str, int]:
    """Insert the dataset and the demo staff logins, `site` being the server's own store (its staff
    work there, its customers are filed there); returns row counts per table."""
    sites = _seed_sites(session, dataset.sites, site)
    customer_ids: dict[int, int] = {}
    customer_sites: dict[int, str] = {}
    for c in dataset.customers:
        customer_sites[c.key] = sites.get(c.site, site)
        row = Customer(
            name=c.name,
            phone=c.phone,
            gender=c.gender.value,
            city=c.city,
            consent_greeting=c.consent_greeting,
            site=customer_sites[c.key],
        )
        session.add(row)
        session.flush()
        customer_ids[c.key] = row.id  # type: ignore[assignment]
    vehicle_ids: dict[int, int] = {}
    for v in dataset.vehicles:
        row = Vehicle(
            plate=v.plate,
            plate_type=v.plate_type.value,
            vin=v.vin,
            brand=v.brand,
            model=v.model,
            series=v.series,
            price_class=v.price_class,
            purchase_date=v.purchase_date,
            mileage_km=v.mileage_km,
            customer_id=customer_ids[v.customer_key],
            site=customer_sites[v.customer_key],
        )
        session.add(row)
        session.flush()
        vehicle_ids[v.key] = row.id  # type: ignore[assignment]
    for p in dataset.policies:
        row = Policy(
            policy_no=p.policy_no,
            insurer=p.insurer,
            start_date=p.start_date,
            end_date=p.end_date,
            premium=p.premium,
            ncd_factor=p.ncd_factor,
            channel=p.channel.value,
            vehicle_id=vehicle_ids[p.vehicle_key],
        )
        session.add(row)
        session.flush()
        session.add_all(
            Coverage(policy_id=row.id, code=c["code"], sum_insured=c["sum_insured"]) for c in p.coverages
        )
    session.add_all(
        Claim(vehicle_id=vehicle_ids[c.vehicle_key], date=c.date, amount=c.amount, type=c.type)
        for c in dataset.claims
    )
    session.add_all(
        ServiceVisit(vehicle_id=vehicle_ids[s.vehicle_key], date=s.date, kind=s.kind, mileage=s.mileage)
        for s in dataset.visits
    )
    cards = demo_cards() if session.exec(select(KioskCard.id).limit(1)).first() is None else []
    session.add_all(cards)
    existing = set(session.exec(select(StaffUser.username)).all())
    staff = [
        create_staff_user(session, d.username, _DEMO_DISPLAY_NAMES[d.username], d.role, d.password, site=site)
        for d in DEMO_LOGINS
        if d.username not in existing
    ]
    return {
        "sites": len(sites),
        "customers": len(dataset.customers),
        "vehicles": len(dataset.vehicles),
        "policies": len(dataset.policies),
        "claims": len(dataset.claims),
        "visits": len(dataset.visits),
        "staff": len(staff),
        "kiosk_cards": len(cards),
    }
