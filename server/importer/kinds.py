"""The five kinds of import file: which columns each needs, how a row is read, how it is upserted.

Keys (reimporting the same file changes nothing): customers by phone number, vehicles by plate
(or VIN: a re-plated car keeps its history), policies by policy number, claims by claim number
(else car + date + type + amount), visits by repair-order number (else car + date + kind).

Customers and vehicles carry the store that holds their file (所属门店): a dealer group imports its
sister stores' exports into one database. A row's store column sets it; without one, a new row is
filed at the importing server's store and an existing row keeps its store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, col, delete, select

from server.importer import values as v
from server.importer.columns import HEADERS
from server.models import Channel, Claim, Coverage, Customer, Policy, ServiceVisit, Vehicle

Outcome = Literal["created", "updated", "unchanged"]
Record = dict[str, Any]
HOME_SITE = "_home_site"
"""Record key (not a column) of the store a new row is filed at when its row names none."""


class RowProblem(ValueError):
    """One field of one row is wrong; `field` names the column for the message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def column_name(field: str) -> str:
    """'手机号 phone': the first Chinese header and the first English one of a field."""
    aliases = HEADERS.get(field, (field,))
    english = next((a for a in aliases if a.isascii()), field)
    return f"{aliases[0]} {english}" if aliases[0] != english else english


@dataclass(frozen=True)
class Kind:
    key: str
    required: tuple[str, ...]
    """Columns the header must have; 'plate|vin' means either one."""
    parsers: dict[str, Callable[[Any], Any]]
    check: Callable[[Record], None]
    apply: Callable[[Session, Record], Outcome]
    sited: bool = False
    """Rows are filed at a store: the `site` column is resolved against the known sites (`place`)."""

    def missing(self, fields: list[str]) -> list[str]:
        have = set(fields)
        return [r for r in self.required if not have.intersection(r.split("|"))]

    def parse(self, raw: dict[str, Any]) -> tuple[Record, list[RowProblem]]:
        """Typed values of a row, and every problem found in it (not just the first)."""
        rec: Record = {}
        problems: list[RowProblem] = []
        for f, parser in self.parsers.items():
            if f not in raw:
                continue
            try:
                rec[f] = parser(raw[f])
            except ValueError as exc:
                problems.append(RowProblem(f, str(exc)))
        for r in self.required:
            if not any(alt in raw for alt in r.split("|")):
                problems.append(RowProblem(r.split("|")[0], "必填 / required"))
        if not problems:
            try:
                self.check(rec)
            except RowProblem as exc:
                problems.append(exc)
        return rec, problems


def _assign(row: Any, changes: Record) -> bool:
    changed = False
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(session: Session, row: Any | None, new: Callable[[], Any], changes: Record) -> Outcome:
    if row is None:
        session.add(new())
        session.flush()
        return "created"
    if _assign(row, changes):
        session.add(row)
        session.flush()
        return "updated"
    return "unchanged"


def _no_check(_rec: Record) -> None:
    return None


def place(rec: Record, directory: Mapping[str, str], home: str | None) -> list[RowProblem]:
    """Resolve the row's store column (a site code or a store's name, `sites.import_directory`) to a
    site code in place, and note the file's default store for new rows; an unknown store is a problem
    of this row, naming the stores that are known."""
    rec[HOME_SITE] = home
    if "site" not in rec:
        return []
    code = directory.get(rec["site"].casefold())
    if code is None:
        known = ", ".join(sorted(set(directory.values()))) or "-"
        name = rec["site"]
        message = f"门店 {name} 未登记或已停用（已登记：{known}）/ unknown or inactive store {name!r} (known: {known})"
        return [RowProblem("site", message)]
    rec["site"] = code
    return []


def _filed_at(rec: Record) -> str | None:
    """The store a new row is filed at: its own column, else the file's default."""
    return rec.get("site", rec.get(HOME_SITE))


def _find_vehicle(session: Session, rec: Record) -> Vehicle:
    vehicle = None
    if "plate" in rec:
        vehicle = session.exec(select(Vehicle).where(Vehicle.plate == rec["plate"])).first()
    if vehicle is None and rec.get("vin"):
        vehicle = session.exec(select(Vehicle).where(Vehicle.vin == rec["vin"])).first()
    if vehicle is None:
        what = rec.get("plate") or rec.get("vin")
        raise RowProblem(
            "plate", f"车辆 {what} 未建档，请先导入车辆 / no vehicle {what}: import vehicles first"
        )
    return vehicle


