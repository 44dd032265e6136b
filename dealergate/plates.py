"""Chinese licence-plate rules (GA 36) shared by the edge, the server and the generators.

One place for the alphabet, the plate types and the grammar, so that the OCR model, the
post-processing, the demo data and the server's matching all agree on what a valid plate is.
"""

from __future__ import annotations

import re
from enum import StrEnum

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
"""The 31 province abbreviations that open every civil plate."""

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
"""Serial letters: I and O never appear in a serial (GA 36), they read as 1 and 0 (but see
`PUBLIC_SECURITY_CODE`)."""

DIGITS = "0123456789"
SPECIALS = "警学挂港澳使领应急"
"""Suffix/prefix characters of special plates (police, coach, trailer, HK/Macao, embassy,
consulate, emergency: 应急 is two characters)."""

ALPHABET = PROVINCES + LETTERS + DIGITS + SPECIALS
PAD_CHAR = "_"


class PlateColor(StrEnum):
    """Background colour of a plate, which tells the vehicle class at a glance."""

    BLUE = "blue"
    YELLOW = "yellow"
    GREEN = "green"
    WHITE = "white"
    BLACK = "black"
    UNKNOWN = "unknown"


class PlateType(StrEnum):
    """Plate layouts the product reads; the value is what goes on the wire."""

    BLUE = "blue"  # small civil car, 7 characters, white on blue
    YELLOW = "yellow"  # large vehicle front plate, single row, black on yellow
    YELLOW_DOUBLE = "yellow_double"  # large vehicle rear plate, two rows
    NEW_ENERGY_SMALL = "new_energy_small"  # 8 characters, gradient green (cars)
    NEW_ENERGY_LARGE = "new_energy_large"  # 8 characters, yellow-green (buses, trucks)
    POLICE = "police"  # white, red 警 suffix
    COACH = "coach"  # yellow, 学 suffix (driving school)
    TRAILER = "trailer"  # yellow, 挂 suffix
    HK_MACAO = "hk_macao"  # black, 港/澳 suffix
    EMBASSY = "embassy"  # black, 使 prefix
    CONSULATE = "consulate"  # black, 领 suffix
    EMERGENCY = "emergency"  # white, 应急 suffix
    UNKNOWN = "unknown"


PLATE_COLORS: dict[PlateType, PlateColor] = {
    PlateType.BLUE: PlateColor.BLUE,
    PlateType.YELLOW: PlateColor.YELLOW,
    PlateType.YELLOW_DOUBLE: PlateColor.YELLOW,
    PlateType.NEW_ENERGY_SMALL: PlateColor.GREEN,
    PlateType.NEW_ENERGY_LARGE: PlateColor.GREEN,
    PlateType.POLICE: PlateColor.WHITE,
    PlateType.COACH: PlateColor.YELLOW,
    PlateType.TRAILER: PlateColor.YELLOW,
    PlateType.HK_MACAO: PlateColor.BLACK,
    PlateType.EMBASSY: PlateColor.BLACK,
    PlateType.CONSULATE: PlateColor.BLACK,
    PlateType.EMERGENCY: PlateColor.WHITE,
    PlateType.UNKNOWN: PlateColor.UNKNOWN,
}

PUBLIC_SECURITY_CODE = "O"
"""The one place the letter O stands on a plate: as the issuing-authority code (second character)
of the civil plates of provincial public-security and legal organs since 1995 (粤O·A2160, 冀O...).
Serials never hold it, and the OCR's alphabet has no O: its glyph is the digit 0's, so at this
position the OCR's 0 is read as O (`edge.decode`)."""
AUTHORITY_CODES = LETTERS + PUBLIC_SECURITY_CODE
"""The second character of blue and yellow civil plates."""

_AN = LETTERS + DIGITS
PLATE_TEMPLATES: dict[PlateType, tuple[str, ...]] = {
    PlateType.BLUE: (PROVINCES, AUTHORITY_CODES, *[_AN] * 5),
    PlateType.YELLOW: (PROVINCES, AUTHORITY_CODES, *[_AN] * 5),
    PlateType.YELLOW_DOUBLE: (PROVINCES, AUTHORITY_CODES, *[_AN] * 5),
    # small new-energy: D/F (or A-K for pure electric / hybrid) then 5 digits/letters
    PlateType.NEW_ENERGY_SMALL: (PROVINCES, LETTERS, "DFABCEGHJK", _AN, *[DIGITS] * 4),
    # large new-energy: 5 digits then D/F
    PlateType.NEW_ENERGY_LARGE: (PROVINCES, LETTERS, *[DIGITS] * 5, "DF"),
    PlateType.POLICE: (PROVINCES, LETTERS, *[_AN] * 4, "警"),
    PlateType.COACH: (PROVINCES, LETTERS, *[_AN] * 4, "学"),
    PlateType.TRAILER: (PROVINCES, LETTERS, *[_AN] * 4, "挂"),
    PlateType.HK_MACAO: ("粤", "Z", *[_AN] * 4, "港澳"),
    PlateType.EMBASSY: ("使", *[DIGITS] * 6),
    PlateType.CONSULATE: (PROVINCES, LETTERS, *[DIGITS] * 4, "领"),
    PlateType.EMERGENCY: (PROVINCES, LETTERS, *[_AN] * 4, "应", "急"),
}
"""GA 36 position rules: the characters allowed at each position of each layout. The regular
expressions below and the OCR's grammar-constrained decoding (`edge.decode`) are both built from it."""
_GRAMMAR: dict[PlateType, re.Pattern[str]] = {
    t: re.compile("".join(f"[{re.escape(chars)}]" for chars in template)) for t, template in PLATE_TEMPLATES.items()
}
PLATE_TEXT_RE = re.compile(f"[{ALPHABET}{PUBLIC_SECURITY_CODE}]{{7,9}}")
"""Loose shape check for the wire: 7 to 9 characters from the plate alphabet (and the authority code O)."""


def matching_types(text: str) -> list[PlateType]:
    """Plate types whose grammar accepts `text` (empty when the read breaks every rule)."""
    return [t for t, rx in _GRAMMAR.items() if rx.fullmatch(text)]


def is_valid_plate(text: str) -> bool:
    """True when `text` is a well-formed plate of at least one known type."""
    return bool(matching_types(text))


def mask_plate(text: str) -> str:
    """Public form of a plate for the kiosk: province, letter and first two, e.g. 京A·12***."""
    if len(text) < 4:
        return "*" * len(text)
    return f"{text[:2]}·{text[2:4]}{'*' * (len(text) - 4)}"


def region_of(text: str) -> str:
    """The province character of a plate (the kiosk may show it: it is not personal)."""
    return text[:1] if text[:1] in PROVINCES else ""
