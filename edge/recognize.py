"""Plate OCR behind a small protocol, and the crop rectification every recognizer wants.

The default recognizer wraps fast-plate-ocr's ONNX runtime class with the project's own model.
Crops are warped from the detector's four corners to a level, front-on rectangle first: the OCR
model was trained on such crops, and a tilted plate costs it characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from dealergate.plates import PlateType
from edge.types import Detection, PlateRead

if TYPE_CHECKING:
    from fast_plate_ocr.core.types import PlatePrediction

_TYPE_VALUES = {t.value for t in PlateType if t is not PlateType.UNKNOWN}


@runtime_checkable
class Recognizer(Protocol):
    """Reads the text of rectified plate crops (BGR)."""

    def read(self, crop_bgr: np.ndarray) -> PlateRead: ...

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[PlateRead]: ...


def rectify(image: np.ndarray, detection: Detection, margin: float = 0.06) -> np.ndarray:
    """The plate as a level rectangle, padded on each side by `margin` of its width (left, right)
    and of its height (top, bottom) — the loose crops the OCR model was trained on.

    Without corners the axis-aligned box (plus margin) is cut out as is. The output keeps the
    plate's own pixel size: the recognizer resizes to its input anyway, and upsampling here would
    only cost time.
    """
    h_img, w_img = image.shape[:2]
    if detection.corners is None:
        x1, y1, x2, y2 = detection.box
        px, py = round((x2 - x1) * margin), round((y2 - y1) * margin)
        x1, y1 = max(0, x1 - px), max(0, y1 - py)
        x2, y2 = min(w_img, x2 + px), min(h_img, y2 + py)
        return image[y1:y2, x1:x2].copy()
    tl, tr, br, bl = detection.corners.astype(np.float32)
    w = max(8.0, float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    h = max(4.0, float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    mx, my = w * margin, h * margin
    dst = np.array([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]], dtype=np.float32)
    size = (round(w + 2 * mx), round(h + 2 * my))
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], dtype=np.float32), dst)
    return cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class FastPlateRecognizer:
    """fast-plate-ocr ONNX model: one forward pass per batch of crops, CPU by default."""

    def __init__(
        self,
        onnx_model_path: Path | str,
        plate_config_path: Path | str,
        device: Literal["cpu", "cuda", "auto"] = "cpu",
    ) -> None:
        model, config = Path(onnx_model_path), Path(plate_config_path)
        for path in (model, config):
            if not path.is_file():
                raise FileNotFoundError(f"找不到 OCR 模型文件 / OCR model file not found: {path}")
        import onnxruntime as ort
        from fast_plate_ocr import LicensePlateRecognizer

        options = ort.SessionOptions()
        # two small cores shared with capture and detection: one inference thread stays out of their way
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._ocr = LicensePlateRecognizer(
            onnx_model_path=model,
            plate_config_path=config,
            device=device,
            sess_options=options,
        )
        self._pad = self._ocr.config.pad_char
        self._gray = self._ocr.config.image_color_mode == "grayscale"

    def _prepare(self, crop_bgr: np.ndarray) -> np.ndarray:
        """fast-plate-ocr takes in-memory arrays in the model's own colour mode (RGB or grey)."""
        if crop_bgr.ndim == 2:
            return crop_bgr if self._gray else cv2.cvtColor(crop_bgr, cv2.COLOR_GRAY2RGB)
        return cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY if self._gray else cv2.COLOR_BGR2RGB)

    def read(self, crop_bgr: np.ndarray) -> PlateRead:
        return self.read_batch([crop_bgr])[0]

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[PlateRead]:
        if not crops:
            return []
        predictions = self._ocr.run(
            [self._prepare(c) for c in crops], return_confidence=True, remove_pad_char=False
        )
        return [self._to_read(p) for p in predictions]

    def _to_read(self, prediction: PlatePrediction) -> PlateRead:
        """Drop pad slots wherever they fall (a model may emit one mid-plate) with their scores."""
        raw, probs = prediction.plate, prediction.char_probs
        scores = [float(x) for x in probs] if probs is not None else [1.0] * len(raw)
        kept = [(ch, p) for ch, p in zip(raw, scores, strict=False) if ch != self._pad]
        text = "".join(ch for ch, _ in kept)
        char_conf = tuple(round(p, 4) for _, p in kept)
        confidence = (
            min(char_conf) if char_conf else 0.0
        )  # a plate is only as sure as its least sure character
        hint = prediction.region if prediction.region in _TYPE_VALUES else None
        return PlateRead(
            text,
            round(confidence, 4),
            char_conf,
            PlateType(hint) if hint else None,
            round(float(prediction.region_prob or 0.0), 4) if hint else 0.0,
        )
