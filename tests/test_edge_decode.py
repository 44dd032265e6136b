"""Grammar-constrained decoding: position rules repair look-alikes, valid reads pass unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from dealergate.plates import ALPHABET, PAD_CHAR, PLATE_TEMPLATES, PlateType, is_valid_plate
from edge.decode import GLYPH_OF, GrammarDecoder

VOCAB = ALPHABET + PAD_CHAR
SLOTS = 9
REGIONS = [t.value for t in PlateType if t is not PlateType.UNKNOWN]


def probs_for(*slots: dict[str, float]) -> np.ndarray:
    """(1, SLOTS, vocab) probabilities: each given slot spreads its mass over the named symbols,
    remaining slots are padding."""
    p = np.full((1, SLOTS, len(VOCAB)), 1e-4, np.float32)
    for i in range(SLOTS):
        dist = slots[i] if i < len(slots) else {PAD_CHAR: 1.0}
        for ch, v in dist.items():
            p[0, i, VOCAB.index(ch)] = v
    return p / p.sum(axis=2, keepdims=True)


def sure(text: str) -> list[dict[str, float]]:
    return [{c: 0.98} for c in text]


@pytest.fixture(scope="module")
def decoder() -> GrammarDecoder:
    return GrammarDecoder(VOCAB, PAD_CHAR, SLOTS)


def test_a_valid_read_is_returned_unchanged(decoder: GrammarDecoder) -> None:
    (d,) = decoder.decode(probs_for(*sure("苏E12345")))
    assert d.text == "苏E12345" and d.raw == "苏E12345" and not d.repaired
    assert d.layout is PlateType.BLUE
    assert len(d.char_probs) == 7 and min(d.char_probs) > 0.9


@pytest.mark.parametrize(
    ("slot", "confusion", "expected"),
    [
        (1, {"5": 0.6, "S": 0.35}, "S"),  # second character must be a letter: 5 -> S
        (1, {"1": 0.6, "T": 0.35}, "T"),
        (1, {"8": 0.55, "B": 0.4}, "B"),
        (1, {"2": 0.5, "Z": 0.45}, "Z"),
    ],
)
def test_look_alikes_are_repaired_by_position(
    decoder: GrammarDecoder, slot: int, confusion: dict[str, float], expected: str
) -> None:
    slots = sure("京A12345")
    slots[slot] = confusion
    (d,) = decoder.decode(probs_for(*slots))
    assert d.text[slot] == expected and d.repaired
    assert d.raw[slot] != expected
    assert d.char_probs[slot] < 0.5  # the repair stays visibly unsure


def test_the_authority_code_o_is_read_from_the_ocrs_0() -> None:
    """粤O plates: the OCR has no O, and its 0 in the second position is the authority code O; a 0
    anywhere else stays a digit, and a layout without the code repairs it to a letter."""
    decoder = GrammarDecoder(VOCAB, PAD_CHAR, SLOTS)
    slots = sure("粤0A2160")
    slots[1] = {"0": 0.6, "Q": 0.3}
    probs = probs_for(*slots)
    (d,) = decoder.decode(probs)
    assert d.text == "粤OA2160" and d.raw == "粤0A2160" and d.repaired
    assert d.layout is PlateType.BLUE
    assert d.char_probs[1] == pytest.approx(probs[0, 1, VOCAB.index("0")], abs=1e-4)  # the 0's own probability
    slots = sure("苏0D12345")
    slots[1] = {"0": 0.6, "D": 0.3}
    (e,) = decoder.decode(probs_for(*slots))
    assert e.text == "苏DD12345" and e.layout is PlateType.NEW_ENERGY_SMALL


def test_layout_rules_choose_between_lengths_and_suffixes(decoder: GrammarDecoder) -> None:
    # an 8-character read whose third slot is a digit cannot be a small new-energy plate
    # (D/F or A-K first), but a large one (5 digits then D/F) fits
    (d,) = decoder.decode(probs_for(*sure("粤B12345"), {"D": 0.7, PAD_CHAR: 0.3}))
    assert d.text == "粤B12345D" and d.layout is PlateType.NEW_ENERGY_LARGE
    (p,) = decoder.decode(probs_for(*sure("沪A1234"), {"警": 0.9}))
    assert p.text == "沪A1234警" and p.layout is PlateType.POLICE
    # a stray province character at the end is no plate of any layout: it becomes padding or 警/学/挂
    (q,) = decoder.decode(probs_for(*sure("京A12345"), {"京": 0.6, PAD_CHAR: 0.4}))
    assert q.text == "京A12345" and q.raw == "京A12345京"


def test_region_head_breaks_ties_between_shared_templates() -> None:
    decoder = GrammarDecoder(VOCAB, PAD_CHAR, SLOTS, REGIONS)
    region = np.full((1, len(REGIONS)), 0.01, np.float32)
    region[0, REGIONS.index("yellow")] = 0.9
    (d,) = decoder.decode(probs_for(*sure("鲁Q12345")), region)
    assert d.layout is PlateType.YELLOW and d.layout_prob == pytest.approx(0.9, abs=1e-3)


def test_every_decoded_text_follows_the_grammar(decoder: GrammarDecoder) -> None:
    rng = np.random.default_rng(5)
    noise = rng.dirichlet(np.full(len(VOCAB), 0.05), size=(64, SLOTS)).astype(np.float32)
    for d in decoder.decode(noise):
        assert is_valid_plate(d.text), d
        assert len(d.char_probs) == len(d.text)


def test_templates_fit_the_model_alphabet() -> None:
    for template in PLATE_TEMPLATES.values():
        assert len(template) <= SLOTS
        assert all(GLYPH_OF.get(ch, ch) in VOCAB for chars in template for ch in chars)
