"""The synthetic plate generator: valid texts, correct image shapes and reproducible output."""

from __future__ import annotations

import numpy as np
import pytest

from dealergate.plates import PROVINCES, PlateType, matching_types
from dealergate.synth.plate_render import (
    PLATE_SIZE_MM,
    RENDERABLE_TYPES,
    _layout,
    _rivets,
    degrade,
    random_plate_text,
    render_plate,
)


def test_every_type_but_unknown_is_renderable() -> None:
    assert set(RENDERABLE_TYPES) == set(PlateType) - {PlateType.UNKNOWN}


@pytest.mark.parametrize("plate_type", RENDERABLE_TYPES)
def test_random_text_matches_its_grammar(plate_type: PlateType) -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        assert plate_type in matching_types(random_plate_text(plate_type, rng))


@pytest.mark.parametrize("plate_type", [PlateType.BLUE, PlateType.NEW_ENERGY_SMALL, PlateType.POLICE])
def test_province_is_honoured(plate_type: PlateType) -> None:
    rng = np.random.default_rng(2)
    assert all(random_plate_text(plate_type, rng, province="琼").startswith("琼") for _ in range(20))


def test_random_text_covers_every_province() -> None:
    rng = np.random.default_rng(3)
    seen = {random_plate_text(PlateType.BLUE, rng)[0] for _ in range(2000)}
    assert seen == set(PROVINCES)


def test_bad_arguments_are_refused() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError):
        random_plate_text(PlateType.UNKNOWN, rng)
    with pytest.raises(ValueError):
        random_plate_text(PlateType.BLUE, rng, province="X")
    with pytest.raises(ValueError):
        render_plate("京A12345", PlateType.NEW_ENERGY_SMALL)  # 7 characters: not a new-energy plate


@pytest.mark.parametrize("plate_type", RENDERABLE_TYPES)
@pytest.mark.parametrize("height", [70, 140])
def test_render_shape_and_dtype(plate_type: PlateType, height: int) -> None:
    rng = np.random.default_rng(5)
    text = random_plate_text(plate_type, rng)
    w_mm, h_mm = PLATE_SIZE_MM[plate_type]
    for img in (
        render_plate(text, plate_type, height=height),
        render_plate(text, plate_type, rng, height=height),
    ):
        assert img.dtype == np.uint8
        assert img.shape == (height, round(w_mm * height / h_mm), 3)
        assert img.std() > 20  # characters were drawn on the background


def test_double_row_plate_is_taller() -> None:
    img = render_plate("京A12345", PlateType.YELLOW_DOUBLE, height=110)
    assert img.shape[1] / img.shape[0] == pytest.approx(2.0, abs=0.02)


def test_plate_colours_follow_the_type() -> None:
    """Mean colour of the background area (BGR): blue is blue, yellow is yellow, black is dark."""

    def corner(img: np.ndarray) -> np.ndarray:
        return img[8:20, 8:40].reshape(-1, 3).mean(axis=0)

    b, g, r = corner(render_plate("京A12345", PlateType.BLUE))
    assert b > 120 and r < 60
    b, g, r = corner(render_plate("京A12345", PlateType.YELLOW))
    assert r > 200 and g > 150 and b < 80
    assert corner(render_plate("粤Z1234港", PlateType.HK_MACAO)).max() < 60
    assert corner(render_plate("京A1234警", PlateType.POLICE)).min() > 200


def test_police_suffix_is_red() -> None:
    img = render_plate("京A1234警", PlateType.POLICE).astype(int)
    right = img[30:110, -80:-10]
    redness = right[..., 2] - right[..., 0]
    assert (redness > 100).sum() > 200


