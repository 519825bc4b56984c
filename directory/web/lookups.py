"""From parsed arguments to domain values, or a clear 4xx.

Codes must name something the directory knows (a category, a network, a country), ids must
name an active record; what does not is an ``ApiError`` that pages show beside the form and
the API answers in the one error shape, their messages in the reader's language.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from directory.consular.models import ConsularDistrict
from directory.consular.services import PARTNER_KINDS, active_district, consular_office
from directory.corridors.models import Route
from directory.corridors.services import find_route
from directory.db import OrganizationKind
from directory.gazetteer.origin import Origin, OriginLookup, resolve_origin
from directory.places.filters import LocationFilters
from directory.places.models import Country, Location, Network, ServiceCategory
from directory.places.nearest import unknown_codes
from directory.web.errors import ApiError, invalid_parameter
from directory.web.messages import geo_message
from geo.area import BBox
from geo.coordinates import CoordinateError, LonLat


def location_filters(session: Session, args: dict[str, Any]) -> LocationFilters:
    """The filters of a search; category and network codes the directory lacks are a 400."""
    categories = tuple(args["category"])
    networks = tuple(args["network"])
    if unknown := unknown_codes(session, ServiceCategory.code, categories):
        raise invalid_parameter("category", _("unknown category %(code)s", code=repr(unknown[0])))
    if unknown := unknown_codes(session, Network.code, networks):
        raise invalid_parameter("network", _("unknown network %(code)s", code=repr(unknown[0])))
    return LocationFilters(
        categories=categories,
        populations=tuple(args["population"]),
        languages=tuple(args["language"]),
        kinds=tuple(OrganizationKind(kind) for kind in args["kind"]),
        networks=networks,
        open_now=args["open_now"],
        free=args["free"],
    )


def partner_filters(session: Session, args: dict[str, Any]) -> LocationFilters:
    """The shared filters; ``kind`` may only narrow within the partner kinds."""
    partner_kinds = {kind.value for kind in PARTNER_KINDS}
    for kind in args["kind"]:
        if kind not in partner_kinds:
            raise invalid_parameter(
                "kind",
                _(
                    "%(kind)s is not a partner kind (%(kinds)s)",
                    kind=repr(kind),
                    kinds=", ".join(sorted(partner_kinds)),
                ),
            )
    return location_filters(session, args)


def area(args: dict[str, Any]) -> BBox:
    try:
        return BBox.parse(args["bbox"])
    except CoordinateError as error:
        raise invalid_parameter("bbox", geo_message(error.message)) from None


def known_nationality(session: Session, value: str | None) -> str | None:
    """``value`` upper-cased, if it is a country of the directory; else a 400."""
    if value is None:
        return None
    code = value.upper()
    if session.get(Country, code) is None:
        raise invalid_parameter("nationality", _("unknown country %(code)s", code=repr(code)))
    return code


def office_or_404(session: Session, location_id: int) -> Location:
    office = consular_office(session, location_id)
    if office is None:
        raise ApiError(
            "not_found", _("No consular office with id %(id)s.", id=location_id), status=404
        )
    return office


def office_nationality(office: Location, value: str | None) -> str:
    """The nationality asked for (default: the office's own); one it does not serve is a 400."""
    served = office.organization.nationalities
    if value is None:
        return served[0]
    code = value.upper()
    if code not in served:
        raise invalid_parameter(
            "nationality",
            _(
                "this office serves %(served)s, not %(code)s",
                served=", ".join(served),
                code=repr(code),
            ),
        )
    return code


def district_or_404(session: Session, office: Location, nationality: str) -> ConsularDistrict:
    district = active_district(session, office.id, nationality)
    if district is None:
        raise ApiError(
            "district_missing",
            _(
                "Office %(id)s has no consular district for %(nationality)s yet; districts "
                "are computed with `flask districts compute` (or loaded with "
                "`flask districts load`).",
                id=office.id,
                nationality=nationality,
            ),
            status=404,
            details={"location_id": office.id, "nationality": nationality},
        )
    return district


def route_or_404(session: Session, key: str) -> Route:
    route = find_route(session, key)
    if route is None:
        raise ApiError("not_found", _("route %(key)s does not exist", key=repr(key)), status=404)
    return route


# "14.9,-92.26" (latitude first, as people write it and as ``from=`` takes it).
_TYPED_POSITION = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*")


def national_place(session: Session, args: dict[str, Any]) -> OriginLookup:
    """Where the national is, for the office page: ``from=lat,lon`` (``args["start"]``), or
    what the officer typed in ``q``: "lat,lon", or a town looked up as every search page
    does (with its "Did you mean" and ``"no_town"``). Coordinates out of range are a 400
    naming ``q``. Nothing of it is stored or logged (``directory.privacy``)."""
    if args.get("start") is not None:
        return OriginLookup(Origin(args["start"], None), [], None)
    typed = (args.get("q") or "").strip()
    if match := _TYPED_POSITION.fullmatch(typed):
        try:
            position = LonLat.parse(match.group(2), match.group(1))
        except CoordinateError as error:
            raise invalid_parameter(
                "q",
                _("%(axis)s %(problem)s", axis=error.name, problem=geo_message(error.message)),
            ) from None
        return OriginLookup(Origin(position, None), [], None)
    return resolve_origin(session, {"q": typed})
