"""The "Help near me" page and the page of one place.

The page works without JavaScript: the form is an ordinary GET form and the server renders
the list. JavaScript only adds "use my location", tapping the map, and the live map.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.api.locations import filters_from
from directory.db import db
from directory.places.models import Location, Organization, ServiceCategory
from directory.places.nearest import NearbyLocation, NearestQuery, find_nearest
from directory.places.overview_map import KIND_STYLES
from directory.places.schemas import NearPageArgs
from directory.public import public
from directory.public.origin import Origin, resolve_origin
from directory.web.args import parse_query
from directory.web.errors import ApiError
from geo.coordinates import LonLat


@public.get("/near")
def near():
    categories = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.position))
    context: dict[str, Any] = {
        "categories": categories.all(),
        "kinds": KIND_STYLES,
        "args": request.args,
        "results": [],
        "origin": None,
        "alternatives": [],
        "problem": None,
        "error": None,
        "map_config": _map_config(None, []),
    }
    try:
        args = parse_query(NearPageArgs(), request.args)
        filters = filters_from(db.session, args)
    except ApiError as error:
        context["error"] = error.message
        return render_template("near.html", **context), 400
    lookup = resolve_origin(db.session, args)
    origin, alternatives, problem = lookup.origin, lookup.alternatives, lookup.problem
    results: list[NearbyLocation] = []
    if origin is not None:
        query = NearestQuery(origin.position, limit=args["limit"], filters=filters)
        results = find_nearest(db.session, query)
    context.update(
        origin=origin, alternatives=alternatives, problem=problem, results=results,
        map_config=_map_config(origin, results),
    )  # fmt: skip
    return render_template("near.html", **context)


def _map_config(origin: Origin | None, results: list[NearbyLocation]) -> dict[str, Any]:
    """What near.js needs, handed over as JSON in a data attribute."""
    return {
        "tiles": current_app.config["TILE_URL"] or None,
        "attribution": current_app.config["TILE_ATTRIBUTION"],
        "areaUrl": "/api/v1/locations",
        "outlinesUrl": "/api/v1/countries/outlines",
        "origin": [origin.position.lon, origin.position.lat] if origin else None,
        "results": [
            {
                "rank": result.rank,
                "name": result.location.display_name,
                "coordinates": list(_lonlat(result.location)),
                "url": f"/places/{result.location.id}",
            }
            for result in results
        ],
        "kinds": {kind.value: style.label for kind, style in KIND_STYLES.items()},
    }


def _lonlat(location: Location) -> tuple[float, float]:
    position = LonLat.from_element(location.point)
    return position.lon, position.lat


@public.get("/places/<int:location_id>")
def place(location_id: int):
    location = db.session.scalar(
        select(Location)
        .where(Location.id == location_id, Location.archived_at.is_(None))
        .options(
            selectinload(Location.categories),
            selectinload(Location.organization).selectinload(Organization.networks),
        )
    )
    if location is None:
        abort(404)
    now = dt.datetime.now(dt.UTC)
    state = location.open_state(now)
    lon, lat = _lonlat(location)
    return render_template(
        "place.html", location=location, state=state, lon=lon, lat=lat, kinds=KIND_STYLES
    )