# --- customers ------------------------------------------------------------------------------------


def _customer(session: Session, rec: Record) -> Outcome:
    row = session.exec(select(Customer).where(Customer.phone == rec["phone"])).first()
    changes = {k: rec[k] for k in ("name", "gender", "city", "site") if k in rec}
    return _upsert(
        session, row, lambda: Customer(phone=rec["phone"], **{**changes, "site": _filed_at(rec)}), changes
    )


# --- vehicles -------------------------------------------------------------------------------------

_VEHICLE_FIELDS = {"vin": "vin", "brand": "brand", "model": "model", "series": "series",
                   "price_class": "price_class", "purchase_date": "purchase_date", "mileage": "mileage_km"}  # fmt: skip


def _owner(session: Session, rec: Record) -> int | None:
    if "phone" not in rec:
        return None
    owner = session.exec(select(Customer).where(Customer.phone == rec["phone"])).first()
    if owner is None:
        if "name" not in rec:
            raise RowProblem("phone", "车主未建档且缺少客户姓名 / owner unknown and no name given")
        owner = Customer(name=rec["name"], phone=rec["phone"], site=_filed_at(rec))
        session.add(owner)
        session.flush()
    return owner.id


def _vehicle(session: Session, rec: Record) -> Outcome:
    row = session.exec(select(Vehicle).where(Vehicle.plate == rec["plate"])).first()
    if row is None and rec.get("vin"):
        row = session.exec(select(Vehicle).where(Vehicle.vin == rec["vin"])).first()  # re-plated car
    changes = {attr: rec[f] for f, attr in _VEHICLE_FIELDS.items() if f in rec}
    changes["plate"] = rec["plate"]
    if "site" in rec:
        changes["site"] = rec["site"]
    owner = _owner(session, rec)
    if owner is not None:
        changes["customer_id"] = owner
    types = v.plate_types(rec["plate"])
    return _upsert(
        session, row, lambda: Vehicle(plate_type=types, **{**changes, "site": _filed_at(rec)}), changes
    )


# --- policies -------------------------------------------------------------------------------------


def _policy_check(rec: Record) -> None:
    if rec["end_date"] <= rec["start_date"]:
        raise RowProblem("end_date", "到期日期须晚于起保日期 / the end date must be after the start date")


def _policy(session: Session, rec: Record) -> Outcome:
    vehicle = _find_vehicle(session, rec)
    changes = {
        "insurer": rec["insurer"],
        "start_date": rec["start_date"],
        "end_date": rec["end_date"],
        "premium": rec["premium"],
        "ncd_factor": rec.get("ncd_factor", 1.0),
        "channel": rec.get("channel", Channel.DEALER.value),
        "vehicle_id": vehicle.id,
    }
    row = session.exec(select(Policy).where(Policy.policy_no == rec["policy_no"])).first()
    outcome = _upsert(session, row, lambda: Policy(policy_no=rec["policy_no"], **changes), changes)
    if "coverages" in rec:
        policy = row or session.exec(select(Policy).where(Policy.policy_no == rec["policy_no"])).one()
        if _replace_coverages(session, policy.id or 0, rec["coverages"]) and outcome == "unchanged":
            outcome = "updated"
    return outcome


def _replace_coverages(session: Session, policy_id: int, covers: list[tuple[str, float | None]]) -> bool:
    have = session.exec(select(Coverage).where(Coverage.policy_id == policy_id).order_by(Coverage.id)).all()
    if [(c.code, c.sum_insured) for c in have] == covers:
        return False
    session.exec(delete(Coverage).where(col(Coverage.policy_id) == policy_id))
    session.add_all(Coverage(policy_id=policy_id, code=code, sum_insured=si) for code, si in covers)
    session.flush()
    return True


# --- claims and visits ----------------------------------------------------------------------------


