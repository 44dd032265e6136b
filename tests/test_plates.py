"""Plate grammar (GA 36) shared by every component."""

from __future__ import annotations

import pytest

from dealergate.plates import (
    ALPHABET,
    PLATE_TEXT_RE,
    PROVINCES,
    PlateType,
    is_valid_plate,
    mask_plate,
    matching_types,
    region_of,
)


@pytest.mark.parametrize(
    ("text", "ptype"),
    [
        ("京A12345", PlateType.BLUE),
        ("粤OA2160", PlateType.BLUE),  # O: the public-security authority code
        ("粤BD12345", PlateType.NEW_ENERGY_SMALL),
        ("粤B12345D", PlateType.NEW_ENERGY_LARGE),
        ("京A1234警", PlateType.POLICE),
        ("粤Z1234港", PlateType.HK_MACAO),
        ("使014578", PlateType.EMBASSY),
        ("沪A1234领", PlateType.CONSULATE),
        ("苏E1234学", PlateType.COACH),
        ("鲁B1234挂", PlateType.TRAILER),
        ("川A1234应急", PlateType.EMERGENCY),
    ],
)
def test_grammar_accepts_each_type(text: str, ptype: PlateType) -> None:
    assert ptype in matching_types(text)


@pytest.mark.parametrize(
    "text",
    [
        *("京AI2345", "京A1234O", "京112345", "X A12345", "京A1234", "京A123456789"),
        *("粤AO2160", "粤0A2160", "粤O1234警", "粤OD12345"),  # O only as a blue/yellow plate's authority code
    ],
)
def test_grammar_rejects(text: str) -> None:
    assert not is_valid_plate(text)


def test_alphabet_has_31_provinces_and_no_i_o() -> None:
    assert len(PROVINCES) == 31 and len(set(ALPHABET)) == len(ALPHABET)
    assert "I" not in ALPHABET and "O" not in ALPHABET


def test_the_wire_shape_check_lets_o_through_and_the_grammar_places_it() -> None:
    assert PLATE_TEXT_RE.fullmatch("粤OA2160") and is_valid_plate("粤OA2160")
    assert PLATE_TEXT_RE.fullmatch("粤AO2160") and not is_valid_plate("粤AO2160")


def test_mask_hides_the_serial() -> None:
    assert mask_plate("京A12345") == "京A·12***"
    assert mask_plate("粤BD12345") == "粤B·D1****"
    assert region_of("粤BD12345") == "粤" and region_of("使014578") == ""
