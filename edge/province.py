"""A second opinion on a plate's first character: the province classifier.

The OCR model reads all characters of a 48×160 crop with one small network; the province glyphs
(31 provinces plus 使) are the most complex shapes of the plate and the ones it confuses most —
on our synthetic held-out sets almost every misread is the province alone (新 read 浙, 晋 read 贵),
most often a province that is rarer in training. The classifier looks only at the left end of the
same OCR input (`WINDOW_WIDTH` pixels, where every layout's first character stands, the stitched
double-row plate's too) and spends all its capacity on that one character; its probabilities are
fused with the OCR's first slot (`fuse_first_slot`, a weighted geometric mean), so where both
models agree the read gets surer and where they disagree the surer one wins.

Trained by `models/train_province.py` (`make train-province`) on the OCR's own data sources, with
every province equally often.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dealergate.plates import PROVINCES

PROVINCE_CLASSES = PROVINCES + "使"
"""The classifier's outputs, in order: the 31 provinces, then the embassy plates' 使."""
WINDOW_WIDTH = 56
"""Columns of the 160-wide OCR input the classifier sees: the first character of a single-row plate
stands at about 10-30 px (crop margins vary), the stitched double-row plate's at 5-25 px."""
FUSE_WEIGHT = 0.3
"""The classifier's weight in the fused first slot (the OCR's is 1 minus it)."""
FUSE_BELOW = 0.6
"""The classifier is asked only about crops whose first character the OCR gives less than this.
Chosen on validation sets (synthetic seed 4242, 200 plates per layout, and lyl8213_valid): nearly
all of the gain is on crops the OCR gives under 0.6 (+12 plates of 1,750 at weight 0.3, none lost;
asking about every crop: +13), and a sure OCR read of a real photograph is left alone — with
weight 0.5 and every crop asked, two small 粤 plates of easypr_dev's photos were lost or misread."""


def window(ocr_inputs: np.ndarray) -> np.ndarray:
    """The classifier's input: the left `WINDOW_WIDTH` columns of OCR inputs (N, 48, 160, C), contiguous."""
    return np.ascontiguousarray(ocr_inputs[:, :, :WINDOW_WIDTH])


def fuse_first_slot(
    probs: np.ndarray, classes: np.ndarray, class_index: np.ndarray, weight: float = FUSE_WEIGHT
) -> np.ndarray:
    """`probs` (N, slots, vocab) with slot 0's first-character symbols replaced by the weighted
    geometric mean of the OCR's and the classifier's (`classes`, (N, len(PROVINCE_CLASSES))) beliefs.

    `class_index` gives each class's symbol index in the OCR's alphabet. The fused share is rescaled
    to the mass the OCR gave those symbols, so the other symbols of slot 0 (a letter, the pad) keep
    their probability and a crop the OCR thinks starts with no province stays that way.
    """
    ocr = probs[:, 0, class_index]
    mass = ocr.sum(axis=1, keepdims=True)
    fused = np.exp(
        (1.0 - weight) * np.log(np.maximum(ocr, 1e-9)) + weight * np.log(np.maximum(classes, 1e-9))
    )
    fused *= mass / fused.sum(axis=1, keepdims=True)
    out = probs.copy()
    out[:, 0, class_index] = fused
    return out


class ProvinceClassifier:
    """The ONNX province classifier: (N, 48, WINDOW_WIDTH, 3) uint8 RGB in, (N, classes) probabilities out."""

    def __init__(
        self,
        onnx_model_path: Path | str,
        alphabet: str,
        threads: int = 2,
        weight: float = FUSE_WEIGHT,
        below: float = FUSE_BELOW,
    ) -> None:
        path = Path(onnx_model_path)
        if not path.is_file():
            raise FileNotFoundError(f"找不到省份分类模型 / province model file not found: {path}")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        missing = [c for c in PROVINCE_CLASSES if c not in alphabet]
        if missing:
            raise ValueError(f"OCR alphabet lacks {''.join(missing)}")
        self.class_index = np.array([alphabet.index(c) for c in PROVINCE_CLASSES])
        self.weight = weight
        self.below = below

    def probs(self, ocr_inputs: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of OCR inputs (the window is cut here)."""
        return self._session.run(None, {self._input: window(ocr_inputs)})[0]

    def fuse(self, probs: np.ndarray, ocr_inputs: np.ndarray) -> np.ndarray:
        """The OCR's `probs` with the first slot of each crop it is unsure of (`below`) fused with this
        classifier's reading of that crop's input; the sure crops are left as they are (and cost nothing)."""
        unsure = np.flatnonzero(probs[:, 0, self.class_index].max(axis=1) < self.below)
        if not unsure.size:
            return probs
        out = probs.copy()
        out[unsure] = fuse_first_slot(probs[unsure], self.probs(ocr_inputs[unsure]), self.class_index, self.weight)
        return out
