"""A second opinion on a plate's first character: the province classifier.

The OCR model reads all characters of a 48×160 crop with one small network; the province glyphs
(31 provinces plus 使) are the most complex shapes of the plate and the ones it confuses most —
on our synthetic held-out sets almost every misread is the province alone (新 read 浙, 晋 read 贵),
most often a province that is rarer in training. The classifier looks only at the left end of the
same OCR input (`WINDOW_WIDTH` pixels, where every layout's first character stands, the stitched
double-row plate's too) and spends all its capacity on that one character; its probabilities are
fused with the OCR's first slot (`fuse_first_slot`, a weighted geometric mean), so where they
disagree the surer one wins; the read's confidence stays the OCR's own, except where the rest of the
plate reads surely (`LIFT_REST_FROM`): there the classifier's certainty counts too.

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
FUSE_BELOW = 0.8
"""The classifier is asked only about crops whose first character the OCR gives less than this: a
sure OCR read costs nothing extra. Chosen on validation sets (synthetic seed 4242, 200 plates per
layout, and lyl8213_valid; classifier round 2): +17 plates of 1,750 at gate 0.8, +14 at 0.6, +20
asking about every crop; none lost at any gate, easypr_dev's reads identical to the OCR alone."""
FUSE_REST_FROM = 0.5
"""…and only where every other slot's best symbol has at least this probability: a crop with a less
sure character will not be kept as a read (the reader's `MIN_READ_CONFIDENCE` is 0.5, and the fusion
never changes a read's confidence), and on a whole photo most candidates are such non-plates —
asking about all of them cost 8 ms a photo on easypr_dev (24.5 → 32.8 ms median)."""


LIFT_REST_FROM = 0.9
"""Where every slot but the first reads at least this surely, the fusion may lift (or lower) the
read's confidence (`fuse_first_slot`'s `lift`): the serial is plainly a plate's, and the province
is the smallest glyph on it, the one a far or blurred plate loses first. Below it the classifier
only ranks: the first fusion, lifting everywhere, kept a non-plate of easypr_dev's 粤BTT255.jpg."""


def class_index(alphabet: str) -> np.ndarray:
    """Each of `PROVINCE_CLASSES`' symbol index in the OCR's `alphabet`."""
    return np.array([alphabet.index(c) for c in PROVINCE_CLASSES])


def asked(
    probs: np.ndarray, index: np.ndarray, below: float = FUSE_BELOW, rest_from: float = FUSE_REST_FROM
) -> tuple[np.ndarray, np.ndarray]:
    """The gate: which crops of an OCR batch (N, slots, vocab) the classifier is asked about — the
    OCR gives the first character less than `below` but every other slot at least `rest_from` —
    and each crop's least sure other slot. `index`: `class_index` of the OCR's alphabet."""
    rest = probs[:, 1:].max(axis=2).min(axis=1)
    return (probs[:, 0, index].max(axis=1) < below) & (rest >= rest_from), rest


def window(ocr_inputs: np.ndarray) -> np.ndarray:
    """The classifier's input: the left `WINDOW_WIDTH` columns of OCR inputs (N, 48, 160, C), contiguous."""
    return np.ascontiguousarray(ocr_inputs[:, :, :WINDOW_WIDTH])


def fuse_first_slot(
    probs: np.ndarray,
    classes: np.ndarray,
    class_index: np.ndarray,
    weight: float = FUSE_WEIGHT,
    lift: np.ndarray | None = None,
) -> np.ndarray:
    """`probs` (N, slots, vocab) with slot 0's first-character symbols re-ranked by the weighted
    geometric mean of the OCR's and the classifier's (`classes`, (N, len(PROVINCE_CLASSES))) beliefs.

    `class_index` gives each class's symbol index in the OCR's alphabet. The fused scores are scaled
    so that the winning class gets exactly the OCR's own best class probability: the classifier
    picks *which* province, never *how sure* the read is. So the reader keeps, drops and refines
    the same candidates as with the OCR alone — a sign or a grille the classifier happens to agree
    with is no more a plate (the first, mass-preserving fusion lifted a non-plate of easypr_dev's
    粤BTT255.jpg over `MIN_READ_CONFIDENCE`, and lowered a tilted plate's first read below the
    refiner's floor). The other symbols of slot 0 (a letter, the pad) keep their probability.
    Slot 0's class scores are then a ranking, not a distribution: the decoder takes only maxima.

    Rows where `lift` is true (the rest of the plate reads surely: `LIFT_REST_FROM`) get a
    distribution instead: the weighted geometric mean normalised to the OCR's own mass on the
    classes, so a classifier sure of the province makes the read surer (or less sure).
    """
    ocr = probs[:, 0, class_index]
    fused = np.exp(
        (1.0 - weight) * np.log(np.maximum(ocr, 1e-9)) + weight * np.log(np.maximum(classes, 1e-9))
    )
    scale = ocr.max(axis=1, keepdims=True) / fused.max(axis=1, keepdims=True)
    if lift is not None:
        mass = ocr.sum(axis=1, keepdims=True) / fused.sum(axis=1, keepdims=True)
        scale = np.where(lift[:, None], mass, scale)
    fused *= scale
    out = probs.copy()
    out[:, 0, class_index] = fused
    return out


class ProvinceClassifier:
    """The ONNX province classifier: (N, 48, WINDOW_WIDTH, 3) uint8 RGB in, (N, classes) probabilities out.

    One thread by default: it is asked about one or two crops at a time, now and then, and a thread
    pool of its own would sleep between calls — on easypr_dev's photos waking two threads made a
    call cost 2.3 ms instead of 0.7."""

    def __init__(
        self,
        onnx_model_path: Path | str,
        alphabet: str,
        threads: int = 1,
        weight: float = FUSE_WEIGHT,
        below: float = FUSE_BELOW,
        rest_from: float = FUSE_REST_FROM,
        lift_rest_from: float = LIFT_REST_FROM,
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
        self.class_index = class_index(alphabet)
        self.weight = weight
        self.below = below
        self.rest_from = rest_from
        self.lift_rest_from = lift_rest_from

    def probs(self, ocr_inputs: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of OCR inputs (the window is cut here)."""
        return self._session.run(None, {self._input: window(ocr_inputs)})[0]

    def fuse(self, probs: np.ndarray, ocr_inputs: np.ndarray) -> np.ndarray:
        """The OCR's `probs` with the first slot of each crop it is unsure of (`below`) but otherwise
        reads as a plate (`rest_from`) fused with this classifier's reading of that crop's input; the
        other crops are left as they are (and cost nothing)."""
        gate, rest = asked(probs, self.class_index, self.below, self.rest_from)
        unsure = np.flatnonzero(gate)
        if not unsure.size:
            return probs
        out = probs.copy()
        out[unsure] = fuse_first_slot(
            probs[unsure],
            self.probs(ocr_inputs[unsure]),
            self.class_index,
            self.weight,
            lift=rest[unsure] >= self.lift_rest_from,
        )
        return out
