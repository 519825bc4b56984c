"""The routes list and the page of one route: the help ahead of you along it.

Like "Help near me", the route page is an ordinary GET form whose list the server renders;
JavaScript (static/js/route.js) only adds "use my location" and the map of the route, the
corridor searched and the numbered places.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request, url_for
from marshmallow import fields, validate
from sqlalchemy import select

from directory.api.locations import filters_from
from directory.corridors.models import Route
from directory.corridors.services import (
    MAX_BUFFER_KM,
    CorridorQuery,
    CorridorResult,
    active_routes,
    corridor_area_geojson,
    find_route,
    route_corridor,
    route_geojson,
    route_line,
)
from directory.db import db
from directory.places.models import Country, ServiceCategory
from directory.places.overview_map import KIND_STYLES
from directory.places.schemas import LocationFilterArgs
from directory.public import public
from directory.public.origin import resolve_origin
from directory.web.args import parse_query
from directory.web.cursor import Cursor
from directory.web.errors import ApiError
from geo.coordinates import LonLat

BUFFER_CHOICES = (5, 10, 25, 50)
PAGE_SIZE = 50


class RoutePageArgs(LocationFilterArgs):
    """The form of the route page: where you are (position or town), corridor width."""

    q = fields.String(load_default="", validate=validate.Length(max=100))
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(-180, 180))
    buffer_km = fields.Float(
        load_default=10.0,
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=MAX_BUFFER_KM),
    )
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


@public.get("/routes")
def routes():
    country_names = {
        country.code: country.name("en") for country in db.session.scalars(select(Country))
    }
    listed = [
        {
            "route": route,
            "length_km": length_m / 1000,
            "countries": [country_names.get(code, code) for code in route.country_codes],
        }
        for route, length_m in active_routes(db.session)
    ]
    return render_template("routes.html", routes=listed, map_config=_base_config())


@public.get("/routes/<key>")
def route(key: str):
    record = find_route(db.session, key)
    if record is None:
        abort(404)
    categories = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.position))
    context: dict[str, Any] = {
        "route": record,
        "categories": categories.all(),
        "kinds": KIND_STYLES,
        "args": request.args,
        "buffers": BUFFER_CHOICES,
        "buffer_km": 10.0,
        "origin": None,
        "alternatives": [],
        "problem": None,
        "error": None,
        "result": None,
        "wider": None,
        "more_url": None,
    }
    try:
        args = parse_query(RoutePageArgs(), request.args)
        filters = filters_from(db.session, args)
        after = Cursor.decode(args["cursor"]) if args["cursor"] else None
    except ApiError as error:
        context["error"] = error.message
        context["map_config"] = _route_config(record, None, 10.0)
        return render_template("route.html", **context), 400
    lookup = resolve_origin(db.session, args)
    origin = lookup.origin
    query = CorridorQuery(
        buffer_km=args["buffer_km"],
        start=origin.position if origin else None,
        filters=filters,
        limit=PAGE_SIZE,
        after=(after.value, after.id) if after else None,
    )
    result = route_corridor(db.session, record, query)
    context.update(
        buffer_km=args["buffer_km"],
        origin=origin,
        alternatives=lookup.alternatives,
        problem=lookup.problem,
        result=result,
        wider=_wider(args["buffer_km"]),
        more_url=_more_url(record, result),
        map_config=_route_config(
            record, result, args["buffer_km"], origin.position if origin else None
        ),
    )
    response = current_app.make_response(render_template("route.html", **context))
    if origin is not None:
        # The page says where somebody is: no shared cache may keep it.
        response.cache_control.private = True
        response.cache_control.no_store = True
    return response


def _wider(buffer_km: float) -> int | None:
    """The next corridor width to suggest when nothing was found."""
    return next((choice for choice in (*BUFFER_CHOICES, 100) if choice > buffer_km), None)


def _more_url(route: Route, result: CorridorResult) -> str | None:
    if not result.more or not result.items:
        return None
    args = request.args.to_dict(flat=False)
    args["cursor"] = [Cursor(*result.items[-1].sort_key).encode()]
    return url_for("public.route", key=route.code, **args)


def _base_config() -> dict[str, Any]:
    return {
        "tiles": current_app.config["TILE_URL"] or None,
        "attribution": current_app.config["TILE_ATTRIBUTION"],
        "outlinesUrl": url_for("api.country_outlines"),
        "routesUrl": url_for("api.routes"),
    }


def _route_config(
    route: Route,
    result: CorridorResult | None,
    buffer_km: float,
    origin: LonLat | None = None,
) -> dict[str, Any]:
    """What route.js needs, handed over as JSON in a data attribute."""
    line = route_line(route)
    start = result.start if result else None
    config = _base_config()
    config.update(
        line=route_geojson(db.session, route),
        corridor=corridor_area_geojson(db.session, line, buffer_km, start),
        origin=[origin.lon, origin.lat] if origin else None,
        results=[
            {
                "rank": item.rank,
                "name": item.location.display_name,
                "coordinates": list(_lonlat(item.location.point)),
                "url": url_for("public.place", location_id=item.location.id),
            }
            for item in (result.items if result else [])
        ],
    )
    return config


def _lonlat(point) -> tuple[float, float]:
    position = LonLat.from_element(point)
    return position.lon, position.lat


@public.app_template_filter("route_km")
def route_km(metres: float) -> str:
    """A distance for people: "0.4 km", "8.2 km", "120 km"."""
    value = metres / 1000
    return f"{value:.1f} km" if value < 10 else f"{value:,.0f} km"
