"""Classical colour-based plate detector: fast enough to run on every frame on a small CPU.

Chinese plates have a uniform, saturated background (blue, yellow, green) or a uniform
white/black one, a fixed aspect ratio and dense character strokes. So: shrink the frame, threshold
each background colour in HSV, close the character holes, and keep the blobs whose rotated
rectangle has a plate's proportions, fills that rectangle and holds character-like vertical edges.
The character test runs on the full-resolution pixels of each candidate, where small plates
still have resolvable strokes. A second, colour-blind pass looks for dense vertical edges shaped
like a row of characters, for plates whose colour the camera lost (night, infrared, glare, dirt).

The work buffers are allocated once per frame size and reused, so a steady stream of frames
allocates little beyond OpenCV's contour lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dealergate.plates import PlateColor
from edge.shrink import shrink
from edge.types import Detection

WORK_WIDTH = 640
"""Frames wider than this are shrunk to it for the colour masks (4× fewer pixels at 1280×720)."""

ASPECTS = (3.14, 3.43, 2.0)
"""Width/height of a single-row plate (440×140 mm), a new-energy plate (480×140) and a double-row
plate (440×220)."""


@dataclass(frozen=True)
class _ColorRange:
    color: PlateColor
    lower: tuple[int, int, int]  # OpenCV HSV: H 0..180, S and V 0..255
    upper: tuple[int, int, int]
    min_edges: float  # weaker colour evidence (white, black) needs more character evidence


_RANGES = (
    _ColorRange(PlateColor.BLUE, (95, 90, 45), (130, 255, 255), 0.08),
    _ColorRange(PlateColor.YELLOW, (11, 80, 80), (34, 255, 255), 0.08),
    _ColorRange(PlateColor.GREEN, (35, 35, 70), (90, 255, 255), 0.08),
    _ColorRange(PlateColor.WHITE, (0, 0, 150), (180, 45, 255), 0.14),
    _ColorRange(PlateColor.BLACK, (0, 0, 0), (180, 255, 65), 0.14),
)
_GREEN = _RANGES[2]
_BOUNDS = [(np.array(r.lower, np.uint8), np.array(r.upper, np.uint8)) for r in _RANGES]

_PALE_GREEN_SHARE = 0.2
"""A white-looking candidate with at least this share of green (in its box, or in the lower half of a
crop) is a new-energy plate: those fade from white at the top to green at the bottom."""

MIN_PLATE_WIDTH = 36
"""Plates narrower than this (full-resolution pixels) cannot be read anyway."""
_MIN_JUMPS, _MAX_JUMPS = 7, 40
"""Light/dark transitions along a character row: 7-8 characters make about 10 to 30."""
_BAND_H = 20
"""Height (px) the character band is resized to before the stroke tests."""
MAX_CANDIDATES = 6
"""At most this many detections per frame, best first: each one costs an OCR run."""


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Four points as float32 (4, 2) ordered top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    by_y = pts[np.argsort(pts[:, 1], kind="stable")]
    top = by_y[:2][np.argsort(by_y[:2, 0])]
    bottom = by_y[2:][np.argsort(by_y[2:, 0])]
    return np.array([top[0], top[1], bottom[1], bottom[0]], dtype=np.float32)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over the smaller box: 1.0 when one box lies inside the other."""
    return max(share_inside(a, b), share_inside(b, a))


