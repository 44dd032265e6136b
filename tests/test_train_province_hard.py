"""Mining the province classifier's hard crops (`models/train_province.py --hard-pool`): exactly the
crops the reader's fusion gate would ask it about."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import train_province

from edge.province import FUSE_BELOW, FUSE_REST_FROM, PROVINCE_CLASSES


def _probs(first: float, rest: float) -> np.ndarray:
    """One crop's (slots, vocab) probabilities: 京 at `first` in slot 0, `rest` on A then 1s after."""
    cfg = train_province._plate_config()
    p = np.full((cfg.max_plate_slots, len(cfg.alphabet)), 1e-4, np.float32)
    p[0, cfg.alphabet.index(PROVINCE_CLASSES[0])] = first
    p[1, cfg.alphabet.index("A")] = rest
    for slot in range(2, 7):
        p[slot, cfg.alphabet.index("1")] = 0.99
    for slot in range(7, cfg.max_plate_slots):
        p[slot, cfg.alphabet.index(cfg.pad_char)] = 0.99
    return p


def test_only_crops_unsure_of_the_province_alone_are_mined() -> None:
    probs = np.stack(
        [
            _probs(FUSE_BELOW + 0.1, 0.99),  # sure of the province: the classifier is not asked
            _probs(FUSE_BELOW - 0.3, 0.99),  # unsure of it, the rest a plate: asked
            _probs(FUSE_BELOW - 0.3, FUSE_REST_FROM - 0.2),  # the rest unsure too: not a plate, not asked
            _probs(FUSE_BELOW - 0.01, FUSE_REST_FROM + 0.01),  # both just inside the gate
        ]
    )
    assert train_province._asked(probs).tolist() == [False, True, False, True]
