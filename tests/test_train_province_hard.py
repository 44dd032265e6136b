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


def test_the_gate_augmentations_motion_blurs_are_lines_of_every_length_and_direction() -> None:
    import cv2

    kernels = train_province.motion_kernels((3, 7), angles=4)
    assert kernels.shape == (3 * 4, 7, 7)
    assert np.allclose(kernels.sum(axis=(1, 2)), 1.0)
    pixels = [int((k > 0).sum()) for k in kernels]
    # across (0°) and up-down (90°) a line of length L covers L pixels; a diagonal no more
    assert [pixels[i] for i in (0, 2, 4, 6, 8, 10)] == [3, 3, 5, 5, 7, 7]
    assert all(p <= 3 + 2 * (i // 4) for i, p in enumerate(pixels))
    up_down = kernels[4 * 2 + 2]  # length 7, 90°
    assert np.count_nonzero(up_down[:, 3]) == 7 and np.count_nonzero(up_down[3]) == 1
    # smeared up-down, a horizontal bar spreads over the rows and a vertical one stays sharp
    image = np.zeros((21, 21), np.float32)
    image[10, 2:19] = 1.0
    image[2:19, 5] = 1.0
    smeared = cv2.filter2D(image, -1, up_down)
    assert smeared[10, 12] < 0.2 and smeared[7, 12] > 0.1
    assert smeared[14, 5] > 0.99
