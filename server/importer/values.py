"""Cell values → typed values, each failure a bilingual message naming what was expected."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from dealergate.plates import is_valid_plate, matching_types
from server.importer.columns import CHANNEL_NAMES, CLAIM_TYPES, COVERAGE_NAMES, GENDERS, VISIT_KINDS
from server.matching import normalize_plate
from server.renewal.pricing import COVERAGE_WEIGHTS

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
)
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_SUM = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<u>万|元)?")
_EXCEL_EPOCH = date(1899, 12, 30)
COVERAGE_CODES = frozenset({"compulsory", *COVERAGE_WEIGHTS})


def text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 20000 < value < 80000:  # an Excel serial day number
        return _EXCEL_EPOCH + timedelta(days=int(value))
    s = text(value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"日期格式应为 2025-01-31 / expected a date like 2025-01-31, got {s!r}")


def parse_number(value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, int | float):
        number = float(value)
    else:
        s = (
            text(value)
            .replace(",", "")
            .replace("，", "")
            .replace("¥", "")
            .replace("￥", "")
            .removesuffix("元")
        )
        try:
            number = float(s)
        except ValueError:
            raise ValueError(f"应为数字 / expected a number, got {text(value)!r}") from None
    if number < minimum:
        raise ValueError(f"不能小于 {minimum:g} / must be at least {minimum:g}, got {number:g}")
    return number


def parse_phone(value: Any) -> str:
    raw = str(int(value)) if isinstance(value, float) and value.is_integer() else text(value)
    s = re.sub(r"[\s\-()（）]", "", raw).removeprefix("+86").removeprefix("0086")
    if re.fullmatch(r"1\d{10}", s) or re.fullmatch(r"0\d{9,11}", s):
        return s
    raise ValueError(f"手机号应为 11 位 / expected an 11-digit mobile number, got {text(value)!r}")


def parse_plate(value: Any) -> str:
    plate = normalize_plate(text(value))
    if not is_valid_plate(plate):
        raise ValueError(f"车牌号不符合 GA 36 规则 / not a valid plate: {text(value)!r}")
    return plate


def plate_types(plate: str) -> str:
    """The plate type a valid plate's grammar gives first (blue and yellow share one: blue wins)."""
    types = matching_types(plate)
    return types[0].value if types else "unknown"


def parse_vin(value: Any) -> str:
    vin = text(value).upper().replace(" ", "")
    if not _VIN.fullmatch(vin):
        raise ValueError(
            f"车架号应为 17 位（不含 I/O/Q）/ a VIN has 17 characters without I, O, Q: {text(value)!r}"
        )
    return vin


def parse_gender(value: Any) -> str:
    g = GENDERS.get(text(value).lower())
    if g is None:
        raise ValueError(f"性别应为 男/女 / gender must be 男/女 or M/F, got {text(value)!r}")
    return g


def parse_channel(value: Any) -> str:
    c = CHANNEL_NAMES.get(text(value).lower())
    if c is None:
        raise ValueError(f"未知渠道 / unknown channel {text(value)!r} (本店/电销/网销/其他代理)")
    return c


def parse_claim_type(value: Any) -> str:
    s = text(value)
    if s.lower() in CLAIM_TYPES.values():
        return s.lower()
    for word, code in CLAIM_TYPES.items():
        if word in s:
            return code
    raise ValueError(f"未知出险类型 / unknown claim type {s!r} (玻璃/划痕/追尾/碰撞/涉水/底盘/盗抢)")


def visit_kind(kind: Any, items: str) -> str:
    """Visit kind from the 维修类型 column, else guessed from the 维修项目 text; repair when unsure."""
    for source in (text(kind), items):
        if source.lower() in ("maintenance", "repair", "bodywork", "warranty"):
            return source.lower()
        for word, code in VISIT_KINDS:
            if word in source:
                return code
    return "repair"


def parse_coverages(value: Any) -> list[tuple[str, float | None]]:
    """'车损险、三者险200万、不计免赔' → [(own_damage, None), (third_party, 2000000.0), (no_deductible, None)]."""
    out: dict[str, float | None] = {}
    for part in re.split(r"[,，、;；/|\n]+", text(value)):
        part = part.strip()
        if not part:
            continue
        name = re.sub(r"[(（]?\d+(?:\.\d+)?\s*(万|元)?[)）]?$", "", part).strip()
        code = name.lower() if name.lower() in COVERAGE_CODES else COVERAGE_NAMES.get(name)
        if code is None:
            raise ValueError(f"未知险种 / unknown coverage {part!r}")
        m = _SUM.search(part[len(name) :])
        out[code] = None if m is None else float(m["n"]) * (10_000 if m["u"] == "万" else 1)
    return list(out.items())
