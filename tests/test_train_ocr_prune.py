"""Pruning a trained OCR checkpoint to fewer transformer blocks (models/train_ocr.py `prune`): which
deeper layer fills each layer of the shallower model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
import train_ocr

SHALLOW = ["conv_stem", "mlp", "pos_emb", "transformer_block_1", "transformer_block_2", "token_reducer", "plate"]


def test_each_block_takes_its_kept_block_and_every_other_layer_its_namesake() -> None:
    sources = train_ocr.block_sources(SHALLOW, [1, 4])
    assert sources["transformer_block_1"] == "transformer_block_1"
    assert sources["transformer_block_2"] == "transformer_block_4"
    assert {k: v for k, v in sources.items() if not k.startswith("transformer_block_")} == {
        n: n for n in SHALLOW if not n.startswith("transformer_block_")
    }


@pytest.mark.parametrize("keep", [[1], [1, 2, 3], [2, 2], [0, 1]])
def test_a_keep_list_that_does_not_fill_the_blocks_once_each_is_refused(keep: list[int]) -> None:
    with pytest.raises(ValueError):
        train_ocr.block_sources(SHALLOW, keep)