def share_inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Share of box `a` that lies inside box `b`."""
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    area = (a[2] - a[0]) * (a[3] - a[1])
    return max(0, x2 - x1) * max(0, y2 - y1) / area if area > 0 else 0.0


def _suppress(dets: list[Detection], iou: float = 0.3) -> list[Detection]:
    """Greedy non-maximum suppression, best score first; also drops boxes nested in a kept one
    (the dark character run inside a yellow plate looks like a small black plate)."""
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: d.score, reverse=True):
        if all(_iou(d.box, k.box) < iou and share_inside(d.box, k.box) < 0.6 for k in kept):
            kept.append(d)
    return kept


def dominant_plate_color(crop_bgr: np.ndarray) -> PlateColor:
    """The plate background colour of a crop that is mostly plate (for `--ocr-only` reads)."""
    if crop_bgr.size == 0:
        return PlateColor.UNKNOWN
    hsv = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2HSV)
    counts = [
        (cv2.countNonZero(cv2.inRange(hsv, lo, hi)), r.color)
        for r, (lo, hi) in zip(_RANGES, _BOUNDS, strict=True)
    ]
    best, color = max(counts)
    if color is PlateColor.WHITE:
        # in a loose box a new-energy plate's pale top and a light car body around it outvote the green
        lower = hsv[hsv.shape[0] // 2 :]
        lo, hi = _BOUNDS[_RANGES.index(_GREEN)]
        if cv2.countNonZero(cv2.inRange(lower, lo, hi)) >= _PALE_GREEN_SHARE * lower.shape[0] * lower.shape[1]:
            return PlateColor.GREEN
    return color if best >= 0.25 * hsv.shape[0] * hsv.shape[1] else PlateColor.UNKNOWN


_RotatedRect = tuple[tuple[float, float], tuple[float, float], float]


def _long_side_first(contour: np.ndarray) -> _RotatedRect:
    """The contour's rotated rectangle with its long side first (measured along the plate) and the
    angle of that side in [-90, 90) degrees."""
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
    if rw < rh:
        rw, rh, angle = rh, rw, angle - 90.0
    return (cx, cy), (rw, rh), (angle + 90.0) % 180.0 - 90.0


_BOUNDS_BY_COLOR = dict(zip((r.color for r in _RANGES), _BOUNDS, strict=True))
_CROP_CLOSE = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 5))


def plate_corners_in_crop(crop_bgr: np.ndarray, color: PlateColor) -> np.ndarray | None:
    """The corners (tl, tr, br, bl) of the `color` plate inside a crop that is mostly plate: the
    largest blob of that background colour as a rotated rectangle, or None when there is no such
    blob covering 30 % of the crop. How a tilted crop handed to `--ocr-only` is levelled."""
    bounds = _BOUNDS_BY_COLOR.get(color)
    if bounds is None or crop_bgr.ndim != 3 or min(crop_bgr.shape[:2]) < 8:
        return None
    mask = cv2.inRange(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2HSV), *bounds)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _CROP_CLOSE)  # the characters' holes
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    blob = max(contours, key=cv2.contourArea)
    if cv2.contourArea(blob) < 0.3 * crop_bgr.shape[0] * crop_bgr.shape[1]:
        return None
    return order_corners(cv2.boxPoints(_long_side_first(blob)))


class ColorPlateDetector:
    """HSV-mask plate detector with an edge-based fallback; reuses its work buffers between frames.

    The fallback finds plates whose colour is washed out (night, infrared, overexposure, a dirty
    plate) from their dense vertical character edges alone; its candidates score lower than
    colour-confirmed ones, so they only fill the remaining candidate slots.
    """

    def __init__(self, max_candidates: int = MAX_CANDIDATES, use_edges: bool = True) -> None:
        self.max_candidates = max_candidates
        self.use_edges = use_edges
        self._shape: tuple[int, ...] | None = None
        self._close = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3))
        self._open = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._edge_close = [cv2.getStructuringElement(cv2.MORPH_RECT, size) for size in ((11, 3), (23, 5))]

    def _buffers(self, shape: tuple[int, ...]) -> None:
        if shape == self._shape:
            return
        h, w = shape[:2]
        self._scale = min(1.0, WORK_WIDTH / w)
        sw, sh = max(1, round(w * self._scale)), max(1, round(h * self._scale))
        self._small = np.empty((sh, sw, 3), np.uint8)
        self._hsv = np.empty((sh, sw, 3), np.uint8)
        self._masks = {r.color: np.empty((sh, sw), np.uint8) for r in _RANGES}
        self._mixed = np.empty((sh, sw), np.uint8)
        self._tmp = np.empty((sh, sw), np.uint8)
        self._gray = np.empty((sh, sw), np.uint8)
        self._gx = np.empty((sh, sw), np.int16)
        self._edges = np.empty((sh, sw), np.uint8)
        self._shape = shape

    def detect(self, image: np.ndarray) -> list[Detection]:
        if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 8 or image.shape[1] < 8:
            return []
        self._buffers(image.shape)
        if self._scale < 1.0:
            small = shrink(image, self._small.shape[1::-1], dst=self._small)
        else:
            small = image
        cv2.cvtColor(small, cv2.COLOR_BGR2HSV, dst=self._hsv)
        found: list[Detection] = []
        for rng, (lo, hi) in zip(_RANGES, _BOUNDS, strict=True):
            mask = self._masks[rng.color]
            cv2.inRange(self._hsv, lo, hi, dst=mask)
            found += self._from_mask(mask, image, rng)
        # large new-energy plates are yellow on the left, green on the right
        cv2.bitwise_or(self._masks[PlateColor.GREEN], self._masks[PlateColor.YELLOW], dst=self._mixed)
        found += self._from_mask(self._mixed, image, _GREEN)
        if self.use_edges:
            found += self._from_edges(small, image)
        return _suppress(found)[: self.max_candidates]

    def _from_mask(self, mask: np.ndarray, image: np.ndarray, rng: _ColorRange) -> list[Detection]:
        """Plate-shaped blobs of one background colour."""
        cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close, dst=self._tmp)
        cv2.morphologyEx(self._tmp, cv2.MORPH_OPEN, self._open, dst=self._tmp)
        contours, _ = cv2.findContours(self._tmp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        out: list[Detection] = []
        for c in contours:
            rect = self._plate_rect(c)
            if rect is None:
                continue
            (cx, cy), (rw, rh), angle = rect
            aspect = rw / rh
            fill = cv2.contourArea(c) / (rw * rh)
            if rng.color is PlateColor.GREEN and aspect > 4.3:
                # gradient green plates fade to white at the top: only the lower part is green
                rh, cy = rw / ASPECTS[1], cy - (rw / ASPECTS[1] - rh) / 2
                aspect = ASPECTS[1]
            fit = min(abs(aspect - a) / a for a in ASPECTS)
            if fit > 0.35 or fill < 0.6:
                continue
            color = rng.color
            if color is PlateColor.WHITE and self._share(PlateColor.GREEN, c) >= _PALE_GREEN_SHARE:
                color = PlateColor.GREEN  # a new-energy plate's pale top merged with its green bottom
            det = self._verify(image, ((cx, cy), (rw, rh), angle), color, rng.min_edges, fit, fill)
            if det is not None:
                out.append(det)
        return out

    def _share(self, color: PlateColor, contour: np.ndarray) -> float:
        """Share of the contour's bounding box that `color`'s mask covers (masks made earlier this frame)."""
        x, y, w, h = cv2.boundingRect(contour)
        roi = self._masks[color][y : y + h, x : x + w]
        return cv2.countNonZero(roi) / roi.size if roi.size else 0.0

    def _from_edges(self, small: np.ndarray, image: np.ndarray) -> list[Detection]:
        """Blobs of dense vertical edges shaped like a character row, grown to the plate's size."""
        cv2.cvtColor(small, cv2.COLOR_BGR2GRAY, dst=self._gray)
        cv2.Sobel(self._gray, cv2.CV_16S, 1, 0, dst=self._gx, ksize=3)
        cv2.convertScaleAbs(self._gx, dst=self._tmp)
        cv2.threshold(self._tmp, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU, dst=self._edges)
        contours: list[np.ndarray] = []
        for kernel in self._edge_close:  # character gaps grow with the plate: one kernel per size band
            cv2.morphologyEx(self._edges, cv2.MORPH_CLOSE, kernel, dst=self._tmp)
            cv2.morphologyEx(self._tmp, cv2.MORPH_OPEN, self._open, dst=self._tmp)
            contours += cv2.findContours(self._tmp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
        out: list[Detection] = []
        for c in contours:
            rect = self._plate_rect(c)
            if rect is None:
                continue
            (cx, cy), (rw, rh), angle = rect
            aspect = rw / rh
            fill = cv2.contourArea(c) / (rw * rh)
            if not 2.6 <= aspect <= 6.5 or fill < 0.5:
                continue
            # the edges cover the characters (410 x 90 mm of a 440 x 140 mm plate)
            rw, rh = rw * 1.07, max(rh * 1.1, rw * 1.07 / ASPECTS[0])
            det = self._verify(image, ((cx, cy), (rw, rh), angle), PlateColor.UNKNOWN, 0.14, 0.0, fill)
            if det is None:
                continue
            x1, y1, x2, y2 = det.box
            color = dominant_plate_color(image[y1:y2, x1:x2])
            out.append(Detection(det.box, det.corners, color, det.score * 0.8))
        return out

    def _plate_rect(self, contour: np.ndarray) -> _RotatedRect | None:
        """The contour's rotated rectangle with the long side first, if it is big and level enough."""
        _, _, w, h = cv2.boundingRect(contour)
        if w < MIN_PLATE_WIDTH * self._scale or h < 4 or w < h:
            return None
        rect = _long_side_first(contour)
        _, (_, rh), angle = rect
        if rh <= 0 or abs(angle) > 25.0:
            return None
        return rect

    def _verify(
        self,
        image: np.ndarray,
        rect: tuple[tuple[float, float], tuple[float, float], float],
        color: PlateColor,
        min_edges: float,
        fit: float,
        fill: float,
    ) -> Detection | None:
        """Scale a work-size rectangle to the frame and keep it if it holds a row of characters."""
        inv = 1.0 / self._scale
        (cx, cy), (rw, rh), angle = rect
        corners = order_corners(cv2.boxPoints(((cx * inv, cy * inv), (rw * inv, rh * inv), angle)))
        fh, fw = image.shape[:2]
        x1, y1 = (max(0, int(np.floor(v))) for v in corners.min(axis=0))
        x2, y2 = int(min(fw, np.ceil(corners[:, 0].max()))), int(min(fh, np.ceil(corners[:, 1].max())))
        if x2 - x1 < MIN_PLATE_WIDTH or y2 - y1 < 8 or x2 - x1 > fw * 0.7 or y2 - y1 > fh * 0.4:
            return None
        double_row = abs(rw / rh - ASPECTS[2]) < abs(rw / rh - ASPECTS[0])
        edges, jumps = _stroke_evidence(image, (x1, y1, x2, y2), double_row)
        if edges < min_edges or not _MIN_JUMPS <= jumps <= _MAX_JUMPS:
            return None
        score = (1.0 - fit / 0.35) * 0.4 + min(fill, 1.0) * 0.3 + min(edges / 0.3, 1.0) * 0.3
        return Detection((x1, y1, x2, y2), corners, color, float(np.clip(score, 0.0, 1.0)))


def _stroke_evidence(
    image: np.ndarray, box: tuple[int, int, int, int], double_row: bool
) -> tuple[float, float]:
    """(vertical-edge density, light/dark transitions per row) inside a candidate's character band.

    Measured on a grey copy resized to a fixed height, so the thresholds mean the same at any
    plate size. A plate row crosses 7-8 characters: at least a dozen transitions, evenly spread;
    a bumper, a headlight or a window crosses two or four.
    """
    x1, y1, x2, y2 = box
    h = y2 - y1
    top, bottom = (y1 + int(h * 0.45), y2 - h // 10) if double_row else (y1 + h // 5, y2 - h // 5)
    band = image[top:bottom, x1 + (x2 - x1) // 40 : x2 - (x2 - x1) // 40]
    if band.shape[0] < 2 or band.shape[1] < 8:
        return 0.0, 0.0
    gray = cv2.cvtColor(band, cv2.COLOR_BGR2GRAY)
    bh, bw = gray.shape
    gray = cv2.resize(gray, (max(8, round(bw * _BAND_H / bh)), _BAND_H), interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3)
    strong = cv2.convertScaleAbs(gx) > 60
    density = np.count_nonzero(strong) / strong.size
    _, binary = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    transitions = np.count_nonzero(np.diff(binary[4:-4], axis=1), axis=1)
    return density, float(np.median(transitions))
