"""How far away a place is, said no more exactly than its point is known.

Most points of the directory are town centres (``city`` precision): a distance to the metre
from such a point is false precision, and "0.0 km" leads a person to the town square. So a
distance is rounded to what the point allows, and within the uncertainty of a town-centre
point the answer is "in <town>", not a number. Every distance is a straight line.
"""

from __future__ import annotations

from dataclasses import dataclass

from directory.db import PositionPrecision

# How far the real door may be from a point of each precision, and the step a distance to
# it is rounded to.
UNCERTAINTY_M = {
    PositionPrecision.EXACT: 0.0,
    PositionPrecision.STREET: 500.0,
    PositionPrecision.CITY: 5_000.0,
}
STEP_M = {
    PositionPrecision.EXACT: 100.0,
    PositionPrecision.STREET: 500.0,
    PositionPrecision.CITY: 5_000.0,
}
# A town-centre point closer than this is "in the town": the searcher may well be nearer
# to the place than to its point, or farther.
IN_TOWN_M = 10_000.0


@dataclass(frozen=True, slots=True)
class ShownDistance:
    """A straight-line distance as a page may show it.

    ``in_town``: the place's point is a town centre within ``IN_TOWN_M``; say the town,
    not a number. Otherwise ``km`` is rounded to ``STEP_M`` and ``approximate`` says
    whether the point is anything less than the door.
    """

    km: float
    approximate: bool
    in_town: bool = False


def shown_distance(distance_m: float, precision: PositionPrecision) -> ShownDistance:
    """``distance_m`` (a straight line to the place's point) as its precision allows."""
    precision = PositionPrecision(precision)
    if precision is PositionPrecision.CITY and distance_m < IN_TOWN_M:
        return ShownDistance(km=0.0, approximate=True, in_town=True)
    step = STEP_M[precision]
    rounded = max(step, round(distance_m / step) * step)
    return ShownDistance(km=rounded / 1000, approximate=precision is not PositionPrecision.EXACT)


def rounded_distance_m(distance_m: float, precision: PositionPrecision) -> float:
    """What the API says: metres rounded to the precision's step (exact: to the metre)."""
    precision = PositionPrecision(precision)
    if precision is PositionPrecision.EXACT:
        return round(distance_m, 1)
    step = STEP_M[precision]
    return float(round(distance_m / step) * step)
