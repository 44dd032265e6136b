"""One arrival per car: group a car's reads over consecutive frames, vote, publish once.

A car at the gate is read on dozens of frames, some of them wrong by a character (motion blur,
a glint). Reads of consecutive frames that overlap in the image or agree in text form a track;
each track votes character by character, weighted by the OCR's confidence, and yields exactly one
`ArrivalEvent` as soon as enough consistent, confident reads agree — or, for a car that passed
quickly, when its track ends with enough evidence. A plate published recently is not published
again until it has been out of sight for the cooldown (a car waiting at the barrier, or turning in
the yard, is still one arrival).

Pure logic on (frame time, plate results): no clock, no I/O, so it is tested without video.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from dealergate.contract import ArrivalEvent, PlateBox
from dealergate.plates import PLATE_COLORS, PlateColor, PlateType, is_valid_plate
from edge.config import EdgeSettings
from edge.layout import plate_type_of
from edge.types import PlateResult

log = logging.getLogger(__name__)

MAX_READS_PER_TRACK = 60
"""A parked car keeps being read; older reads stop adding evidence after this many."""
MAX_TRACKS = 16
"""More simultaneous tracks than a gate ever sees: the oldest is dropped beyond this."""
_NEAR_SIMILARITY = 0.7
"""A read close to a track joins it when at most two of seven characters differ; the next car in
the lane (often the same province and letter, sometimes the same digits) differs in more."""
_FAR_SIMILARITY = 0.85
"""A read anywhere in the frame joins a track when at most one character differs (frames skipped
while the car moved a long way)."""


@dataclass(frozen=True)
class Arrival:
    """A decided arrival: the event to publish, the plate crop it was read from, and the frame
    time at which the vote was decided (`decided_at - event.captured_at` is the voting delay)."""

    event: ArrivalEvent
    decided_at: datetime
    crop: np.ndarray | None = field(default=None, compare=False, repr=False)


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
    plate: str | None = None  # set once decided: published, or suppressed by the cooldown

    @property
    def last_box(self) -> tuple[int, int, int, int]:
        return self.results[-1].detection.box

    def add(self, at: datetime, result: PlateResult) -> None:
        self.results.append(result)
        self.last_seen = at
        if len(self.results) > MAX_READS_PER_TRACK:
            del self.results[0]

    def consensus(self, min_confidence: float = 0.0) -> Vote:
        return vote(self.results, min_confidence)


class ArrivalTracker:
    """Turns per-frame plate reads into one `Arrival` per car."""

    def __init__(
        self,
        site: str,
        camera: str,
        *,
        min_reads: int = 3,
        min_confidence: float = 0.8,
        track_gap_s: float = 1.5,
        cooldown_s: float = 600.0,
    ) -> None:
        self.site, self.camera = site, camera
        self.min_reads = min_reads
        self.end_min_reads = max(1, math.ceil(min_reads / 2))
        self.min_confidence = min_confidence
        self.track_gap_s = track_gap_s
        self.cooldown_s = cooldown_s
        self._tracks: list[_Track] = []
        self._ids = itertools.count(1)
        self._last_seen_plate: dict[str, datetime] = {}  # published plates, refreshed while in view
        self.suppressed = 0

    @classmethod
    def from_settings(cls, settings: EdgeSettings) -> ArrivalTracker:
        return cls(
            settings.site,
            settings.camera,
            min_reads=settings.min_reads,
            min_confidence=settings.min_confidence,
            track_gap_s=settings.track_gap_s,
            cooldown_s=settings.cooldown_s,
        )

    @property
    def active_tracks(self) -> int:
        return len(self._tracks)

    def update(self, at: datetime, results: Sequence[PlateResult]) -> list[Arrival]:
        """Feed one processed frame (its capture time and its reads, possibly none)."""
        arrivals = self._expire(at)
        for track, result in self._assign(results):
            if track is None:
                track = _Track(next(self._ids), at, at)
                self._tracks.append(track)
                if len(self._tracks) > MAX_TRACKS:
                    self._tracks.sort(key=lambda t: t.last_seen)
                    arrivals += self._close(self._tracks.pop(0))
            track.add(at, result)
            if track.plate is not None:
                if track.plate in self._last_seen_plate:
                    self._last_seen_plate[track.plate] = at  # still in view: the cooldown restarts
                continue
            consensus = track.consensus(self.min_confidence)
            if consensus.support >= self.min_reads and is_valid_plate(consensus.text):
                arrivals += self._decide(track, consensus, at)
        return arrivals

    def finish(self) -> list[Arrival]:
        """End of the stream: close every track, publishing those with enough evidence."""
        arrivals: list[Arrival] = []
        for track in self._tracks:
            arrivals += self._close(track)
        self._tracks.clear()
        return arrivals

    # -- internals ---------------------------------------------------------------------------------

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
            return self._decide(track, consensus, track.last_seen)
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

    def _decide(self, track: _Track, consensus: Vote, at: datetime) -> list[Arrival]:
        track.plate = consensus.text
        seen = self._last_seen_plate.get(consensus.text)
        self._last_seen_plate[consensus.text] = at
        if seen is not None and (at - seen).total_seconds() < self.cooldown_s:
            self.suppressed += 1
            log.info("plate %s seen again within the cooldown: not published again", consensus.text)
            return []
        return [self._arrival(track, consensus, at)]

    def _arrival(self, track: _Track, consensus: Vote, decided_at: datetime) -> Arrival:
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
        return Arrival(event, decided_at, best.crop)


def _vote_color(results: Sequence[PlateResult]) -> PlateColor:
    """The background colour most of the track's detections saw, weighted by read confidence."""
    tally: dict[PlateColor, float] = defaultdict(float)
    for r in results:
        if r.detection.color is not PlateColor.UNKNOWN:
            tally[r.detection.color] += r.read.confidence
    return max(tally, key=lambda c: tally[c]) if tally else PlateColor.UNKNOWN
