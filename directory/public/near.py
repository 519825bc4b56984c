"""The "Help near me" page and the page of one place.

The page works without JavaScript: the form is an ordinary GET form and the server renders
the list. JavaScript only adds "use my location", tapping the map, and the live map.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request, url_for
from sqlalchemy import select

from directory.corridors.barriers import barriers_by_code
from directory.db import db
from directory.gazetteer.origin import Origin, far_results, resolve_origin
from directory.i18n.formatting import country_name
from directory.places.models import Country, ServiceCategory
from directory.places.nearest import NearbyLocation, NearestQuery, find_nearest
from directory.places.placement import country_of
from directory.places.populations import POPULATION_LABELS
from directory.places.records import public_location
from directory.public import public
from directory.public.pages import back_link, form_page, map_base
from directory.web import http
from directory.web.args import read_query
from directory.web.lookups import location_filters
from directory.web.schemas import NearPageArgs


def _near_context(**_view_args: Any) -> dict[str, Any]:
    categories = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.position))
    return {
        "categories": categories.all(),
        "args": request.args,
        "results": [],
        "origin": None,
        "problem": None,
        "lookup": None,  # the typed town: "Did you mean" (_did_you_mean.html)
        "far": None,  # the nearest result is far (_far_results.html)
        "emergency_country": None,  # the country of the search's origin
        "barriers": {},  # code -> Barrier, for results across one (the Darién Gap)
        "abroad": {},  # country code -> name, for results in another country
        "error": None,
        "map_config": _map_config(None, []),
    }


@public.get("/near")
@http.policy(http.SEARCH)
@form_page("near.html", _near_context)
def near():
    args = read_query(NearPageArgs())
    filters = location_filters(db.session, args)
    lookup = resolve_origin(db.session, args)
    results: list[NearbyLocation] = []
    here = (
        country_of(db.session, lookup.origin.position, lookup.origin.country_code)
        if lookup.origin
        else None
    )
    if lookup.origin is not None:
        query = NearestQuery(lookup.origin.position, limit=args["limit"], filters=filters)
        results = find_nearest(db.session, query)
    return render_template(
        "near.html",
        **{
            **_near_context(),
            "origin": lookup.origin,
            "problem": lookup.problem,
            "lookup": lookup,
            "far": far_results(min((r.distance_m for r in results), default=None)),
            "results": results,
            "emergency_country": here,
            "barriers": barriers_by_code(db.session, {r.across for r in results if r.across}),
            "abroad": _abroad(here, results),
            "map_config": _map_config(lookup.origin, results),
        },
    )


def _abroad(here: Country | None, results: list[NearbyLocation]) -> dict[str, str]:
    """Names of the countries of results outside the searcher's, in the reader's language
    (no query when none is)."""
    codes = {r.location.country_code for r in results}
    if here is None or codes <= {here.code}:
        return {}
    rows = db.session.execute(
        select(Country.code, Country.names).where(Country.code.in_(codes - {here.code}))
    )
    return {code: country_name(code, names) for code, names in rows}


def _map_config(origin: Origin | None, results: list[NearbyLocation]) -> dict[str, Any]:
    """What near.js needs, handed over as JSON in a data attribute."""
    return map_base(
        areaUrl=url_for("api.locations_in_area"),
        routesUrl=url_for("api.routes"),
        origin=[origin.position.lon, origin.position.lat] if origin else None,
        results=[
            {
                "rank": result.rank,
                "name": result.location.display_name,
                "coordinates": list(result.location.position),
                "url": url_for("public.place", location_id=result.location.id),
            }
            for result in results
        ],
    )


@public.get("/places/<int:location_id>")
@http.policy(http.public(300, private_if=("back",)))  # "back" holds the person's search
def place(location_id: int):
    location = public_location(db.session, location_id)
    if location is None:
        abort(404)
    state = location.open_state(dt.datetime.now(dt.UTC))
    lon, lat = location.position
    back = back_link(request.args.get("back"))
    return render_template(
        "place.html",
        location=location,
        state=state,
        lon=lon,
        lat=lat,
        back=back,
        population_labels=POPULATION_LABELS,
    )
