"""CTC arithmetic for a sequence reader's per-frame probabilities (blank = class 0).

A CTC reader (a CRNN) gives, for each of T horizontal frames of a text line, a distribution over a
blank and its characters; a text is the frames' labels with repeats merged and blanks dropped.
`best_path` is that greedy reading; `log_likelihoods` is the probability the reader gives a text of
our choosing (the forward algorithm over every frame alignment), which is what lets a second
reader *score* the first reader's candidates instead of only proposing its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BLANK = 0
_FLOOR = 1e-12


def best_path(frames: np.ndarray, charset: str) -> tuple[str, tuple[float, ...]]:
    """The greedy reading of (T, 1 + len(charset)) frame probabilities and each character's
    probability (its best frame's): repeats merged, blanks dropped."""
    best = frames.argmax(axis=1)
    peak = frames.max(axis=1)
    text: list[str] = []
    probs: list[float] = []
    prev = BLANK
    for label, p in zip(best.tolist(), peak.tolist(), strict=True):
        if label != BLANK and label != prev:
            text.append(charset[label - 1])
            probs.append(p)
        elif label != BLANK and p > probs[-1]:
            probs[-1] = p
        prev = label
    return "".join(text), tuple(probs)


def log_likelihoods(frames: np.ndarray, labels: Sequence[Sequence[int]]) -> np.ndarray:
    """log P(label | frames) for each label sequence (class indices, no blanks), all of one length.

    The forward algorithm on the blank-interleaved label (blank, l1, blank, l2, ..., blank), run for
    all labels at once: one vectorised step per frame. A label longer than the frames allow scores
    -inf.
    """
    if not labels:
        return np.empty(0)
    n = len(labels[0])
    if any(len(label) != n for label in labels):
        raise ValueError("labels must share one length")
    k, s = len(labels), 2 * n + 1
    ext = np.zeros((k, s), dtype=np.intp)
    ext[:, 1::2] = np.asarray(labels, dtype=np.intp).reshape(k, n)
    log_frames = np.log(np.maximum(frames, _FLOOR))
    emit = log_frames[:, ext]  # (T, k, s)
    # a step may skip the blank between two different characters
    can_skip = np.zeros((k, s), dtype=bool)
    can_skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.full((k, s), -np.inf)
    alpha[:, 0] = emit[0, :, 0]
    if s > 1:
        alpha[:, 1] = emit[0, :, 1]
    stay, step, skip = (np.full((k, s), -np.inf) for _ in range(3))
    for t in range(1, frames.shape[0]):
        stay[:] = alpha
        step[:, 1:] = alpha[:, :-1]
        skip[:, 2:] = np.where(can_skip[:, 2:], alpha[:, :-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), skip) + emit[t]
    return np.logaddexp(alpha[:, -1], alpha[:, -2]) if s > 1 else alpha[:, -1]
