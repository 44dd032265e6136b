"""Typed values passed between the edge steps (frozen, so a step can never alter another's input)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dealergate.plates import PlateColor, PlateType


@dataclass(frozen=True)
class Detection:
    """A plate candidate in frame pixels.

    `box` is (x1, y1, x2, y2), axis-aligned; `corners` are the four plate corners as a float32
    (4, 2) array ordered top-left, top-right, bottom-right, bottom-left (None when the detector
    only knows the box); `score` is the detector's own 0..1 belief that this is a plate.
    """

    box: tuple[int, int, int, int]
    corners: np.ndarray | None
    color: PlateColor
    score: float

    @property
    def aspect(self) -> float:
        """Width / height of the plate itself (from the corners when known, else the box)."""
        if self.corners is not None:
            tl, tr, br, bl = self.corners
            w = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
            h = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
        else:
            w, h = float(self.box[2] - self.box[0]), float(self.box[3] - self.box[1])
        return w / h if h > 0 else 0.0


@dataclass(frozen=True)
class PlateRead:
    """What the OCR read in one crop: text without padding, its confidence (that of its least
    sure character: one wrong character makes a wrong plate) and each character's.

    `type_hint` is the layout whose rules the decoded text follows, chosen with the model's layout
    head among layouts sharing a grammar (None from a recognizer without one); it only breaks ties
    the grammar and the colour leave open.
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    type_hint: PlateType | None = None
    type_hint_confidence: float = 0.0
    raw_text: str = ""
    """The OCR's unconstrained top-1 text; differs from `text` when the grammar repaired a character."""

    @property
    def repaired(self) -> bool:
        return bool(self.raw_text) and self.raw_text != self.text


@dataclass(frozen=True)
class PlateResult:
    """One plate in one frame: where it is, what it says, which layout it is.

    `crop` is the rectified plate image the text was read from (BGR), kept so that the arrival
    snapshot shows exactly what the OCR saw; excluded from equality and repr.
    """

    detection: Detection
    read: PlateRead
    plate_type: PlateType
    crop: np.ndarray | None = field(default=None, compare=False, repr=False)
