"""Which plate layout a read is: grammar first, then the background colour, then the model's hint.

Blue, yellow and double-row yellow plates share one grammar, so the text alone cannot tell them
apart; the detector's colour and the plate's proportions can.
"""

from __future__ import annotations

from dealergate.plate_crops import DOUBLE_ROW_MAX_ASPECT
from dealergate.plates import PLATE_COLORS, PlateColor, PlateType, matching_types


def plate_type_of(
    text: str,
    color: PlateColor = PlateColor.UNKNOWN,
    aspect: float | None = None,
    hint: PlateType | None = None,
) -> PlateType:
    """The layout of `text` given the colour and aspect seen, UNKNOWN when the grammar rejects it."""
    candidates = matching_types(text)
    if not candidates:
        return PlateType.UNKNOWN
    by_color = [t for t in candidates if PLATE_COLORS[t] is color] or candidates
    if len(by_color) == 1:
        return by_color[0]
    if aspect is not None and PlateType.YELLOW_DOUBLE in by_color and PlateType.YELLOW in by_color:
        drop = PlateType.YELLOW if aspect < DOUBLE_ROW_MAX_ASPECT else PlateType.YELLOW_DOUBLE
        by_color = [t for t in by_color if t is not drop]
    if hint in by_color:
        return hint  # type: ignore[return-value]
    return by_color[0]  # grammar order puts the commonest layout (blue) first
