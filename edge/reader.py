"""The plate reader facade: detector → rectified crop → recognizer → plate layout.

Used frame by frame by the edge loop and image by image by `dealergate read`, whose JSON Lines
output is the contract of `shared/tools/plate_eval.py`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from dealergate.plates import PLATE_COLORS, PlateColor, PlateType, is_valid_plate
from edge.config import EdgeSettings
from edge.detect import Detector, Refiner, make_detector
from edge.detect.color import box_overlap, dominant_plate_color, plate_corners_in_crop
from edge.exposure import corrected, is_monochrome
from edge.layout import plate_type_of
from edge.province import LIFT_REST_FROM
from edge.recognize import FastPlateRecognizer, Recognizer, rectify
from edge.second_reader import CrnnPlateReader
from edge.shrink import shrink
from edge.skew import rotate_level, text_skew
from edge.types import Detection, PlateRead, PlateResult

MIN_READ_CONFIDENCE = 0.5
"""Reads whose least sure character is below this are dropped: a grille or a sign, or a plate read
no more often right than wrong. On the crop sets (ccpd_heldout, lyl8213_valid, the synthetic ones;
every crop a plate) reads at 0.4-0.5 were right 10 times and wrong 11, at 0.5-0.6 right 16 and
wrong 12; on easypr_dev's photos all 4 reads at 0.4-0.5 were wrong. (0.4 before v13.)"""
STRONG_READ_CONFIDENCE = 0.7
"""A frame with a valid read this sure needs no second opinion from the fallback detector."""
MAX_REFINES = 4
"""At most this many unsure candidates of one frame get a closer look by the refiner (~3 ms each);
with `tight_boxes` (still images) at most as many sure reads from a loose box get its box too."""
STANDING_AFTER_S = 2.0
"""On a stream, a plate read at the same place for this long stands still (a parked car in view):
its sure read no longer spares the frame the fallback detector, which may find an arriving car the
colour detector missed."""
MAIN_PLATE_MIN_SHARE = 0.06
"""A sure read narrower than this share of the frame's width does not spare the fallback either: at a
gate the arriving car's plate is wider, a narrower one is a car further back, and the colour detector
may have missed the main plate in front of it. On easypr_dev it finds the main plate of 津E28437
(only the car behind was read surely) for about 0.5 ms a photo on the median."""
SECOND_LOOK_MIN_SCORE = 0.4
"""The learned detector's score a box needs in the second look at a still photo where nothing was read
(0.7 on a whole frame otherwise): there a plate is likely, and every box must still read at
`MIN_READ_CONFIDENCE` under a plate grammar. easypr_dev's 皖BBC666 (a dim plate at night) scores
0.45 there and reads at 0.98; no false read was added."""
REFINE_BELOW = 0.8
"""Candidates read less surely than this get the refiner's closer look; a little above
`STRONG_READ_CONFIDENCE` because a box that holds only part of a plate can still read "surely" as
another plate (easypr_dev's 川AL0Q87: the left 60 % read 辽MWAL0Q at 0.76, the refined box
川AL0Q87 at 0.99). A refined read replaces the first only when it is sure and surer."""
LEVEL_MIN_TILT_DEG = 5.0
"""A plate crop (`--ocr-only`) tilted by this much is read levelled too, the surer read kept. On the
synthetic double-row set (crops tilted up to about 15°) 0.925 -> 0.950, ccpd_heldout +1 plate,
the other crop sets unchanged; at 2° the same gains for twice the extra reads."""
LEVEL_CHECK_BELOW = 0.95
"""A plate crop read at least this surely is not checked for tilt at all: on the validation crop sets
(lyl8213_valid + seed-4242 synthetic, 2,550 crops) no such read changed when levelled, and finding
the plate's corners costs about 0.15 ms of a crop's 2 ms (median 2.08 → 1.96 ms, lyl8213_valid and
ccpd_heldout, alternating runs)."""
SHORT_BOX_MAX_ASPECT = 2.5
"""A candidate whose plate (its corners) is narrower than this for its height, yet reads as a
single-row plate (aspect 3.1–3.4), most likely holds part of that plate: a stain, a shadow or a
reflection broke the colour region. Its read gets the refiner's closer look up to
`SHORT_BOX_REFINE_BELOW` instead of `REFINE_BELOW`."""
SHORT_BOX_REFINE_BELOW = 0.95
"""The refinement band of a short candidate (above): easypr_dev's 津MSY678, whose colour region
held the left 70 % of the plate (aspect 2.2), read 津MSY677 at 0.87 and refined 津MSY678 at 0.99."""
LEVEL_BY_STROKES_BELOW = 0.9
"""A plate crop (`--ocr-only`) read less surely than this is also read rotated level by the slope of
its character rows (`edge.skew.text_skew`), where the plate's colour gave no corners to level it by
(an orange-lit or grey-washed yellow plate; a background of the plate's own colour)."""
REFINE_MIN_CONFIDENCE = 0.2
"""Reads less sure than this are rarely plates (a grille, a sign, a lamp): not worth a refinement.
On easypr_dev's photos 5 of 122 such candidates became a kept read when refined, 25 of 114 above."""
REFINE_ANY_WHERE_MEDIAN_FROM = 0.9
"""A read under `REFINE_MIN_CONFIDENCE` is refined all the same when its median character reads at
least this surely: most of it is plainly a plate's, and one or two characters are lost, most often
to a loose box around a small plate (easypr_dev's 浙KL6893, boxed 110×36 px by the colour detector
around its 98×28 px plate after the exposure correction: 湘KL6833 at 0.18, characters 0.35, 1.0,
1.0, 1.0, 0.99, 0.55, 0.18). Grilles and signs read with most characters unsure. On easypr_dev and
its 12 `make eval-robust` copies (2026-11-28): easypr_dev located 0.966 → 0.973 (false reads 3 → 4:
that plate reported under another province, as the server matches it), the copies 1,552 → 1,559
plates right, 73 → 76 false reads, 1,608 → 1,616 located; at 0.8 +8 / +3, at 0.95 +6 / +2."""
SURE_SERIAL_FROM = LIFT_REST_FROM
"""A read under `MIN_READ_CONFIDENCE` is still kept when every character after the first reads at
least this surely and the first at least `REFINE_MIN_CONFIDENCE`: the serial is plainly a plate's,
and the province — the smallest glyph, the first one a far, blurred or half-hidden plate loses — is
what is unsure. Dropping the read loses the arrival; kept, it carries its low confidence (the
province's), and the server matches a plate under another province as *probable*
(`server.matching.province_variants`) for the front desk to check. On the validation crop sets
(lyl8213_valid and synthetic seed 4242, 1,950 crops) 19 reads fall in this band: the serial is
right in all 19, the whole plate in 11 (province 0.2-0.3: 1 of 4, 0.3-0.5: 10 of 15)."""
AT_SIDE_MIN_CONFIDENCE = STRONG_READ_CONFIDENCE
"""On a still image, a read whose box touches the photo's left or right edge is kept only this sure:
the edge may cut the plate, and the OCR fills a cut plate's missing characters from what it sees.
On easypr_dev a plate half cut by a photo's edge (湘A669…) read 沪M4A667 at 0.51 once the main plate
was painted over, while the one labelled plate at an edge, 鄂CA9622, reads at 0.98."""


