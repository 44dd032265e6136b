"""Plate OCR behind a small protocol, and the crop rectification every recognizer wants.

The default recognizer wraps fast-plate-ocr's ONNX runtime class with the project's own model.
Crops are warped from the detector's four corners to a level, front-on rectangle first: the OCR
model was trained on such crops, and a tilted plate costs it characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import cv2
import numpy as np
from fast_plate_ocr.core.process import resize_image
from fast_plate_ocr.inference.config import PlateConfig

from dealergate.plate_crops import maybe_double_row, stitch_rows
from dealergate.plates import matching_types
from edge.decode import GrammarDecoder
from edge.province import ProvinceClassifier
from edge.second_reader import CrnnPlateReader, asked, rescore
from edge.types import Detection, PlateRead


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


MARGIN = (0.05, 0.03)
"""The second framing's margin (`look_again_below`): this share of the crop's height above and below,
of its width left and right, edge pixels repeated."""


LOOK_AGAIN_FROM = 0.2
"""Reads less sure than this are not read again: on a photo they are nearly all grilles, signs and
lamps (124 of the 195 crops of easypr_dev's photos that would be read again), and reading them
again cost 5-7 ms a photo; on the validation crops 12 of 364."""


def with_margin(crop: np.ndarray) -> np.ndarray:
    """`crop` with `MARGIN` added around it by repeating its edge pixels."""
    h, w = crop.shape[:2]
    dy, dx = max(1, round(h * MARGIN[0])), max(1, round(w * MARGIN[1]))
    return cv2.copyMakeBorder(crop, dy, dy, dx, dx, cv2.BORDER_REPLICATE)


def ocr_input(crop_bgr: np.ndarray, cfg: PlateConfig) -> np.ndarray:
    """The OCR model's input for one BGR crop: its colour mode (RGB or grey) at its input size —
    the one preprocessing shared by the edge and the province classifier's training."""
    gray = cfg.image_color_mode == "grayscale"
    if crop_bgr.ndim == 2:
        image = crop_bgr if gray else cv2.cvtColor(crop_bgr, cv2.COLOR_GRAY2RGB)
    else:
        image = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY if gray else cv2.COLOR_BGR2RGB)
    return resize_image(
        image,
        cfg.img_height,
        cfg.img_width,
        image_color_mode=cfg.image_color_mode,
        keep_aspect_ratio=cfg.keep_aspect_ratio,
        interpolation_method=cfg.interpolation,
        padding_color=cfg.padding_color,
    )