def test_same_seed_same_pixels() -> None:
    def make(seed: int) -> tuple[str, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        text = random_plate_text(PlateType.NEW_ENERGY_SMALL, rng)
        img = render_plate(text, PlateType.NEW_ENERGY_SMALL, rng)
        return text, img, degrade(img, rng)

    t1, c1, d1 = make(42)
    t2, c2, d2 = make(42)
    t3, c3, _ = make(43)
    assert t1 == t2 and np.array_equal(c1, c2) and np.array_equal(d1, d2)
    assert t1 != t3 or not np.array_equal(c1, c3)


def test_rivets_touch_the_tops_of_the_second_and_second_to_last_characters() -> None:
    """Real plates' chrome rivets sit on the top of a character (a 1 then looks like a T)."""
    boxes, _ = _layout("浙A50819", PlateType.BLUE)
    w_mm, h_mm = PLATE_SIZE_MM[PlateType.BLUE]
    bright = 0
    for seed in range(20):
        img = np.zeros((h_mm, w_mm, 3), np.float32)
        img[:] = (160, 60, 10)  # blue, BGR; one pixel per millimetre
        _rivets(img, boxes, 1.0, np.random.default_rng(seed))
        rows, cols = np.nonzero((img != (160, 60, 10)).any(axis=2))
        assert rows.max() <= 35  # within the top band, down to the characters' tops (25 mm)
        centres = [boxes[i][0] + boxes[i][2] / 2 for i in (1, len(boxes) - 2)]
        assert all(min(abs(c - x) for x in centres) <= 14 for c in cols)
        assert {min(range(2), key=lambda k: abs(c - centres[k])) for c in cols} == {0, 1}  # both rivets
        bright += int(img[rows, cols].min(axis=1).max() > 150)
    assert 8 <= bright <= 19  # mostly chrome domes, some dark holes


def test_degrade_gives_small_camera_crops() -> None:
    rng = np.random.default_rng(6)
    clean = render_plate("苏E12345", PlateType.BLUE)
    sizes = []
    for _ in range(50):
        out = degrade(clean, rng)
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
        sizes.append(out.shape[:2])
    heights, widths = zip(*sizes, strict=True)
    assert 70 <= min(widths) and max(widths) < 200
    assert all(12 <= h <= 120 for h in heights)
    assert len(set(sizes)) > 10  # resolution actually varies


def test_render_is_fast() -> None:
    import time

    rng = np.random.default_rng(7)
    for t in RENDERABLE_TYPES:  # warm the glyph cache
        render_plate(random_plate_text(t, rng), t, rng)
    start = time.perf_counter()
    n = 120
    for i in range(n):
        t = RENDERABLE_TYPES[i % len(RENDERABLE_TYPES)]
        render_plate(random_plate_text(t, rng), t, rng)
    assert (time.perf_counter() - start) / n < 0.02  # < 5 ms on an idle core; slack for shared CI


def test_ocr_config_covers_every_rendered_plate() -> None:
    """The OCR model's plate config must agree with the grammar the generator draws from."""
    from pathlib import Path

    import yaml

    from dealergate.plates import ALPHABET, PAD_CHAR

    config_path = Path(__file__).resolve().parents[1] / "models" / "ocr" / "plate_config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    assert config["alphabet"] == ALPHABET + PAD_CHAR
    assert config["pad_char"] == PAD_CHAR
    assert config["plate_regions"] == [t.value for t in RENDERABLE_TYPES]
    rng = np.random.default_rng(8)
    longest = max(len(random_plate_text(t, rng)) for t in RENDERABLE_TYPES for _ in range(20))
    assert longest <= config["max_plate_slots"]


def test_a_glyph_source_draws_the_characters_it_knows_and_only_those() -> None:
    """Real plate-font glyphs replace the fonts' characters one by one; a source that knows none
    leaves the plate, and the random stream, exactly as without it."""
    plain = render_plate("京A12345", PlateType.BLUE, np.random.default_rng(7), height=70)
    none = render_plate("京A12345", PlateType.BLUE, np.random.default_rng(7), height=70, glyphs=lambda c: None)
    assert np.array_equal(plain, none)

    block = np.ones((20, 10), np.float32)  # a solid bar where the "1" stands
    asked: list[str] = []

    def ones_only(char: str) -> np.ndarray | None:
        asked.append(char)
        return block if char == "1" else None

    ones = render_plate("京A12345", PlateType.BLUE, np.random.default_rng(7), height=70, glyphs=ones_only)
    assert asked == list("京A12345")
    changed = np.flatnonzero(np.abs(ones.astype(int) - plain.astype(int)).sum(axis=(0, 2)))
    (bx, _by, bw, _bh), *_ = [b for ch, b in zip("京A12345", _layout("京A12345", PlateType.BLUE)[0]) if ch == "1"]
    s = 70 / PLATE_SIZE_MM[PlateType.BLUE][1]
    assert changed.size and (bx - 5) * s <= changed.min() and changed.max() <= (bx + bw + 5) * s
