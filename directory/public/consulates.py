"""Consulate pages: "Find my consulate", the list of offices, and an office's partners.

The finder is for a migrant on a phone: an ordinary GET form (nationality, and a town or
"use my location") answered by the server; JavaScript only adds geolocation and the map.
The office page is for consular staff: the district's partner organizations, nearest to the
office first, with the filters of every search and CSV / GeoJSON exports of the same list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import select

from directory.consular.district_map import nationalities_with_offices
from directory.consular.models import ConsularDistrict
from directory.consular.referrals import referral
from directory.consular.services import (
    PARTNER_KINDS,
    Partner,
    PartnerQuery,
    ServingOffice,
    active_district,
    consular_office,
    district_geometry,
    offices_by_nationality,
    partners_in_district,
    serving_office,
)
from directory.db import Population, db
from directory.gazetteer.origin import Origin, far_results, resolve_origin
from directory.i18n.selection import current_language
from directory.places.models import Country, Location, Network, ServiceCategory
from directory.places.placement import country_of
from directory.places.populations import POPULATION_LABELS
from directory.public import public
from directory.public.pages import form_page, map_base
from directory.web import http
from directory.web.args import read_query
from directory.web.lookups import (
    known_nationality,
    national_place,
    office_nationality,
    partner_filters,
)
from directory.web.schemas import ConsulateListArgs, ConsulatePageArgs, FinderArgs
from geo.coordinates import LonLat

# The staff page lists at most this many partners; the exports have them all.
PAGE_PARTNERS = 500
FILTER_PARAMETERS = (
    "nationality",
    "kind",
    "network",
    "category",
    "population",
    "language",
    "open_now",
)
# The languages offered as filters on the office page (ISO 639-1): those of the region's
# migrants and of the organizations that receive them. ``language=`` takes any code.
FILTER_LANGUAGES = ("es", "en", "fr", "ht", "pt")


def country_names() -> dict[str, str]:
    """Every country's name by code in the reader's language (``Country.name``)."""
    language = current_language()
    return {country.code: country.name(language) for country in db.session.scalars(select(Country))}


# --- Find my consulate --------------------------------------------------------------------


def _finder_context(**_view_args: Any) -> dict[str, Any]:
    return {
        "countries": nationalities_with_offices(db.session, current_language()),
        "args": request.args,
        "nationality": None,
        "country_name": None,
        "origin": None,
        "problem": None,
        "lookup": None,  # the typed town: "Did you mean" (_did_you_mean.html)
        "far": None,  # the office is far (_far_results.html)
        "emergency_country": None,  # the country of the origin
        "error": None,
        "result": None,
        "state": None,
        "map_config": map_base(),
    }


@public.get("/consulates/serving")
@http.policy(http.SEARCH)
@form_page("consulate_finder.html", _finder_context)
def consulate_finder():
    args = read_query(FinderArgs())
    nationality = known_nationality(db.session, args["nationality"])
    lookup = resolve_origin(db.session, args)
    result = None
    if nationality and lookup.origin is not None:
        result = serving_office(db.session, lookup.origin.position, nationality)
    return render_template(
        "consulate_finder.html",
        **{
            **_finder_context(),
            "nationality": nationality,
            "country_name": (country_names().get(nationality) if nationality else None),
            "origin": lookup.origin,
            "problem": lookup.problem,
            "lookup": lookup,
            "far": far_results(result.distance_m if result else None, "office"),
            "emergency_country": (
                country_of(db.session, lookup.origin.position, lookup.origin.country_code)
                if lookup.origin
                else None
            ),
            "result": result,
            "state": result.location.open_state(dt.datetime.now(dt.UTC)) if result else None,
            "map_config": _finder_map(lookup.origin.position if lookup.origin else None, result),
        },
    )


def _finder_map(position: LonLat | None, result: ServingOffice | None) -> dict[str, Any]:
    config = map_base()
    if position is None:
        return config
    config["origin"] = list(position)
    if result is not None:
        config["office"] = _office_marker(result.location)
        config["district"] = (
            district_geometry(db.session, result.district) if result.district else None
        )
        config["match"] = result.match
    return config


def _office_marker(office: Location) -> dict[str, Any]:
    return {
        "id": office.id,
        "name": office.display_name,
        "coordinates": list(office.position),
        "url": url_for("public.consulate", location_id=office.id),
    }


# --- The list of offices ------------------------------------------------------------------


def _list_context(**_view_args: Any) -> dict[str, Any]:
    return {
        "groups": [],
        "countries": nationalities_with_offices(db.session, current_language()),
        "names": {},
        "nationality": None,
        "error": None,
    }


@public.get("/consulates")
@http.policy(http.public(300))
@form_page("consulates.html", _list_context)
def consulates():
    nationality = known_nationality(db.session, read_query(ConsulateListArgs())["nationality"])
    names = country_names()
    groups = offices_by_nationality(db.session, nationality)
    return render_template(
        "consulates.html",
        **{
            **_list_context(),
            "groups": sorted(groups, key=lambda group: names.get(group.nationality, "")),
            "names": names,
            "nationality": nationality,
        },
    )


# --- An office and its partners (consular staff) ------------------------------------------


def _office_or_404(location_id: int) -> Location:
    office = consular_office(db.session, location_id)
    if office is None:
        abort(404)
    return office


def _office_context(location_id: int) -> dict[str, Any]:
    office = _office_or_404(location_id)
    return {
        "office": office,
        "args": request.args,
        "names": country_names(),
        "nationality": office.organization.nationalities[0],
        "district": None,
        "partners": [],
        "rows": [],  # the partners as referrals (directory/consular/referrals.py)
        "slip_urls": {},  # partner id → its referral slip
        "more": False,
        "error": None,
        "origin": None,  # where the national is, when the officer typed a place
        "problem": None,
        "lookup": None,  # the typed town: "Did you mean" (_did_you_mean.html)
        "far": None,
        "networks": db.session.scalars(select(Network).order_by(Network.code)).all(),
        "categories": db.session.scalars(
            select(ServiceCategory).order_by(ServiceCategory.position)
        ).all(),
        "populations": [population.value for population in Population],
        "population_labels": {
            population.value: label for population, label in POPULATION_LABELS.items()
        },
        "partner_kinds": [kind.value for kind in PARTNER_KINDS],
        "filter_languages": FILTER_LANGUAGES,
        "links": {},
        "map_config": map_base(office=_office_marker(office), partners=[]),
    }


@public.get("/consulates/<int:location_id>")
# The district's partners are public directory data; where the national is (a typed place,
# or ``from``) is theirs alone: then ``private, no-store`` (and no log keeps the query).
@http.policy(http.public(300, private_if=("q", "from")))
@form_page("consulate.html", _office_context)
def consulate(location_id: int):
    context = _office_context(location_id)
    office = context["office"]
    args = read_query(ConsulatePageArgs())
    nationality = office_nationality(office, args["nationality"])
    filters = partner_filters(db.session, args)
    lookup = national_place(db.session, args)
    origin = lookup.origin
    context.update(origin=origin, problem=lookup.problem, lookup=lookup)
    district = active_district(db.session, office.id, nationality)
    if district is not None:
        query = PartnerQuery(
            filters=filters,
            limit=PAGE_PARTNERS + 1,
            origin=origin.position if origin else None,
        )
        at = dt.datetime.now(dt.UTC)
        partners = partners_in_district(db.session, office, district, query, at)
        context.update(_partners_context(office, district, partners, at, origin))
    return render_template("consulate.html", **{**context, "nationality": nationality})


def _partners_context(
    office: Location,
    district: ConsularDistrict,
    partners: list[Partner],
    at: dt.datetime,
    origin: Origin | None,
) -> dict[str, Any]:
    shown = partners[:PAGE_PARTNERS]
    return {
        "district": district,
        "partners": shown,
        "rows": [referral(partner, at) for partner in shown],
        "slip_urls": _slip_urls(office, shown),
        "more": len(partners) > PAGE_PARTNERS,
        "links": _export_links(office.id, origin),
        "map_config": map_base(
            office=_office_marker(office),
            district=district_geometry(db.session, district),
            partners=[_partner_marker(partner) for partner in shown],
            **({"origin": list(origin.position)} if origin else {}),
        ),
    }


def _slip_urls(office: Location, partners: list[Partner]) -> dict[int, str]:
    """Each partner's referral slip. The slip's endpoint comes with another change: until
    it is registered, the rows link to nothing rather than fail to build a URL."""
    if "public.referral_slip" not in current_app.view_functions:
        return {}
    return {
        partner.location.id: url_for(
            "public.referral_slip", location_id=office.id, partner_id=partner.location.id
        )
        for partner in partners
    }


def _filter_args() -> dict[str, list[str]]:
    """The filters of this request, to carry over into the export links."""
    return {
        name: [value for value in request.args.getlist(name) if value.strip()]
        for name in FILTER_PARAMETERS
        if any(value.strip() for value in request.args.getlist(name))
    }


def _export_links(location_id: int, origin: Origin | None = None) -> dict[str, str]:
    """The exports and the API of the same list. They also carry where the national is
    (``from``, as coordinates: they take no town), so they have the same distances; those
    answers are then private, as this page is."""
    kept = _filter_args()
    if origin is not None:
        kept["from"] = [f"{origin.position.lat:.5f},{origin.position.lon:.5f}"]
    links = {
        "csv": url_for("public.consulate_partners_csv", location_id=location_id, **kept),
        "geojson": url_for("public.consulate_partners_geojson", location_id=location_id, **kept),
        "api": url_for("api.consulate_partners", location_id=location_id, **kept),
    }
    # The XLSX export comes with another change: linked once it is registered.
    if "public.consulate_partners_xlsx" in current_app.view_functions:
        links["xlsx"] = url_for("public.consulate_partners_xlsx", location_id=location_id, **kept)
    return links


def _partner_marker(partner: Partner) -> dict[str, Any]:
    return {
        "id": partner.location.id,
        "name": partner.location.display_name,
        "kind": partner.location.organization.kind.value,
        "coordinates": list(partner.location.position),
        "url": url_for("public.place", location_id=partner.location.id),
    }