class PlateReader:
    """Finds and reads every plate of an image.

    A cheap detector runs on every frame; an optional fallback detector (slower, learned) runs
    when the cheap one gave no confident read, at most once per `fallback_interval_s` of wall
    time so that a stream with no plate in view stays cheap. On a stream the reader also remembers
    where it read each plate surely: a plate that stands still does not spare a frame the fallback.
    That rate limit and that memory are its only state.
    An optional refiner looks closely at each candidate that read unsurely (a loose box, a small
    plate) and gives it tighter corners; the read of that tighter crop replaces the first if it is sure.
    """

    def __init__(
        self,
        detector: Detector,
        recognizer: Recognizer,
        min_read_confidence: float = MIN_READ_CONFIDENCE,
        margin: float = 0.06,
        fallback: Detector | None = None,
        fallback_interval_s: float = 0.0,
        always_fallback: bool = False,
        second_look: Detector | None = None,
        refiner: Refiner | None = None,
        max_refines: int = MAX_REFINES,
        standing_after_s: float | None = None,
        tight_boxes: bool = False,
        correct_exposure: bool = False,
        max_side: int | None = None,
        sure_at_sides: bool = False,
    ) -> None:
        self.detector = detector
        self.recognizer = recognizer
        self.min_read_confidence = min_read_confidence
        self.margin = margin
        self.fallback = fallback
        self.fallback_interval_s = fallback_interval_s
        self.always_fallback = always_fallback
        self.second_look = second_look
        self.refiner = refiner
        self.max_refines = max_refines
        self.standing_after_s = standing_after_s
        self.tight_boxes = tight_boxes
        """Whether a sure read from a candidate of another colour than its plate's gets the refiner's
        box (`_loose`): on still images, where the box is scored; on a stream it cost 2 ms a frame
        on the bench's night clip for the box of an arrival event, which tracking does not need."""
        self.correct_exposure = correct_exposure
        """Whether an underexposed frame is brightened before reading (`edge.exposure`): on still
        images, where a photo is read once (easypr_dev darkened: 129 → 135 of 149 plates, the photos
        as they are unchanged). Not on a stream: on the bench's night clip (gain 2.5 on every frame)
        it cost 2 ms a frame and raised the right reads by 6 % but the wrong ones by half, for the
        same 8 of 8 arrivals and one more corrected arrival; the vote over frames already copes."""
        self.max_side = max_side
        """A frame whose long side is above this is first averaged down by a whole factor
        (`_whole_factor`, `edge.shrink`): still images, whose size is whatever a photo has
        (`MAX_STILL_SIDE`)."""
        self.sure_at_sides = sure_at_sides
        """Whether a read at the frame's left or right edge must be sure (`AT_SIDE_MIN_CONFIDENCE`):
        still images, read once. A stream sees the plate again as the car drives in."""
        self._fallback_last = -float("inf")
        self._sure_seen: dict[str, tuple[float, float, tuple[int, int, int, int]]] = {}
        """Plate text -> (first seen there, last seen, box): where each plate was last read surely."""

    @classmethod
    def from_settings(cls, settings: EdgeSettings, stream: bool = True, thorough: bool = False) -> PlateReader:
        """The configured detector plugins and OCR model; FileNotFoundError names a missing model file.

        `stream=False` (still images) runs the fallback detector whenever it is needed; `thorough`
        runs it on every image, also when the first detector read a plate surely: it then finds
        the small plates of parked cars behind the main one too, at about twice the time per image.
        Still images where nothing was read get a second look by the fallback detector at
        `still_second_look_px` (a small plate in a large photo); never on a stream, where most
        frames hold no plate."""
        threads = settings.inference_threads()
        recognizer = FastPlateRecognizer(
            settings.ocr_model_path,
            settings.ocr_config_path,
            threads=threads,
            province_model_path=settings.province_model_path,
            second_reader=CrnnPlateReader(threads=1) if settings.second_reader else None,
            # a stream reads the plate again in the next frames, framed anew, and votes over them
            look_again_below=0.0 if stream else settings.look_again_below,
        )
        fallback = make_detector(settings.fallback_detector, threads) if settings.fallback_detector else None
        refiner = None
        if settings.refine_detector:
            same = settings.refine_detector == settings.fallback_detector
            refiner = fallback if same else make_detector(settings.refine_detector, threads)
            if not isinstance(refiner, Refiner):
                raise ValueError(f"车牌检测器 {settings.refine_detector!r} 不能复核 / cannot refine candidates")
        interval = settings.fallback_interval_s if stream else 0.0
        second_look = None
        if not stream and settings.fallback_detector == "retina" and settings.still_second_look_px > 0:
            second_look = make_detector(
                "retina", threads, long_side=settings.still_second_look_px, min_score=SECOND_LOOK_MIN_SCORE
            )
        return cls(
            make_detector(settings.detector, threads),
            recognizer,
            fallback=fallback,
            fallback_interval_s=interval,
            always_fallback=thorough and fallback is not None,
            second_look=second_look,
            refiner=refiner,
            standing_after_s=STANDING_AFTER_S if stream else None,
            tight_boxes=not stream,
            correct_exposure=not stream,
            max_side=None if stream else MAX_STILL_SIDE,
            sure_at_sides=not stream,
        )

    def read_frame(self, image: np.ndarray, allow_fallback: bool = True) -> list[PlateResult]:
        """Plates in a full frame, surest read first, one result per plate.

        Reads that break every plate grammar or are unsure are dropped: on a frame they are a
        grille or a shop sign far more often than a plate — except a read unsure of its province
        alone (`SURE_SERIAL_FROM`), which is kept with its low confidence. `allow_fallback=False`
        keeps to the cheap detector and its own reads (the edge's idle check reads): no fallback,
        no refiner. With `correct_exposure` an underexposed frame is brightened first
        (`edge.exposure`): boxes are the frame's, crops the brightened frame's. With `max_side` a
        larger frame is read averaged down by a whole factor; boxes and corners are given in the
        frame's own pixels, crops are the smaller frame's.
        """
        factor = _whole_factor(image.shape, self.max_side)
        if factor > 1:
            small = shrink(image, (image.shape[1] // factor, image.shape[0] // factor))
            return [_scaled(r, factor) for r in self._read_frame(small, allow_fallback)]
        return self._read_frame(image, allow_fallback)

    def _read_frame(self, image: np.ndarray, allow_fallback: bool) -> list[PlateResult]:
        if self.correct_exposure:
            image = corrected(image)
        results = self._read(image, self.detector.detect(image), allow_fallback)
        standing = self._standing(results)
        min_w = MAIN_PLATE_MIN_SHARE * image.shape[1]
        sure = any(
            r.read.confidence >= STRONG_READ_CONFIDENCE
            and r.read.text not in standing
            and r.detection.box[2] - r.detection.box[0] >= min_w
            for r in results
        )
        # an infrared night picture has no colours: the colour detector's boxes are grey blobs read
        # as white plates, and one sure read among them says nothing of the plates it boxed loosely
        # (looked at only after a sure read: every other frame gets the fallback anyway)
        if (
            allow_fallback
            and self.fallback is not None
            and (self.always_fallback or not sure or is_monochrome(image))
        ):
            now = time.monotonic()
            if now - self._fallback_last >= self.fallback_interval_s:
                self._fallback_last = now
                results += self._read(image, self.fallback.detect(image), True)
        if not results and allow_fallback and self.second_look is not None:
            results = self._read(image, self.second_look.detect(image), True)
        if self.sure_at_sides:
            width = image.shape[1]
            results = [
                r
                for r in results
                if r.read.confidence >= AT_SIDE_MIN_CONFIDENCE or (r.detection.box[0] > 1 and r.detection.box[2] < width - 1)
            ]
        return _one_per_plate(results)

    def _standing(self, results: list[PlateResult]) -> set[str]:
        """Texts of this frame's sure reads whose plate has stood at the same place for
        `standing_after_s`; remembers where each sure read was (never on still images, which have
        no history)."""
        if self.standing_after_s is None:
            return set()
        now = time.monotonic()
        self._sure_seen = {t: v for t, v in self._sure_seen.items() if now - v[1] < _FORGET_AFTER_S}
        standing = set()
        for r in results:
            if r.read.confidence < STRONG_READ_CONFIDENCE:
                continue
            text, box = r.read.text, r.detection.box
            seen = self._sure_seen.get(text)
            if seen is None or box_overlap(seen[2], box) < _SAME_PLACE:
                self._sure_seen[text] = (now, now, box)
                continue
            self._sure_seen[text] = (seen[0], now, box)
            if now - seen[0] >= self.standing_after_s:
                standing.add(text)
        return standing

    def _read(self, image: np.ndarray, detections: list[Detection], refine: bool) -> list[PlateResult]:
        if not detections:
            return []
        detections = list(detections)
        crops = [rectify(image, d, self.margin) for d in detections]
        reads = self.recognizer.read_batch(crops)
        if refine and self.refiner is not None:
            self._refine(image, detections, crops, reads)
        results = []
        for det, crop, read in zip(detections, crops, reads, strict=True):
            if not self._kept(read):
                continue
            ptype = _plate_type(det, read)
            if self.tight_boxes:
                det = _coloured_box(image, det, PLATE_COLORS[ptype])
            results.append(PlateResult(det, read, ptype, crop))
        return results

    def _kept(self, read: PlateRead) -> bool:
        """Whether a candidate's read is a plate worth reporting: grammatical, and sure
        (`min_read_confidence`) or sure but for its province (`SURE_SERIAL_FROM`)."""
        if not is_valid_plate(read.text):
            return False
        if read.confidence >= self.min_read_confidence:
            return True
        chars = read.char_confidences
        return chars[0] >= REFINE_MIN_CONFIDENCE and min(chars[1:]) >= SURE_SERIAL_FROM

    def _refine(
        self, image: np.ndarray, detections: list[Detection], crops: list[np.ndarray], reads: list[PlateRead]
    ) -> None:
        """Give the unsure candidates (read between `REFINE_MIN_CONFIDENCE` and `_refine_below`, best
        detector score first, at most `max_refines`) the refiner's corners and read them again;
        where that read is sure and surer than the first, it replaces it (in place), as it does where
        it would be kept (`_kept`) and the first would not: a plate is then reported that was lost
        (easypr_dev's 浙KL6893, a washed-out province: 湘KL6893 at 0.27 with a 0.75 in its serial,
        refined 陕KL6893 at 0.56 with every serial character at 0.99, which the server matches under
        another province). A rescue need not be surer: a first read that would be dropped has nothing
        to lose (easypr_dev brightened ×1.4: 湘A3685C at 0.28 with a 0.58 in its serial, refined
        湘A3685C at 0.20 with its serial sure; over the 12 `make eval-robust` copies +2 plates, +1 false
        read). Trading one kept read for a surer one by a few points lost as many plates
        as it won, so a kept first read is replaced only by a sure one. Where the refined read is
        the same text, the refiner's box replaces the candidate's if it is not larger (the read stays;
        a larger one held the plate's frame or the car around it: easypr_dev's 桂ATK071). Reads are always
        grammatical (the decoder keeps to GA 36), so the confidence alone says how unsure a read is.

        With `tight_boxes`, a sure read from a candidate whose colour is not its plate's (`_loose`)
        gets the refiner's box too, not read again: the candidate was the plate with its surroundings."""
        assert self.refiner is not None
        unsure = [
            i for i, r in enumerate(reads) if _refine_from(r) <= r.confidence < _refine_below(detections[i], r)
        ]
        unsure.sort(key=lambda i: detections[i].score, reverse=True)
        loose = [
            i
            for i, r in enumerate(reads)
            if self.tight_boxes and r.confidence >= REFINE_BELOW and _loose(detections[i], r)
        ]
        for i in loose[: self.max_refines]:
            closer = self.refiner.refine(image, detections[i])
            if closer is not None and _area(closer.box) < _area(detections[i].box):
                colour = closer.color
                if colour is PlateColor.UNKNOWN:
                    colour = _plate_colour(detections[i], reads[i])
                detections[i] = replace(closer, color=colour)
        reread: list[tuple[int, Detection]] = []
        for i in unsure[: self.max_refines]:
            closer = self.refiner.refine(image, detections[i])
            if closer is not None:
                colour = detections[i].color if detections[i].color is not PlateColor.UNKNOWN else closer.color
                reread.append((i, replace(closer, color=colour)))
        if not reread:
            return
        new_crops = [rectify(image, d, self.margin) for _, d in reread]
        for (i, det), crop, read in zip(reread, new_crops, self.recognizer.read_batch(new_crops), strict=True):
            rescued = self._kept(read) and not self._kept(reads[i])
            if rescued or (read.confidence >= STRONG_READ_CONFIDENCE and read.confidence > reads[i].confidence):
                detections[i], crops[i], reads[i] = det, crop, read
            elif read.text == reads[i].text and _area(det.box) <= _area(detections[i].box):
                detections[i] = det

    def read_crop(self, image: np.ndarray) -> PlateResult:
        """The text of an image that is already a plate crop (no detection, no filtering).

        A crop read under `LEVEL_CHECK_BELOW` whose plate is tilted by `LEVEL_MIN_TILT_DEG` or more is
        also read levelled (its plate-coloured region warped to a rectangle, as `rectify` does for a
        detection); the surer read is kept. A tilt cuts through the rows of a double-row plate when
        they are split. A crop still read less surely than `LEVEL_BY_STROKES_BELOW` is also read
        rotated level by the slope of its character rows (`edge.skew`), which needs no plate colour."""
        h, w = image.shape[:2]
        color = dominant_plate_color(image)
        det = whole = Detection((0, 0, w, h), None, color, 1.0)
        read, crop = self.recognizer.read(image), image
        corners = plate_corners_in_crop(image, color) if read.confidence < LEVEL_CHECK_BELOW else None
        if corners is not None:
            (x0, y0), (x1, y1) = corners[0], corners[1]
            if abs(np.degrees(np.arctan2(y1 - y0, x1 - x0))) >= LEVEL_MIN_TILT_DEG:
                tilted = Detection((0, 0, w, h), corners, color, 1.0)
                level = rectify(image, tilted, self.margin)
                second = self.recognizer.read(level)
                if second.confidence > read.confidence:
                    det, read, crop = tilted, second, level
        if read.confidence < LEVEL_BY_STROKES_BELOW:
            angle = text_skew(image)
            if abs(angle) >= LEVEL_MIN_TILT_DEG:
                level = rotate_level(image, angle)
                second = self.recognizer.read(level)
                if second.confidence > read.confidence:
                    det, read, crop = whole, second, level
        return PlateResult(det, read, _plate_type(det, read), crop)


MAX_STILL_SIDE = 2048
"""A still photo with a longer side is read averaged down by the smallest whole factor that brings
it to this (a 12-megapixel phone photo: by 2). Both detectors look at 640 px (the second look at
1,280), so the full resolution served only the crops; and the work on the whole frame — the
exposure table, the shrinking — grows with its pixels: easypr_dev enlarged 2.5× (up to 4,800 px)
took 33.7 ms a photo (median) against 22.8. Every easypr_dev photo is at most 1,920 px: none is changed."""


def _whole_factor(shape: tuple[int, ...], max_side: int | None) -> int:
    """The smallest whole factor bringing the frame's long side to `max_side` (1: none needed)."""
    if max_side is None:
        return 1
    return max(1, -(-max(shape[:2]) // max_side))


def _scaled(result: PlateResult, factor: int) -> PlateResult:
    """A result read on a frame averaged down by `factor`, its box and corners in the frame's own pixels."""
    det = result.detection
    x1, y1, x2, y2 = det.box
    box = (x1 * factor, y1 * factor, x2 * factor, y2 * factor)
    corners = None if det.corners is None else det.corners * np.float32(factor)
    return replace(result, detection=replace(det, box=box, corners=corners))


_SAME_PLACE = 0.8
"""Box overlap (of the smaller box) above which two sure reads of one plate are at the same place."""
_FORGET_AFTER_S = 10.0
"""A plate not read surely for this long is forgotten (it left, or a car hides it)."""


def _one_per_plate(results: list[PlateResult], overlap: float = 0.5) -> list[PlateResult]:
    """Surest read first; a read whose box mostly overlaps a surer one is the same plate seen by
    the other detector (or the same text twice) and is dropped."""
    kept: list[PlateResult] = []
    for r in sorted(results, key=lambda r: r.read.confidence, reverse=True):
        if any(r.read.text == k.read.text or box_overlap(r.detection.box, k.detection.box) >= overlap for k in kept):
            continue
        kept.append(r)
    return kept


def _area(box: tuple[int, int, int, int]) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _plate_type(detection: Detection, read: PlateRead) -> PlateType:
    """The layout of the plate read in `detection`."""
    return plate_type_of(read.text, detection.color, detection.aspect, read.type_hint)


def _plate_colour(detection: Detection, read: PlateRead) -> PlateColor:
    """The background colour of the plate read in `detection` (its layout's colour)."""
    return PLATE_COLORS[_plate_type(detection, read)]


COLOURED_BOX_MAX_AREA = 0.9
"""A kept read's box shrinks to its plate's coloured region only when that region is at most this
share of the box (a smaller gain is within a label's own looseness)."""
COLOURED_BOX_MIN_WIDTH = 0.7
"""…and keeps at least this share of the box's width: detectors' boxes are loose mostly above and
below a plate, and a narrower region is more likely part of the plate (a stained end) than all of it.
Both chosen by the mean IoU of all 144 plates read on easypr_dev (0.782 without the shrinking; 0.805
to 0.808 for areas 0.8-0.9 and widths 0-0.75, best at 0.9 / 0.7), not by the plates it brings over 0.5."""


def _coloured_box(image: np.ndarray, detection: Detection, colour: PlateColor) -> Detection:
    """`detection` with its box shrunk to the bounding box of the largest region of the plate's own
    background colour inside it (`plate_corners_in_crop`), where that is clearly tighter.

    Detector boxes hold some bumper or frame around the plate, most above and below it: on
    easypr_dev's 144 plates read, the mean IoU with the labels rose from 0.782 to 0.808 (京CX8888
    0.64 → 0.91, 沪AGH092 0.56 → 0.92, 皖M69311 0.47 → 0.61; two fell by more than 0.1, 浙A88888,
    whose label holds its frame, 0.84 → 0.64). Still images only (`tight_boxes`): a stream's boxes
    only place its crops."""
    x0, y0, x1, y1 = detection.box
    if colour is PlateColor.UNKNOWN or x1 - x0 < 8 or y1 - y0 < 8:
        return detection
    corners = plate_corners_in_crop(image[y0:y1, x0:x1], colour)
    if corners is None:
        return detection
    (cx0, cy0), (cx1, cy1) = np.floor(corners.min(axis=0)), np.ceil(corners.max(axis=0))
    box = (
        x0 + max(0, int(cx0)),
        y0 + max(0, int(cy0)),
        x0 + min(x1 - x0, int(cx1)),
        y0 + min(y1 - y0, int(cy1)),
    )
    if _area(box) > COLOURED_BOX_MAX_AREA * _area(detection.box):
        return detection
    if box[2] - box[0] < COLOURED_BOX_MIN_WIDTH * (x1 - x0):
        return detection
    return replace(detection, box=box)


def _refine_from(read: PlateRead) -> float:
    """The confidence from which a candidate's read gets the refiner: `REFINE_MIN_CONFIDENCE`, or
    none at all where most of its characters are sure (`REFINE_ANY_WHERE_MEDIAN_FROM`)."""
    if read.char_confidences and float(np.median(read.char_confidences)) >= REFINE_ANY_WHERE_MEDIAN_FROM:
        return 0.0
    return REFINE_MIN_CONFIDENCE


def _refine_below(detection: Detection, read: PlateRead) -> float:
    """The confidence under which a candidate's read gets the refiner: `REFINE_BELOW`, or
    `SHORT_BOX_REFINE_BELOW` where the candidate is too short for the single-row plate read in it
    (`SHORT_BOX_MAX_ASPECT`)."""
    short = (
        detection.aspect < SHORT_BOX_MAX_ASPECT
        and is_valid_plate(read.text)
        and _plate_type(detection, read) is not PlateType.YELLOW_DOUBLE
    )
    return SHORT_BOX_REFINE_BELOW if short else REFINE_BELOW


def _loose(detection: Detection, read: PlateRead) -> bool:
    """Whether a candidate's box is likely the plate with its surroundings: its colour is not the
    colour of the plate read in it (easypr_dev's 湘AED855, a blue plate read from the white blob
    of a bumper, 240×88 px for a 199×52 plate; 黑AB4444 from the black insert around it)."""
    return is_valid_plate(read.text) and detection.color is not _plate_colour(detection, read)


def load_image(path: str) -> np.ndarray:
    """BGR pixels of an image file; truncated JPEGs load as far as they go (PIL fallback).

    Raises OSError (or a PIL error) when nothing can be decoded.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such image file: {path}")
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is not None and image.size:
        return image
    from PIL import Image, ImageFile

    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(path) as pil:
            rgb = np.asarray(pil.convert("RGB"))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    if rgb.size == 0:
        raise OSError(f"empty image: {path}")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _plate_record(result: PlateResult) -> dict[str, Any]:
    """plate_eval's fields, plus the layout, per-character confidences and, when the grammar
    repaired a character, the OCR's raw top-1 text (flagged, never silently replaced)."""
    record: dict[str, Any] = {
        "text": result.read.text,
        "confidence": round(result.read.confidence, 4),
        "box": list(result.detection.box),
        "color": result.detection.color.value,
        "type": result.plate_type.value,
        "char_confidences": list(result.read.char_confidences),
    }
    if result.read.repaired:
        record["repaired_from"] = result.read.raw_text
    return record


def read_images_jsonl(
    reader: PlateReader, paths: Iterable[str], ocr_only: bool = False
) -> Iterator[dict[str, Any]]:
    """One plate_eval.py record per path, in order: {"image", "ms", "plates": [...]}.

    `ms` is the reader's own time for the image (decoding the file excluded). An image that
    cannot be read yields `plates: []` and an `error` field instead of stopping the run.
    """
    for path in paths:
        try:
            image = load_image(path)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is reported per image
            yield {"image": path, "ms": 0.0, "plates": [], "error": f"{type(exc).__name__}: {exc}"}
            continue
        t0 = time.perf_counter()
        if ocr_only:
            result = reader.read_crop(image)
            results = [result] if result.read.text else []
        else:
            results = reader.read_frame(image)
        ms = (time.perf_counter() - t0) * 1000.0
        yield {"image": path, "ms": round(ms, 2), "plates": [_plate_record(r) for r in results]}


def describe_record(record: dict[str, Any]) -> str:
    """One line for a person from a `read_images_jsonl` record: each plate with its confidence and,
    for a read kept though unsure (`SURE_SERIAL_FROM`), the positions of its unclear characters."""
    if "error" in record:
        return f"{record['image']}: 无法读取 / unreadable: {record['error']}"
    texts = []
    for plate in record["plates"]:
        text, chars = plate["text"], plate["char_confidences"]
        unclear = [str(i + 1) for i, c in enumerate(chars) if c < MIN_READ_CONFIDENCE]
        note = f", 看不清第 {'、'.join(unclear)} 位 / unclear: {', '.join(unclear)}" if unclear else ""
        texts.append(f"{text} ({plate['confidence']:.2f}{note})")
    return f"{record['image']}: {', '.join(texts) or '—'}  [{record['ms']:.1f} ms]"
