"""Where a search starts: the person's position, or a town they typed.

Shared by every page that searches from a place (help near me, find my consulate, help along
a route). The position comes from the phone (``lat``/``lon``, filled in by
``static/js/locate.js``) or a map tap; a town is looked up in the offline gazetteer. Neither
is logged or stored.

A typed name may not be the town the person is in: it has namesakes ("Ciudad Hidalgo" is a
border crossing in Chiapas and a town in Michoacán), or the town found lies far from every
route. The lookup says so (``OriginLookup.town``, ``alternatives``), and ``far_results``
says when what was found is far from where the search started, so the pages can tell the
person plainly instead of showing far-away help as if it were near.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from directory.gazetteer.services import TownMatch, search_towns
from geo.coordinates import LonLat

PLACE_CHOICES = 5

# Results farther than this from where the search started are "far", said plainly: a day's
# travel or more on the routes' buses, and twice the widest corridor a route page searches
# (100 km). The same threshold as a town far from every route (FAR_FROM_ROUTES_M).
FAR_RESULTS_M = 200_000


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the search starts: the person's position or a town they typed."""

    position: LonLat
    label: str | None  # "Tapachula, Chiapas, MX" for a town; None for a position
    # The typed town's country: better than the point's country on the simplified
    # boundaries, which put a few border towns (Ciudad Hidalgo, Chiapas) across the line.
    country_code: str | None = None


@dataclass(frozen=True, slots=True)
class OriginLookup:
    """The origin (or ``None``), the other towns to offer as "Did you mean", and
    ``"no_town"`` when a typed name matched nothing.

    ``town`` is the town chosen when a name was typed (``None`` for a position): its
    ``remote`` says it lies more than 200 km from every route and the directory has no place
    there. ``namesakes``: other towns have that very name. ``alternatives`` lists the towns
    of the region first.
    """

    origin: Origin | None
    alternatives: list[TownMatch]
    problem: str | None
    town: TownMatch | None = None
    namesakes: bool = False

    @property
    def doubtful(self) -> bool:
        """The chosen town may not be the one meant: say "Did you mean"."""
        return self.town is not None and (self.namesakes or self.town.remote)


@dataclass(frozen=True, slots=True)
class FarResults:
    """The nearest of what a search found is more than ``FAR_RESULTS_M`` away."""

    nearest_m: float
    subject: Literal["help", "route", "office"]  # what is far: the places, the route, the office

    @property
    def nearest_km(self) -> int:
        """To the nearest 10 km: the places are city-level points at best, and the routes
        schematic lines."""
        return round(self.nearest_m / 10_000) * 10


def far_results(
    nearest_m: float | None, subject: Literal["help", "route", "office"] = "help"
) -> FarResults | None:
    """``FarResults`` when the nearest result (``nearest_m`` from the origin) is far."""
    if nearest_m is None or nearest_m <= FAR_RESULTS_M:
        return None
    return FarResults(nearest_m, subject)


def resolve_origin(session: Session, args: dict[str, Any]) -> OriginLookup:
    """The origin from a parsed ``position`` (preferred) or ``q`` (a town name)."""
    if args.get("position") is not None:
        return OriginLookup(Origin(args["position"], None), [], None)
    query = (args.get("q") or "").strip()
    if not query:
        return OriginLookup(None, [], None)
    matches = search_towns(session, query, limit=PLACE_CHOICES)
    if not matches:
        return OriginLookup(None, [], "no_town")
    first, rest = matches[0], matches[1:]
    namesakes = first.exact and any(match.exact for match in rest)
    if first.exact and not first.remote:
        # "Tapachula" found Tapachula: offer other towns of that very name, not "Tapauá".
        others = [match for match in rest if match.exact]
    else:
        # A prefix, a typo, or a remote town: every other candidate.
        others = list(rest)
    # The region's towns first, each group in the search's order (a stable sort).
    others.sort(key=lambda match: not match.in_region)
    return OriginLookup(
        Origin(LonLat(first.lon, first.lat), first.label, first.country_code),
        others,
        None,
        town=first,
        namesakes=namesakes,
    )
