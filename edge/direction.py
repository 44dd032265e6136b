"""Which way a car drives through the gate: the side of a virtual line its plate is on, frame by frame.

A gate camera sees cars coming in and going out. A line across the driveway (two points in
fractions of the frame) and one point on the dealership side of it say which way is "in"; a track
whose plate moves from one side to the other has crossed. Pure geometry: no frames, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Point = tuple[float, float]
Direction = Literal["arrival", "departure", "hold"]
"""What a track's motion says so far: in (or no line at all), out, or not yet clear."""

SIDE_MARGIN = 0.02
"""A plate counts as on one side only this far (fraction of the frame) from the line, so a car
standing on the line does not flicker between "in" and "out"."""


@dataclass(frozen=True)
class GateLine:
    """The line through `a` and `b` and the side `inside` is on, all in fractions of the frame."""

    a: Point
    b: Point
    inside: Point
    _sign: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        length = math.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1])
        if length == 0.0:
            raise ValueError("gate_line needs two different points")
        raw = self._cross(self.inside) / length
        if abs(raw) < SIDE_MARGIN:
            raise ValueError(
                "gate_inside 太靠近 gate_line / gate_inside must lie clearly on one side of gate_line"
            )
        object.__setattr__(self, "_sign", math.copysign(1.0 / length, raw))

    def _cross(self, p: Point) -> float:
        return (self.b[0] - self.a[0]) * (p[1] - self.a[1]) - (self.b[1] - self.a[1]) * (p[0] - self.a[0])

    def distance(self, p: Point) -> float:
        """Signed distance of `p` from the line, in fractions of the frame: > 0 on the inside."""
        return self._cross(p) * self._sign

    def distance_of_box(self, box: tuple[int, int, int, int], frame_size: tuple[int, int]) -> float:
        """Signed distance of a pixel box's centre, for a frame of (width, height) pixels."""
        w, h = frame_size
        return self.distance(((box[0] + box[2]) / 2 / w, (box[1] + box[3]) / 2 / h))


@dataclass
class Passage:
    """One track's way through the gate: where it was first seen, where it is, and its last crossing."""

    first: float | None = None
    last: float | None = None
    side: int = 0
    """Last side it was clearly on: +1 inside, -1 outside, 0 not yet."""
    crossed: Literal["in", "out"] | None = None

    def add(self, distance: float) -> None:
        if self.first is None:
            self.first = distance
        self.last = distance
        side = 1 if distance >= SIDE_MARGIN else -1 if distance <= -SIDE_MARGIN else 0
        if side and self.side and side != self.side:
            self.crossed = "in" if side > 0 else "out"
        if side:
            self.side = side

    def direction(self) -> Direction:
        """Arrival once it crossed in or heads in; departure once it crossed out; otherwise hold.

        Heading out without having crossed yet, or standing on the dealership side, is held: a car
        leaving must not alert the screens before it reaches the line. Standing outside (at the
        barrier) is an arrival.
        """
        if self.crossed is not None:
            return "arrival" if self.crossed == "in" else "departure"
        if self.first is None or self.last is None:
            return "arrival"  # no line configured, or no position known: today's behaviour
        moved = self.last - self.first
        if moved >= SIDE_MARGIN:
            return "arrival"
        if moved <= -SIDE_MARGIN:
            return "hold"
        return "arrival" if self.first < 0 else "hold"

    def final_kind(self) -> Literal["arrival", "departure"]:
        """The kind of a track that ends: a departure only when it crossed out, as before otherwise."""
        return "departure" if self.crossed == "out" else "arrival"
