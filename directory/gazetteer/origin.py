"""Where a search starts: the person's position, or a town they typed.

Shared by every page that searches from a place (help near me, find my consulate, help along
a route). The position comes from the phone (``lat``/``lon``, filled in by
``static/js/locate.js``) or a map tap; a town is looked up in the offline gazetteer. Neither
is logged or stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from directory.gazetteer.services import TownMatch, search_towns
from geo.coordinates import LonLat

PLACE_CHOICES = 5


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the search starts: the person's position or a town they typed."""

    position: LonLat
    label: str | None  # "Tapachula, Chiapas (MX)" for a town; None for a position


@dataclass(frozen=True, slots=True)
class OriginLookup:
    """The origin (or ``None``), the other towns that matched, and ``"no_town"`` when a
    typed name matched nothing."""

    origin: Origin | None
    alternatives: list[TownMatch]
    problem: str | None


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
    first = matches[0]
    # "Tapachula" found Tapachula: offer other towns of that very name, not "Tapauá".
    others = [match for match in matches[1:] if match.exact or not first.exact]
    label = ", ".join(part for part in (first.name, first.admin_area) if part)
    return OriginLookup(
        Origin(LonLat(first.lon, first.lat), f"{label} ({first.country_code})"),
        others,
        None,
    )
