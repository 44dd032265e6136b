"""The arrival tracker: one event per car, votes out misreads, respects the cooldown.

Reads are made by hand (no video, no model): a car is a sequence of (time, box, text) at 25 fps.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from dealergate.contract import ArrivalEvent
from dealergate.plates import PlateColor, PlateType
from edge.arrivals import MAX_REVISIONS, ArrivalTracker, text_similarity, vote
from edge.direction import GateLine
from edge.types import Detection, PlateRead, PlateResult

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=timezone(timedelta(hours=8)))
FRAME = timedelta(seconds=0.04)


def result(
    text: str,
    box: tuple[int, int, int, int] = (600, 500, 760, 550),
    conf: float = 0.95,
    color: PlateColor = PlateColor.BLUE,
    char_conf: list[float] | None = None,
) -> PlateResult:
    det = Detection(box, None, color, 0.9)
    cc = tuple(char_conf) if char_conf is not None else (conf,) * len(text)
    crop = np.full((40, 130, 3), 100, np.uint8)
    return PlateResult(det, PlateRead(text, conf, cc), PlateType.BLUE, crop)


def tracker(**kw: float) -> ArrivalTracker:
    opts = {"min_reads": 3, "min_confidence": 0.8, "track_gap_s": 1.0, "cooldown_s": 600.0, **kw}
    return ArrivalTracker("demo", "gate-1", **opts)  # type: ignore[arg-type]


def drive(t: ArrivalTracker, start: datetime, reads: list[PlateResult | None]) -> list:
    """Feed one read per frame (None = frame without a plate); returns every arrival emitted."""
    out = []
    for i, r in enumerate(reads):
        out += t.update(start + i * FRAME, [] if r is None else [r])
    return out


def moving(text: str, n: int, conf: float = 0.95) -> list[PlateResult | None]:
    """A plate growing and sliding down the frame as the car approaches."""
    return [result(text, (600 - 2 * i, 400 + 6 * i, 700 + 2 * i, 430 + 7 * i), conf) for i in range(n)]


def test_one_event_per_car_at_the_first_sure_read() -> None:
    """A read sure of every character is published at once: the screens must not wait for the vote."""
    t = tracker()
    first = drive(t, T0, moving("京A12345", 1))
    assert len(first) == 1
    event = first[0].event
    assert isinstance(event, ArrivalEvent)
    assert event.plate == "京A12345" and event.kind == "arrival" and event.revision == 0
    assert event.site == "demo" and event.camera == "gate-1"
    assert event.captured_at == T0  # when the car was first seen
    assert first[0].decided_at == T0  # the first read decided it
    assert event.plate_color is PlateColor.BLUE and event.plate_type is PlateType.BLUE
    assert event.confidence == pytest.approx(0.95)
    assert event.char_confidences is not None and len(event.char_confidences) == 7
    assert event.box is not None and first[0].crop is not None
    ArrivalEvent.from_payload(event.to_payload())  # the wire form validates
    assert drive(t, T0 + FRAME, moving("京A12345", 40)[1:]) == []  # the same read again: nothing more
    assert drive(t, T0 + 3 * timedelta(seconds=1), [None] * 50) == []  # track ends: nothing more
    assert t.finish() == []


def test_the_first_confident_read_publishes_by_default() -> None:
    t = tracker()
    assert drive(t, T0, moving("京A12345", 3, conf=0.6)) == []  # far away: guesses
    got = drive(t, T0 + 3 * FRAME, moving("京A12345", 10, conf=0.85)[3:])
    assert [a.event.plate for a in got] == ["京A12345"]
    assert got[0].decided_at == got[0].readable_at == T0 + 3 * FRAME  # the tracker adds no delay
    assert got[0].event.captured_at == T0  # the car was first read, unsurely, three frames before


def test_stricter_early_reads_wait_for_agreement_unless_a_read_is_sure() -> None:
    t = tracker(early_reads=2)
    reads = moving("京A12345", 10, conf=0.9)  # confident, but not sure of every character
    assert drive(t, T0, reads[:1]) == []
    got = drive(t, T0 + FRAME, reads[1:])
    assert [a.event.plate for a in got] == ["京A12345"]
    assert got[0].decided_at == T0 + FRAME  # the second agreeing read
    sure = tracker(early_reads=2)
    assert len(drive(sure, T0, moving("京A67890", 1, conf=0.96))) == 1


def test_a_clearly_better_read_corrects_the_published_event() -> None:
    """A sure misread goes out first; once three reads settle on another plate, the same event is
    published again with the next revision, and the misread plate is not held in the cooldown."""
    t = tracker()
    boxes = [r.detection.box for r in moving("京A12345", 12)]  # type: ignore[union-attr]
    reads = [result("京A12845", boxes[0], 0.96)] + [result("京A12345", b, 0.95) for b in boxes[1:]]
    got = drive(t, T0, reads)
    assert [(a.event.plate, a.event.revision) for a in got] == [
        ("京A12845", 0),
        ("京A12345", 1),
        ("京A12345", 2),  # the early disagreement fades: the confidence climbs past min_confidence
    ]
    assert len({a.event.event_id for a in got}) == 1
    assert got[1].event.captured_at == got[0].event.captured_at == T0
    assert got[1].decided_at == T0 + 3 * FRAME  # the third read of the better plate
    assert got[1].event.confidence < 0.8 <= got[2].event.confidence
    assert t.updates == 2
    later = T0 + timedelta(minutes=2)
    assert [a.event.plate for a in drive(t, later, moving("京A12845", 5))] == ["京A12845"]  # a real car
    assert drive(t, later + timedelta(minutes=1), moving("京A12345", 5)) == []  # in the cooldown


def test_corrections_are_capped() -> None:
    t = tracker()
    out = []
    at = T0
    for i in range(8):  # two plates read in turn, each time with more reads than the other
        text = "京A12345" if i % 2 else "京A12845"
        n = 2 * (i + 1) + 1
        for r in moving(text, n):
            out += t.update(at, [r])
            at += FRAME
    assert max(a.event.revision for a in out) <= MAX_REVISIONS
    assert len({a.event.event_id for a in out}) == 1


def final(arrivals: list) -> list[ArrivalEvent]:
    """What the screens end up with: per event id its last revision, in first-publication order."""
    latest: dict = {}
    for a in arrivals:
        latest[a.event.event_id] = a.event
    return list(latest.values())


def test_voting_fixes_a_one_frame_misread() -> None:
    t = tracker()
    reads = moving("京A12345", 6)
    reads[0] = result("京A1Z345", reads[0].detection.box, 0.93)  # type: ignore[union-attr]
    reads[2] = result("京A12846", reads[2].detection.box, 0.9)  # type: ignore[union-attr]
    got = drive(t, T0, reads)
    assert [e.plate for e in final(got)] == ["京A12345"]  # the early misread went out, then was corrected
    assert [a.event.revision for a in got] == [0, 1]


def test_vote_weights_characters_by_confidence() -> None:
    reads = [
        result("京A12345", char_conf=[0.9, 0.9, 0.9, 0.9, 0.3, 0.9, 0.9]),
        result("京A12845", char_conf=[0.9, 0.9, 0.9, 0.9, 0.95, 0.9, 0.9]),
    ]
    v = vote(reads, min_confidence=0.8)
    assert v.text == "京A12845"
    assert v.support == 1  # only the second read says exactly that
    # the winner holds 0.95² / (0.95² + 0.3²) of the backing at position 4, mean confidence 0.95
    assert v.char_confidences[4] == pytest.approx(0.95**2 / (0.95**2 + 0.3**2) * 0.95, abs=1e-4)
    assert v.confidence == min(v.char_confidences)
    assert vote([]).text == ""


def test_early_unsure_reads_do_not_decide_the_plate() -> None:
    """Far away the province character is a guess; the car is published once it is read surely."""
    t = tracker()
    unsure = [0.45, 0.98, 1, 1, 1, 0.99, 0.99, 0.97]
    far = [result("湘AF57446", conf=0.45, color=PlateColor.GREEN, char_conf=unsure) for _ in range(4)]
    assert drive(t, T0, far) == []
    near = [result("粤AF57446", conf=0.97, color=PlateColor.GREEN) for _ in range(3)]
    got = drive(t, T0 + 4 * FRAME, near)
    assert [a.event.plate for a in got] == ["粤AF57446"]
    assert got[0].event.plate_type is PlateType.NEW_ENERGY_SMALL
    assert got[0].event.confidence == pytest.approx(0.97)  # and the guesses do not dilute the sure reads
    assert drive(t, T0 + 7 * FRAME, near) == []  # nothing to correct


def test_unsure_or_ungrammatical_reads_are_never_published() -> None:
    t = tracker()
    assert drive(t, T0, moving("京A12345", 30, conf=0.6)) == []
    assert t.finish() == []
    assert drive(t, T0 + timedelta(seconds=5), moving("京1A2345", 30)) == []  # digit where the letter goes
    assert t.finish() == []


def test_a_quick_car_is_published_when_its_track_ends() -> None:
    t = tracker(early_reads=3, sure_confidence=1.0)
    assert drive(t, T0, moving("沪B7F2Q9", 2)) == []  # only two reads: below early_reads
    got = t.update(T0 + timedelta(seconds=3), [])  # gap: the track ends with 2 agreeing reads
    assert [a.event.plate for a in got] == ["沪B7F2Q9"]


def test_a_single_unsure_glimpse_is_not_an_arrival() -> None:
    t = tracker()
    assert drive(t, T0, [result("沪B7F2Q9", conf=0.7)]) == []
    assert t.update(T0 + timedelta(seconds=3), []) == []


def test_cooldown_suppresses_the_same_plate_until_it_has_been_away() -> None:
    t = tracker(cooldown_s=600)
    assert len(drive(t, T0, moving("京A12345", 10))) == 1
    assert drive(t, T0 + timedelta(minutes=3), moving("京A12345", 10)) == []
    assert t.suppressed == 1
    # 12 minutes after the event but only 9 after the last sighting: still the same visit
    assert drive(t, T0 + timedelta(minutes=12), moving("京A12345", 10)) == []
    assert t.suppressed == 2
    later = T0 + timedelta(minutes=23)
    assert [a.event.plate for a in drive(t, later, moving("京A12345", 10))] == ["京A12345"]
    other = drive(t, later + timedelta(seconds=5), moving("京A67890", 10))
    assert [a.event.plate for a in other] == ["京A67890"]  # the cooldown is per plate


def test_two_cars_in_sequence_are_two_arrivals_in_order() -> None:
    t = tracker()
    cars = moving("京A12345", 20) + [None] * 5 + moving("粤BD12345", 20) + moving("京A88C06", 20)
    got = drive(t, T0, cars)
    assert [a.event.plate for a in got] == ["京A12345", "粤BD12345", "京A88C06"]
    assert len({a.event.event_id for a in got}) == 3
    assert got[1].event.captured_at == T0 + 25 * FRAME
    assert got[1].event.plate_color is PlateColor.BLUE  # the detector saw blue for every read here


def test_two_cars_in_view_at_once_are_tracked_apart() -> None:
    t = tracker()
    out = []
    for i in range(10):
        at = T0 + i * FRAME
        left = result("京A12345", (100 + i, 500, 260 + i, 550))
        right = result("京B67890", (900 - i, 480, 1060 - i, 530), color=PlateColor.YELLOW)
        out += t.update(at, [left, right])
    assert sorted(a.event.plate for a in out) == ["京A12345", "京B67890"]
    yellow = next(a.event for a in out if a.event.plate == "京B67890")
    assert yellow.plate_color is PlateColor.YELLOW and yellow.plate_type is PlateType.YELLOW


def test_finish_publishes_a_track_with_enough_evidence() -> None:
    t = tracker(min_reads=5, early_reads=5, sure_confidence=1.0)
    assert drive(t, T0, moving("京A12345", 3)) == []
    assert [a.event.plate for a in t.finish()] == ["京A12345"]
    assert t.active_tracks == 0


def test_text_similarity() -> None:
    assert text_similarity("京A12345", "京A12345") == 1.0
    assert text_similarity("京A12345", "京A12845") == pytest.approx(6 / 7)
    assert text_similarity("", "") == 1.0


# -- direction: a virtual line across the driveway, the dealership below it ----------------------

SIZE = (1280, 720)
LINE = GateLine((0.0, 0.5), (1.0, 0.5), inside=(0.5, 1.0))


def passing(text: str, y_from: float, y_to: float, n: int, conf: float = 0.95) -> list[PlateResult | None]:
    """A plate whose centre moves vertically from `y_from` to `y_to` (fractions of the frame)."""
    out: list[PlateResult | None] = []
    for i in range(n):
        y = int((y_from + (y_to - y_from) * i / (n - 1)) * SIZE[1])
        out.append(result(text, (560, y - 20, 720, y + 20), conf))
    return out


def drive_sized(t: ArrivalTracker, start: datetime, reads: list[PlateResult | None]) -> list:
    out = []
    for i, r in enumerate(reads):
        out += t.update(start + i * FRAME, [] if r is None else [r], SIZE)
    return out


def test_gate_line_distance_sign() -> None:
    assert LINE.distance((0.5, 0.9)) == pytest.approx(0.4)
    assert LINE.distance((0.2, 0.1)) == pytest.approx(-0.4)
    with pytest.raises(ValueError):
        GateLine((0.0, 0.5), (1.0, 0.5), inside=(0.3, 0.5))  # on the line: which side is in?


def test_a_car_driving_in_is_an_arrival_at_once() -> None:
    t = tracker(gate_line=LINE)
    got = drive_sized(t, T0, passing("京A12345", 0.2, 0.9, 30))
    assert [(a.event.plate, a.event.kind) for a in got] == [("京A12345", "arrival")]
    assert got[0].decided_at == T0  # outside and heading in: no need to wait for the line


def test_a_car_driving_out_is_held_until_it_crosses_then_a_departure() -> None:
    t = tracker(gate_line=LINE)
    reads = passing("京A12345", 0.9, 0.1, 41)  # 0.02 of the frame per frame, upwards
    got = drive_sized(t, T0, reads)
    assert [(a.event.plate, a.event.kind) for a in got] == [("京A12345", "departure")]
    crossing = next(i for i, r in enumerate(reads) if LINE.distance_of_box(r.detection.box, SIZE) <= -0.02)  # type: ignore[union-attr]
    assert got[0].decided_at == T0 + crossing * FRAME
    # the same car coming back within the cooldown is still an arrival: the kinds keep apart
    back = drive_sized(t, T0 + timedelta(seconds=10), passing("京A12345", 0.1, 0.9, 30))
    assert [a.event.kind for a in back] == ["arrival"]


def test_a_track_that_never_crosses_keeps_todays_behaviour() -> None:
    t = tracker(gate_line=LINE)
    leaving_slowly = passing("京A12345", 0.9, 0.7, 20)  # heading out, lost before the line
    assert drive_sized(t, T0, leaving_slowly) == []
    got = t.update(T0 + timedelta(seconds=3), [], SIZE)  # the track ends without a crossing
    assert [(a.event.plate, a.event.kind) for a in got] == [("京A12345", "arrival")]
    # without the frame size the line cannot place the plate: every car is an arrival
    t2 = tracker(gate_line=LINE)
    assert [a.event.kind for a in drive(t2, T0, passing("京A67890", 0.9, 0.1, 40))] == ["arrival"]
