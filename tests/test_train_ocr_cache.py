"""Cache keys of the OCR's generated training data (models/train_ocr.py): a changed renderer or a
changed type/province mix must redraw the set, the evaluation sets follow the renderer only."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import train_ocr

from dealergate.plates import PlateType


def test_the_training_mix_is_part_of_the_training_set_key(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer, generator = train_ocr.renderer_digest(), train_ocr.generator_digest()
    uniform = np.full(len(train_ocr.PROVINCE_WEIGHTS), 1.0 / len(train_ocr.PROVINCE_WEIGHTS))
    monkeypatch.setattr(train_ocr, "PROVINCE_WEIGHTS", uniform)
    assert train_ocr.generator_digest() != generator
    assert train_ocr.renderer_digest() == renderer  # the evaluation sets are not redrawn for it
    monkeypatch.undo()
    other_mix = dict(train_ocr.TYPE_WEIGHTS) | {next(iter(train_ocr.TYPE_WEIGHTS)): 99}
    monkeypatch.setattr(train_ocr, "TYPE_WEIGHTS", other_mix)
    assert train_ocr.generator_digest() != generator
    monkeypatch.undo()
    monkeypatch.setattr(train_ocr, "REAL_FONT_SHARE", 0.0)
    assert train_ocr.generator_digest() != generator


def test_the_renderer_is_part_of_both_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    renderer, generator = train_ocr.renderer_digest(), train_ocr.generator_digest()
    fake = tmp_path / "dealergate" / "synth"
    fake.mkdir(parents=True)
    (fake / "plate_render.py").write_text("# another renderer\n", encoding="utf-8")
    (tmp_path / "dealergate" / "plates.py").write_bytes(
        (train_ocr.ROOT / "dealergate" / "plates.py").read_bytes()
    )
    monkeypatch.setattr(train_ocr, "ROOT", tmp_path)
    assert train_ocr.renderer_digest() != renderer and train_ocr.generator_digest() != generator


def test_a_specialist_draw_keeps_to_its_layouts_and_has_its_own_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train_ocr, "REAL_FONT_SHARE", 0.0)  # fonts only: unit tests do not read ../shared
    only = (PlateType.NEW_ENERGY_SMALL, PlateType.NEW_ENERGY_LARGE)
    drawn = {train_ocr.synth_sample(7, i, only)[2] for i in range(40)}
    assert drawn == set(only)  # both, in their training proportions, and nothing else
    assert len({train_ocr.synth_sample(7, i)[2] for i in range(40)}) > 2
    assert train_ocr.generator_digest(only) != train_ocr.generator_digest()
    assert train_ocr.generator_digest(only[:1]) != train_ocr.generator_digest(only)