def _numbered_or_same(session: Session, model: type[Any], number: Record, natural: Record) -> Any | None:
    """The row with this document number (报案号, 工单号) when the file has one, else the row with the
    same natural key: exports without numbers still reimport idempotently."""
    ((attr, value),) = number.items()
    match = {attr: value} if value else natural
    return session.exec(select(model).where(*(getattr(model, k) == val for k, val in match.items()))).first()


def _claim(session: Session, rec: Record) -> Outcome:
    vehicle = _find_vehicle(session, rec)
    changes = {"vehicle_id": vehicle.id, "date": rec["claim_date"], "amount": rec["amount"],
               "type": rec["claim_type"]}  # fmt: skip
    row = _numbered_or_same(session, Claim, {"claim_no": rec.get("claim_no")}, changes)
    return _upsert(session, row, lambda: Claim(claim_no=rec.get("claim_no"), **changes), changes)


def _visit_check(rec: Record) -> None:
    if "out_date" in rec and rec["out_date"] < rec["visit_date"]:
        raise RowProblem("out_date", "出厂日期早于进厂日期 / the car left before it came in")


def _visit(session: Session, rec: Record) -> Outcome:
    vehicle = _find_vehicle(session, rec)
    items = rec.get("items", "")
    kind = v.visit_kind(rec.get("visit_kind"), items)
    key = {"vehicle_id": vehicle.id, "date": rec["visit_date"], "kind": kind}
    changes = {**key, "items": items[:500], "mileage": rec.get("mileage"), "out_date": rec.get("out_date")}
    row = _numbered_or_same(session, ServiceVisit, {"order_no": rec.get("order_no")}, key)
    return _upsert(session, row, lambda: ServiceVisit(order_no=rec.get("order_no"), **changes), changes)


def _int(value: Any) -> int:
    return int(v.parse_number(value))


def _bounded_text(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        s = v.text(value)
        if len(s) > limit:
            raise ValueError(f"不能超过 {limit} 个字 / at most {limit} characters")
        return s

    return parse


_VEHICLE_KEYS = {"plate": v.parse_plate, "vin": v.parse_vin}
KINDS: dict[str, Kind] = {
    "customers": Kind(
        "customers",
        ("name", "phone"),
        {
            "name": _bounded_text(32),
            "phone": v.parse_phone,
            "gender": v.parse_gender,
            "city": _bounded_text(32),
            "site": _bounded_text(128),
        },
        _no_check,
        _customer,
        sited=True,
    ),
    "vehicles": Kind(
        "vehicles",
        ("plate", "brand", "model"),
        {
            **_VEHICLE_KEYS,
            "brand": _bounded_text(32),
            "model": _bounded_text(48),
            "series": _bounded_text(64),
            "price_class": _bounded_text(16),
            "purchase_date": v.parse_date,
            "mileage": _int,
            "phone": v.parse_phone,
            "name": _bounded_text(32),
            "site": _bounded_text(128),
        },
        _no_check,
        _vehicle,
        sited=True,
    ),
    "policies": Kind(
        "policies",
        ("policy_no", "plate|vin", "insurer", "start_date", "end_date", "premium"),
        {
            **_VEHICLE_KEYS,
            "policy_no": _bounded_text(32),
            "insurer": _bounded_text(16),
            "start_date": v.parse_date,
            "end_date": v.parse_date,
            "premium": v.parse_number,
            "ncd_factor": v.parse_number,
            "channel": v.parse_channel,
            "coverages": v.parse_coverages,
        },
        _policy_check,
        _policy,
    ),
    "claims": Kind(
        "claims",
        ("plate|vin", "claim_date", "amount", "claim_type"),
        {
            **_VEHICLE_KEYS,
            "claim_no": _bounded_text(40),
            "claim_date": v.parse_date,
            "amount": v.parse_number,
            "claim_type": v.parse_claim_type,
        },
        _no_check,
        _claim,
    ),
    "visits": Kind(
        "visits",
        ("plate|vin", "visit_date"),
        {
            **_VEHICLE_KEYS,
            "order_no": _bounded_text(40),
            "visit_date": v.parse_date,
            "out_date": v.parse_date,
            "items": v.text,
            "visit_kind": v.text,
            "mileage": _int,
        },
        _visit_check,
        _visit,
    ),
}
"""Import kinds by the name `dealergate import --kind` takes."""