class FastPlateRecognizer:
    """fast-plate-ocr ONNX model: one forward pass per batch of crops, CPU by default; with a
    `province_model_path`, the province classifier's reading of the first character is fused in
    (`edge.province`) before the grammar decoding."""

    def __init__(
        self,
        onnx_model_path: Path | str,
        plate_config_path: Path | str,
        device: Literal["cpu", "cuda", "auto"] = "cpu",
        threads: int = 2,
        province_model_path: Path | str | None = None,
        second_reader: CrnnPlateReader | None = None,
        look_again_below: float = 0.0,
    ) -> None:
        model, config = Path(onnx_model_path), Path(plate_config_path)
        for path in (model, config):
            if not path.is_file():
                raise FileNotFoundError(f"找不到 OCR 模型文件 / OCR model file not found: {path}")
        import onnxruntime as ort
        from fast_plate_ocr import LicensePlateRecognizer

        options = ort.SessionOptions()
        # frames are read one after another, so the OCR may use both cores of a small box while it
        # runs (float model: 1.6 ms per crop instead of 2.6 ms with one thread; int8: 1.2-1.9 ms
        # against 1.7-1.9 ms); capture decodes on its own thread
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._ocr = LicensePlateRecognizer(
            onnx_model_path=model,
            plate_config_path=config,
            device=device,
            sess_options=options,
        )
        cfg = self._ocr.config
        self._cfg = cfg
        self._session = self._ocr.model
        self._outputs = [self._ocr.plate_output_name]
        regions = None
        if self._ocr.has_region_head and self._ocr.region_output_name is not None:
            self._outputs.append(self._ocr.region_output_name)
            regions = list(cfg.plate_regions or [])
        self._decoder = GrammarDecoder(cfg.alphabet, cfg.pad_char, cfg.max_plate_slots, regions)
        self._province = ProvinceClassifier(province_model_path, cfg.alphabet) if province_model_path else None
        self._second = second_reader
        self.look_again_below = look_again_below
        self.looked_again = 0
        """Crops read a second time with a margin (`look_again_below`)."""
        self.second_opinions: Counter[str] = Counter()
        """Reads shown to the second reader ("asked"), and of those changed to another plate
        ("changed") or made surer because it read the same plate ("lifted"): for `make bench`."""
        self._pad_index = cfg.alphabet.index(cfg.pad_char)

    def _prepare(self, crop_bgr: np.ndarray) -> np.ndarray:
        return ocr_input(crop_bgr, self._cfg)

    def read(self, crop_bgr: np.ndarray) -> PlateRead:
        return self.read_batch([crop_bgr])[0]

    def read_batch(self, crops: Sequence[np.ndarray]) -> list[PlateRead]:
        """One forward pass for all crops, then grammar-constrained decoding (`edge.decode`).

        A crop narrow enough to be a double-row plate is also read with its rows stitched side by
        side (as the model learnt double-row plates); the surer of its two reads is kept. A one-row
        crop read with a character under `look_again_below` is read once more with a margin
        (`with_margin`) and the two readings averaged: the OCR's mistakes on a blurred or tightly cut
        plate depend on where exactly the plate's edges fall in its input, and a second framing
        outvotes some of them (models/README.md, "Second framing").
        """
        if not crops:
            return []
        inputs = [self._prepare(c) for c in crops]
        owner = list(range(len(crops)))
        for i, crop in enumerate(crops):
            if maybe_double_row(crop):
                inputs.append(self._prepare(stitch_rows(crop)))
                owner.append(i)
        batch = np.stack(inputs)
        outputs = self._session.run(self._outputs, {"input": batch})
        raw = outputs[0].reshape(len(inputs), self._cfg.max_plate_slots, len(self._cfg.alphabet))
        regions = outputs[1] if len(outputs) > 1 else None
        best, source, probs = self._decode(raw, regions, batch, owner, len(crops))
        frames: dict[int, np.ndarray] = {}  # the CRNN's reading of a crop, kept for the second framing
        for i, read in enumerate(best):
            if source[i] == i:  # a stitched double-row read is the OCR's own: the CRNN reads one text line
                best[i] = self._with_second_opinion(i, crops[i], read, probs[i], frames)
        stitched = set(owner[len(crops) :])
        again = [
            i
            for i, read in enumerate(best)
            if LOOK_AGAIN_FROM <= read.confidence < self.look_again_below and i not in stitched
        ]
        if again:
            extra = np.stack([self._prepare(with_margin(crops[i])) for i in again])
            more = self._session.run(self._outputs, {"input": extra})
            mean = (raw[again] + more[0].reshape(len(again), *raw.shape[1:])) / 2.0
            mean_regions = (regions[again] + more[1]) / 2.0 if regions is not None else None
            own_rows = list(range(len(again)))  # each of these crops has the one row: its own
            averaged, _, fused = self._decode(mean, mean_regions, batch[again], own_rows, len(again))
            for k, i in enumerate(again):
                best[i] = self._with_second_opinion(i, crops[i], averaged[k], fused[k], frames)
            self.looked_again += len(again)
        return best

    def _with_second_opinion(
        self, i: int, crop: np.ndarray, read: PlateRead, probs: np.ndarray, frames: dict[int, np.ndarray]
    ) -> PlateRead:
        """`read` of crop `i`, or the second reader's opinion of it where it is asked
        (`edge.second_reader.asked`); `frames` keeps the CRNN's reading of each crop it has read."""
        if self._second is None or not asked(read.char_confidences):
            return read
        if i not in frames:
            frames[i] = self._second.frames(crop)
        return self._second_opinion(frames[i], probs, read)

    def _decode(
        self, raw: np.ndarray, regions: np.ndarray | None, batch: np.ndarray, owner: list[int], n: int
    ) -> tuple[list[PlateRead], list[int], np.ndarray]:
        """Each of the `n` crops' surest read over its rows of `raw` (the crop, its stitched rows),
        the row that gave it, and the probabilities decoded (the province classifier fused in)."""
        probs = self._province.fuse(raw, batch) if self._province is not None else raw
        best: list[PlateRead | None] = [None] * n
        source = [0] * n
        for row, (i, d) in enumerate(zip(owner, self._decoder.decode(probs, regions), strict=True)):
            confidence = min(d.char_probs) if d.char_probs else 0.0  # only as sure as its least sure character
            read = PlateRead(d.text, round(confidence, 4), d.char_probs, d.layout, d.layout_prob, d.raw)
            current = best[i]
            if current is None or read.confidence > current.confidence:
                best[i], source[i] = read, row
        return [r for r in best if r is not None], source, probs

    def _second_opinion(self, frames: np.ndarray, probs: np.ndarray, read: PlateRead) -> PlateRead:
        """`read`, or the plate the second reader (its CRNN's `frames` of the crop) and the OCR
        agree on better (`edge.second_reader`)."""
        assert self._second is not None
        alphabet = self._cfg.alphabet
        better = rescore(probs, read.text, read.char_confidences, alphabet, self._pad_index, frames, self._second)
        self.second_opinions["asked"] += 1
        if better is None:
            return read
        self.second_opinions["changed" if better.text != read.text else "lifted"] += 1
        types = matching_types(better.text)
        hint = read.type_hint if read.type_hint in types else (types[0] if types else None)
        return PlateRead(better.text, min(better.char_probs), better.char_probs, hint, read.type_hint_confidence, read.raw_text)
