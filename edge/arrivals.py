"""One arrival per car: group a car's reads over consecutive frames, vote, publish early, correct.

A car at the gate is read on dozens of frames, some of them wrong by a character (motion blur,
a glint). Reads of consecutive frames that overlap in the image or agree in text form a track;
each track votes character by character, weighted by the OCR's confidence, over its confident
reads, and yields one `ArrivalEvent` as soon as the read is confident (by default the first
grammar-valid read at `min_confidence`) — or, for a car that passed quickly, when its track ends
with enough evidence. The screens should know within a frame or two of the first good read, so the first
publication does not wait for the whole vote; when later frames settle on a clearly better read,
the same `event_id` is published again with the next `revision`. A plate published recently is
not published again until it has been out of sight for the cooldown (a car waiting at the
barrier, or turning in the yard, is still one arrival). With a gate line (`edge.direction`), a
track that crosses it outwards is a departure.

Pure logic on (frame time, plate results): no clock, no I/O, so it is tested without video.
"""

from __future__ import annotations

import itertools
import logging
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from dealergate.contract import ArrivalEvent, PlateBox
from dealergate.plates import PLATE_COLORS, PlateColor, PlateType, is_valid_plate
from edge.config import EdgeSettings
from edge.direction import GateLine, Passage
from edge.layout import plate_type_of
from edge.types import PlateResult

log = logging.getLogger(__name__)

MAX_READS_PER_TRACK = 60
"""A parked car keeps being read; older reads stop adding evidence after this many."""
MAX_TRACKS = 16
"""More simultaneous tracks than a gate ever sees: the oldest is dropped beyond this."""
MAX_REVISIONS = 3
"""Corrections of one event at most: a car read two ways in turn must not flood the screens."""
_NEAR_SIMILARITY = 0.7
"""A read close to a track joins it when at most two of seven characters differ; the next car in
the lane (often the same province and letter, sometimes the same digits) differs in more."""
_FAR_SIMILARITY = 0.85
"""A read anywhere in the frame joins a track when at most one character differs (frames skipped
while the car moved a long way)."""


@dataclass(frozen=True)
class Arrival:
    """A decided arrival: the event to publish, the plate crop it was read from, and the frame
    time at which the vote was decided (`decided_at - event.captured_at` is the voting delay).

    `readable_at` is the frame time of the car's first grammar-valid read at `min_confidence`:
    the first frame the plate could be read, as opposed to `captured_at`, the first frame it was
    read at all (often a far-away guess). `decided_at - readable_at` is what the tracker itself
    adds to the latency.
    """

    event: ArrivalEvent
    decided_at: datetime
    crop: np.ndarray | None = field(default=None, compare=False, repr=False)
    readable_at: datetime | None = None
    frame: np.ndarray | None = field(default=None, compare=False, repr=False)
    """The frame of the track's latest read when the frame was handed to `update` (for the snapshot)."""


