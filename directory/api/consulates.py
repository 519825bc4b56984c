"""Consular offices: which one serves a person, and the partners in an office's district.

``GET /consulates/serving`` is about one person's position and nationality: it is never
cached and never logged. The partner list is public directory data.
"""

from __future__ import annotations

from flask import Response, url_for
from flask_babel import gettext as _

from directory.api import api
from directory.consular.services import PartnerQuery, partners_in_district, serving_office
from directory.db import db
from directory.i18n.selection import current_language
from directory.web import http
from directory.web.args import read_query
from directory.web.cursor import Cursor
from directory.web.errors import ApiError
from directory.web.features import partners_collection, serving_feature
from directory.web.lookups import (
    district_or_404,
    known_nationality,
    office_nationality,
    office_or_404,
    partner_filters,
)
from directory.web.schemas import PartnerPageArgs, ServingArgs


@api.get("/consulates/serving")
@http.policy(http.SEARCH)
def consulate_serving() -> Response:
    """The consular office serving ``nationality`` at ``lat``/``lon``.

    ``match`` is ``district`` when the office's district covers the point, else
    ``nearest`` (the nearest office of that nationality); ``distance_m`` is from the point.
    """
    args = read_query(ServingArgs())
    nationality = known_nationality(db.session, args["nationality"])
    result = serving_office(db.session, args["position"], nationality)
    if result is None:
        raise ApiError(
            "no_consulate",
            _(
                "The directory has no consular office serving %(nationality)s.",
                nationality=nationality,
            ),
            status=404,
            details={"nationality": nationality},
        )
    return http.geojson(serving_feature(result))


@api.get("/consulates/<int:location_id>/partners")
# Public directory data (it changes when somebody edits the directory); with ``from``, where
# a national is: theirs alone, never kept by a shared cache.
@http.policy(http.public(300, private_if=("from",)))
def consulate_partners(location_id: int) -> Response:
    """Partner organizations inside the office's district, nearest to the office first,
    each with what a referral needs (contacts, hours and how sure they are, state now,
    admission rules, capacity).

    Filters as for every search (``kind`` within the partner kinds, ``open_now``,
    ``language``); ``nationality`` picks the district of a joint office; ``from=lat,lon``
    (where the national is) adds each partner's ``distance_from_m`` without changing the
    order; ``limit`` and ``cursor`` page (``next_cursor``).
    """
    office = office_or_404(db.session, location_id)
    args = read_query(PartnerPageArgs())
    district = district_or_404(db.session, office, office_nationality(office, args["nationality"]))
    query = PartnerQuery(
        filters=partner_filters(db.session, args),
        limit=args["limit"] + 1,
        after=args["cursor"],
        origin=args["start"],
    )
    partners = partners_in_district(db.session, office, district, query)
    page = partners[: args["limit"]]
    body = partners_collection(
        office,
        district,
        page,
        url_for("public.consulate", location_id=office.id),
        language=current_language(),
    )
    if len(partners) > args["limit"]:
        body["next_cursor"] = Cursor(page[-1].distance_m, page[-1].location.id).encode()
    return http.geojson(body)
