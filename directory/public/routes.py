"""The routes list and the page of one route: the help ahead of you along it.

Like "Help near me", the route page is an ordinary GET form whose list the server renders;
JavaScript (static/js/route.js) only adds "use my location" and the map of the route, the
corridor searched and the numbered places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request, url_for
from sqlalchemy import select

from directory.corridors.barriers import RouteBarrier, route_barriers
from directory.corridors.models import Route
from directory.corridors.services import (
    DEFAULT_BUFFER_KM,
    CorridorQuery,
    CorridorResult,
    active_routes,
    find_route,
    route_corridor,
    route_drawing,
)
from directory.db import db
from directory.gazetteer.origin import OriginLookup, far_results, resolve_origin
from directory.i18n.selection import current_language
from directory.places.models import Country, ServiceCategory
from directory.places.placement import country_of
from directory.public import public
from directory.public.consulates import country_names
from directory.public.pages import form_page, map_base
from directory.web import http
from directory.web.args import read_query
from directory.web.cursor import Cursor
from directory.web.lookups import location_filters
from directory.web.schemas import RoutePageArgs
from geo.coordinates import LonLat

BUFFER_CHOICES = (5, 10, 25, 50)
PAGE_SIZE = 50


@public.get("/routes")
@http.policy(http.public(300))
def routes():
    language = current_language()
    names = country_names()
    listed = [
        {
            "route": route,
            "length_km": length_m / 1000,
            "countries": [names.get(code, code) for code in route.country_codes],
        }
        for route, length_m in active_routes(db.session, language)
    ]
    return render_template(
        "routes.html", routes=listed, map_config=map_base(routesUrl=url_for("api.routes"))
    )


def _route_or_404(key: str) -> Route:
    record = find_route(db.session, key)
    if record is None:
        abort(404)
    return record


def _route_context(key: str, record: Route | None = None) -> dict[str, Any]:
    """The page before (or without) a search; ``record`` saves looking the route up again."""
    record = record or _route_or_404(key)
    categories = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.position))
    return {
        "route": record,
        "categories": categories.all(),
        "args": request.args,
        "buffers": BUFFER_CHOICES,
        "buffer_km": DEFAULT_BUFFER_KM,
        "origin": None,
        "problem": None,
        "lookup": None,  # the typed town: "Did you mean" (_did_you_mean.html)
        "far": None,  # the route passes far from the origin (_far_results.html)
        "emergency_country": None,  # the country of the origin
        "route_countries": [],  # without an origin: every country's number, in route order
        "warnings": BarrierWarnings({}, []),  # barriers the route enters (the Darién Gap)
        "error": None,
        "result": None,
        "wider": None,
        "more_url": None,
        "map_config": None,
    }


def _countries(codes: list[str]) -> list[Country]:
    found = {
        country.code: country
        for country in db.session.scalars(select(Country).where(Country.code.in_(codes)))
    }
    return [found[code] for code in codes if code in found]


def _error_context(key: str) -> dict[str, Any]:
    context = _route_context(key)
    context["map_config"] = _route_config(context["route"], None, DEFAULT_BUFFER_KM)
    return context


@public.get("/routes/<key>")
# The route's help is public data; from where somebody stands, it is theirs alone.
@http.policy(http.public(300, private_if=("q", "lat", "lon")))
@form_page("route.html", _error_context)
def route(key: str):
    record = _route_or_404(key)
    args = read_query(RoutePageArgs())
    lookup = resolve_origin(db.session, args)
    start = lookup.origin.position if lookup.origin else None
    query = CorridorQuery(
        buffer_km=args["buffer_km"],
        start=start,
        filters=location_filters(db.session, args),
        limit=PAGE_SIZE,
        after=args["cursor"],
    )
    result = route_corridor(db.session, record, query)
    context = {**_route_context(key, record), **_result_context(record, query, lookup, result)}
    return render_template("route.html", **context)


def _result_context(
    record: Route, query: CorridorQuery, lookup: OriginLookup, result: CorridorResult
) -> dict[str, Any]:
    return {
        "buffer_km": query.buffer_km,
        "origin": lookup.origin,
        "problem": lookup.problem,
        "lookup": lookup,
        "far": far_results(result.start.offset_m if result.start else None, "route"),
        "emergency_country": (
            country_of(db.session, lookup.origin.position, lookup.origin.country_code)
            if lookup.origin
            else None
        ),
        "route_countries": [] if lookup.origin else _countries(record.country_codes),
        "warnings": _barrier_warnings(result, route_barriers(db.session, record), query.after),
        "result": result,
        "wider": _wider(query.buffer_km),
        "more_url": _more_url(record, result),
        "map_config": _route_config(record, result, query.buffer_km, query.start),
    }


@dataclass(frozen=True, slots=True)
class BarrierWarnings:
    """Where a route's barriers (the Darién Gap) go in the ordered list: before the item of
    each rank, or after the last item."""

    before: dict[int, list[RouteBarrier]]
    after: list[RouteBarrier]


def _barrier_warnings(
    result: CorridorResult, barriers: list[RouteBarrier], after_cursor: object
) -> BarrierWarnings:
    """The warnings of the barriers the listed stretch of the route enters, each before the
    first place at or beyond it (or after the list, when the route enters it past the
    last place and nothing more follows)."""
    items = result.items
    if after_cursor is not None and items:
        lower = items[0].along_m
    else:
        lower = result.start.along_m if result.start else 0.0
    upper = items[-1].along_m if result.more and items else float("inf")
    before: dict[int, list[RouteBarrier]] = {}
    after: list[RouteBarrier] = []
    for barrier in barriers:
        if not lower <= barrier.along_m <= upper:
            continue
        rank = next((item.rank for item in items if item.along_m >= barrier.along_m), None)
        if rank is None:
            after.append(barrier)
        else:
            before.setdefault(rank, []).append(barrier)
    return BarrierWarnings(before, after)


def _wider(buffer_km: float) -> int | None:
    """The next corridor width to suggest when nothing was found."""
    return next((choice for choice in (*BUFFER_CHOICES, 100) if choice > buffer_km), None)


def _more_url(route: Route, result: CorridorResult) -> str | None:
    if not result.more or not result.items:
        return None
    args = request.args.to_dict(flat=False)
    args["cursor"] = [Cursor(*result.items[-1].sort_key).encode()]
    return url_for("public.route", key=route.code, **args)


def _route_config(
    route: Route,
    result: CorridorResult | None,
    buffer_km: float,
    origin: LonLat | None = None,
) -> dict[str, Any]:
    """What route.js needs, handed over as JSON in a data attribute."""
    line, corridor = route_drawing(db.session, route, buffer_km, result.start if result else None)
    return map_base(
        routesUrl=url_for("api.routes"),
        line=line,
        corridor=corridor,
        origin=list(origin) if origin else None,
        results=[
            {
                "rank": item.rank,
                "name": item.location.display_name,
                "coordinates": list(item.location.position),
                "url": url_for("public.place", location_id=item.location.id),
            }
            for item in (result.items if result else [])
        ],
    )