@dataclass(frozen=True)
class Vote:
    """A track's current consensus: text, per-character and overall confidence, supporting reads."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    support: int


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def text_similarity(a: str, b: str) -> float:
    """1 for identical texts, 0 for nothing in common (normalised edit distance)."""
    if not a and not b:
        return 1.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))


def vote(results: Sequence[PlateResult], min_confidence: float = 0.0) -> Vote:
    """Confidence-weighted vote: first on the plate length, then on each character position.

    Each read backs its character at each position with the square of its confidence there, so
    one sure read outweighs several guesses (a far-away plate's province character is a guess). A
    position's confidence is the winner's share of all that backing times the winner's mean
    confidence: a position the reads disagree on scores low even when each read was sure of
    itself. The plate's confidence is its weakest position. `support` counts the reads that say exactly the
    voted text with a read confidence of at least `min_confidence`.
    """
    by_len: dict[int, float] = defaultdict(float)
    for r in results:
        by_len[len(r.read.text)] += r.read.confidence
    if not by_len:
        return Vote("", 0.0, (), 0)
    length = max(by_len, key=lambda n: (by_len[n], n))
    same = [r for r in results if len(r.read.text) == length]
    chars: list[str] = []
    confs: list[float] = []
    for i in range(length):
        backing: dict[str, float] = defaultdict(float)
        sure: dict[str, float] = defaultdict(float)
        voters: dict[str, int] = defaultdict(int)
        for r in same:
            cc = r.read.char_confidences
            c = cc[i] if i < len(cc) else r.read.confidence
            backing[r.read.text[i]] += c * c  # squared: one sure read outweighs several guesses
            sure[r.read.text[i]] += c
            voters[r.read.text[i]] += 1
        winner = max(backing, key=lambda ch: backing[ch])
        total = sum(backing.values())
        share = backing[winner] / total if total > 0 else 0.0
        chars.append(winner)
        confs.append(min(1.0, share * sure[winner] / voters[winner]))
    text = "".join(chars)
    support = sum(1 for r in same if r.read.text == text and r.read.confidence >= min_confidence)
    return Vote(text, round(min(confs), 4), tuple(round(c, 4) for c in confs), support)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _near(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Boxes overlap, or their centres are within 1.5 plate widths (a car moving between frames)."""
    if _iou(a, b) > 0.0:
        return True
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    return math.hypot(dx, dy) <= 1.5 * max(a[2] - a[0], b[2] - b[0])


@dataclass
class _Track:
    id: int
    first_seen: datetime
    last_seen: datetime
    results: list[PlateResult] = field(default_factory=list)
    passage: Passage = field(default_factory=Passage)
    plate: str | None = None  # set once decided: published, or suppressed by the cooldown
    kind: str = "arrival"  # what it was decided as
    event: ArrivalEvent | None = None  # the latest publication (None when suppressed)
    previous_seen: datetime | None = None  # the cooldown entry this track's plate replaced
    readable_at: datetime | None = None  # first grammar-valid read at min_confidence
    frame: np.ndarray | None = field(default=None, repr=False)  # the image of the latest read, if given

    @property
    def last_box(self) -> tuple[int, int, int, int]:
        return self.results[-1].detection.box

    def add(self, at: datetime, result: PlateResult, distance: float | None) -> None:
        self.results.append(result)
        self.last_seen = at
        if distance is not None:
            self.passage.add(distance)
        if len(self.results) > MAX_READS_PER_TRACK:
            del self.results[0]

    def consensus(self, min_confidence: float = 0.0) -> Vote:
        """The vote of the reads at `min_confidence` or above (all reads when none is): a
        far-away guess neither decides the plate nor dilutes a sure read's confidence."""
        sure = [r for r in self.results if r.read.confidence >= min_confidence] if min_confidence > 0 else []
        return vote(sure or self.results, min_confidence)


class ArrivalTracker:
    """Turns per-frame plate reads into one `Arrival` per car, plus corrections of it.

    A car is published (revision 0) as soon as `early_reads` confident reads (1 by default: the
    first) agree on a grammar-valid plate, or one read is sure of every character; that keeps the
    screens within a frame of the first good read.
    Later frames keep voting, and when they settle on a different plate (`min_reads` reads of it)
    or lift a shaky publication above `min_confidence`, the same `event_id` is published again
    with the next revision. With a `gate_line`, a car heading out is held until it crosses and
    then published as a departure.
    """

    def __init__(
        self,
        site: str,
        camera: str,
        *,
        min_reads: int = 3,
        min_confidence: float = 0.8,
        early_reads: int = 1,
        sure_confidence: float = 0.95,
        track_gap_s: float = 1.5,
        cooldown_s: float = 600.0,
        gate_line: GateLine | None = None,
    ) -> None:
        self.site, self.camera = site, camera
        self.min_reads = min_reads
        self.early_reads = min(early_reads, min_reads)
        self.end_min_reads = max(1, math.ceil(min_reads / 2))
        self.min_confidence = min_confidence
        self.sure_confidence = sure_confidence
        self.track_gap_s = track_gap_s
        self.cooldown_s = cooldown_s
        self.gate_line = gate_line
        self._tracks: list[_Track] = []
        self._ids = itertools.count(1)
        # (kind, plate) published, refreshed while in view: an arrival does not silence the departure
        self._last_seen_plate: dict[tuple[str, str], datetime] = {}
        self.suppressed = 0
        self.updates = 0

    @classmethod
    def from_settings(cls, settings: EdgeSettings) -> ArrivalTracker:
        line = None
        if settings.gate_line is not None and settings.gate_inside is not None:
            line = GateLine(settings.gate_line[0], settings.gate_line[1], settings.gate_inside)
        return cls(
            settings.site,
            settings.camera,
            min_reads=settings.min_reads,
            min_confidence=settings.min_confidence,
            early_reads=settings.early_reads,
            sure_confidence=settings.sure_confidence,
            track_gap_s=settings.track_gap_s,
            cooldown_s=settings.cooldown_s,
            gate_line=line,
        )

    @property
    def active_tracks(self) -> int:
        return len(self._tracks)

    def update(
        self,
        at: datetime,
        results: Sequence[PlateResult],
        frame_size: tuple[int, int] | None = None,
        frame: np.ndarray | None = None,
    ) -> list[Arrival]:
        """Feed one processed frame (its capture time, its reads, possibly none, and its
        (width, height) in pixels, which the gate line needs to place the plates). `frame`, the
        image itself, is only held (one per track, the latest read's) for the arrival snapshot."""
        arrivals = self._expire(at)
        for track, result in self._assign(results):
            if track is None:
                track = _Track(next(self._ids), at, at)
                self._tracks.append(track)
                if len(self._tracks) > MAX_TRACKS:
                    self._tracks.sort(key=lambda t: t.last_seen)
                    arrivals += self._close(self._tracks.pop(0))
            distance = None
            if self.gate_line is not None and frame_size is not None:
                distance = self.gate_line.distance_of_box(result.detection.box, frame_size)
            track.add(at, result, distance)
            if frame is not None:
                track.frame = frame
            if (
                track.readable_at is None
                and result.read.confidence >= self.min_confidence
                and is_valid_plate(result.read.text)
            ):
                track.readable_at = at
            if track.plate is not None:
                key = (track.kind, track.plate)
                if key in self._last_seen_plate:
                    self._last_seen_plate[key] = at  # still in view: the cooldown restarts
                if track.event is not None:
                    arrivals += self._revise(track, at)
                continue
            direction = track.passage.direction()
            if direction == "hold":
                continue
            consensus = track.consensus(self.min_confidence)
            if self._confident(track, consensus):
                arrivals += self._decide(track, consensus, at, direction)
        return arrivals

    def finish(self) -> list[Arrival]:
        """End of the stream: close every track, publishing those with enough evidence."""
        arrivals: list[Arrival] = []
        for track in self._tracks:
            arrivals += self._close(track)
        self._tracks.clear()
        return arrivals

    # -- internals ---------------------------------------------------------------------------------

    def _confident(self, track: _Track, consensus: Vote) -> bool:
        """Early enough to publish: `early_reads` confident reads of the voted plate, or one read
        of it sure of every character (a close, sharp plate needs no second opinion)."""
        if not is_valid_plate(consensus.text):
            return False
        if consensus.support >= self.early_reads:
            return True
        return any(
            r.read.text == consensus.text
            and len(r.read.char_confidences) == len(r.read.text)
            and min(r.read.char_confidences) >= self.sure_confidence
            for r in track.results
        )

    def _expire(self, at: datetime) -> list[Arrival]:
        arrivals: list[Arrival] = []
        keep: list[_Track] = []
        for track in self._tracks:
            if (at - track.last_seen).total_seconds() > self.track_gap_s:
                arrivals += self._close(track)
            else:
                keep.append(track)
        self._tracks = keep
        self._last_seen_plate = {
            p: t for p, t in self._last_seen_plate.items() if (at - t).total_seconds() < self.cooldown_s
        }
        return arrivals

    def _close(self, track: _Track) -> list[Arrival]:
        """A track that ends undecided still publishes when its shorter evidence is convincing."""
        if track.plate is not None:
            return []
        consensus = track.consensus(self.min_confidence)
        if consensus.support >= self.end_min_reads and is_valid_plate(consensus.text):
            return self._decide(track, consensus, track.last_seen, track.passage.final_kind())
        if consensus.text:
            log.debug(
                "track %d ended without an arrival: %s conf=%.2f support=%d",
                track.id,
                consensus.text,
                consensus.confidence,
                consensus.support,
            )
        return []

    def _assign(self, results: Sequence[PlateResult]) -> list[tuple[_Track | None, PlateResult]]:
        """Match each read to at most one live track (greedy, best match first); others start tracks."""
        pairs: list[tuple[float, int, int]] = []
        consensus = {id(t): t.consensus().text for t in self._tracks}
        for ri, r in enumerate(results):
            for ti, t in enumerate(self._tracks):
                sim = max(
                    text_similarity(r.read.text, consensus[id(t)]),
                    text_similarity(r.read.text, t.results[-1].read.text),
                )
                near = _near(r.detection.box, t.last_box)
                if (near and sim >= _NEAR_SIMILARITY) or sim >= _FAR_SIMILARITY:
                    pairs.append((sim + (0.5 if near else 0.0), ri, ti))
        pairs.sort(reverse=True)
        taken_r: dict[int, _Track] = {}
        taken_t: set[int] = set()
        for _, ri, ti in pairs:
            if ri not in taken_r and ti not in taken_t:
                taken_r[ri] = self._tracks[ti]
                taken_t.add(ti)
        return [(taken_r.get(ri), r) for ri, r in enumerate(results)]

    def _decide(self, track: _Track, consensus: Vote, at: datetime, kind: str) -> list[Arrival]:
        track.plate, track.kind = consensus.text, kind
        key = (kind, consensus.text)
        seen = self._last_seen_plate.get(key)
        self._last_seen_plate[key] = at
        if seen is not None and (at - seen).total_seconds() < self.cooldown_s:
            self.suppressed += 1
            log.info(
                "plate %s seen again within the cooldown: not published again (%s)", consensus.text, kind
            )
            return []
        track.previous_seen = seen
        arrival = self._arrival(track, consensus, at, kind, revision=0, event_id=None)
        track.event = arrival.event
        return [arrival]

    def _revise(self, track: _Track, at: datetime) -> list[Arrival]:
        """Publish a correction when later reads clearly beat the published one.

        Clearly: a different valid plate that `min_reads` confident reads say exactly and that
        more reads back than the published text, or the same plate lifted from below
        `min_confidence` to above it. At most `MAX_REVISIONS` corrections, so a car read two
        ways in turn cannot flood the screens.
        """
        published = track.event
        if published is None or published.revision >= MAX_REVISIONS:
            return []
        consensus = track.consensus(self.min_confidence)
        if not is_valid_plate(consensus.text):
            return []
        if consensus.text != published.plate:
            backing_old = sum(
                1
                for r in track.results
                if r.read.text == published.plate and r.read.confidence >= self.min_confidence
            )
            if consensus.support < self.min_reads or consensus.support <= backing_old:
                return []
            self._move_cooldown(track, published.kind, published.plate, consensus.text, at)
        elif not (published.confidence < self.min_confidence <= consensus.confidence):
            return []
        track.plate = consensus.text
        arrival = self._arrival(
            track, consensus, at, published.kind, revision=published.revision + 1, event_id=published.event_id
        )
        track.event = arrival.event
        self.updates += 1
        log.info(
            "correcting event %s: %s → %s conf %.2f → %.2f (revision %d)",
            published.event_id,
            published.plate,
            consensus.text,
            published.confidence,
            consensus.confidence,
            arrival.event.revision,
        )
        return [arrival]

    def _move_cooldown(self, track: _Track, kind: str, old: str, new: str, at: datetime) -> None:
        """The misread plate gets back the cooldown it had; the corrected one starts its own."""
        if track.previous_seen is None:
            self._last_seen_plate.pop((kind, old), None)
        else:
            self._last_seen_plate[(kind, old)] = track.previous_seen
        track.previous_seen = self._last_seen_plate.get((kind, new))
        self._last_seen_plate[(kind, new)] = at

    def _arrival(
        self,
        track: _Track,
        consensus: Vote,
        decided_at: datetime,
        kind: str,
        *,
        revision: int,
        event_id: uuid.UUID | None,
    ) -> Arrival:
        agreeing = [r for r in track.results if r.read.text == consensus.text] or track.results
        best = max(agreeing, key=lambda r: (r.read.confidence, r.detection.score))
        color = _vote_color(track.results)
        hints = [r.read.type_hint for r in agreeing if r.read.type_hint is not None]
        hint = max(set(hints), key=hints.count) if hints else None
        ptype = plate_type_of(consensus.text, color, best.detection.aspect, hint)
        if color is PlateColor.UNKNOWN and ptype is not PlateType.UNKNOWN:
            color = PLATE_COLORS[ptype]
        x1, y1, x2, y2 = best.detection.box
        event = ArrivalEvent(
            event_id=event_id or uuid.uuid4(),
            kind="departure" if kind == "departure" else "arrival",
            revision=revision,
            site=self.site,
            camera=self.camera,
            plate=consensus.text,
            confidence=consensus.confidence,
            char_confidences=list(consensus.char_confidences),
            plate_color=color,
            plate_type=ptype,
            captured_at=track.first_seen,
            box=PlateBox(x1=max(0, x1), y1=max(0, y1), x2=max(0, x2), y2=max(0, y2)),
        )
        return Arrival(event, decided_at, best.crop, track.readable_at, track.frame)


def _vote_color(results: Sequence[PlateResult]) -> PlateColor:
    """The background colour most of the track's detections saw, weighted by read confidence."""
    tally: dict[PlateColor, float] = defaultdict(float)
    for r in results:
        if r.detection.color is not PlateColor.UNKNOWN:
            tally[r.detection.color] += r.read.confidence
    return max(tally, key=lambda c: tally[c]) if tally else PlateColor.UNKNOWN
