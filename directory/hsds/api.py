"""The HSDS 3.0 API: the read endpoints of Open Referral's published openapi.json.

Any HSDS client can read the public directory at ``/hsds/v3`` (``/services``,
``/services/{id}``, ``/organizations``, ``/service_at_locations``, ``/taxonomies``,
``/taxonomy_terms``, each by id too, and ``/``), and download it whole at
``/hsds/v3/export.json`` (streamed). Answers follow the published document, checked by
schemathesis with that document (tests/test_hsds_api.py); objects are built by
``directory.hsds.mapping``, the same as the export's.

Errors have our one shape (``{"error": {...}}``, directory/web/errors.py): an unknown id is
a 404, a bad parameter a 400. Parameters we cannot honour say so rather than being
ignored: ``postcode``/``proximity`` (our places have no postal code) and ``format`` other
than ``json``. A ``search`` is never logged and its answer never cached by others.

Ids are UUIDs that carry our keys (``directory.hsds.ids.record_id``): an id is read back
to a primary key (``IdIndex``), with nothing to build or keep in memory.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    request,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from directory.db import OrganizationKind, PositionPrecision, db
from directory.hsds import export, ids, mapping
from directory.hsds.cli import begin_snapshot
from directory.places.models import Location, Organization, ServiceCategory, location_categories
from directory.web import errors, http
from directory.web.args import read_query
from directory.web.messages import Length, OneOf, Range

BASE_PATH: Final = "/hsds/v3"
PUBLISHED_OPENAPI: Final = (
    "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
)
DEFAULT_PER_PAGE: Final = 50
MAX_PER_PAGE: Final = 500
MAX_PAGE: Final = 1_000_000
MAX_SEARCH_LENGTH: Final = 200
EXPORT_FILENAME: Final = "protection-directory-hsds.json"

# Directory data, the same for everyone (like /api/v1's lists); a search stays private.
LIST = http.public(300, private_if=("search",))
RECORD = http.public(300)
EXPORT = http.public(3600)

hsds = Blueprint("hsds", __name__)

NOT_FOUND = _l("There is no %(kind)s with this id.")
NO_POSTCODES = _l("is not supported: the places of this directory have no postal codes")


# --- Finding our record of an HSDS id -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdIndex:
    """Our key of an HSDS id of one kind: the id carries it (``ids.record_key``)."""

    kind: str

    def find(self, session: Session, hsds_id: str) -> int | None:
        """Our key of ``hsds_id``, or None when it is not one of ours (the record itself is
        then read with the public filter, so an archived or missing one is a 404)."""
        return ids.record_key(self.kind, hsds_id)


SERVICES = IdIndex("service")
SERVICE_AT_LOCATIONS = IdIndex("service_at_location")
ORGANIZATIONS = IdIndex("organization")


# --- Parameters -----------------------------------------------------------------------------


class Moment(fields.Field):
    """A date-time in ISO 8601 (``2024-05-01T10:00:00Z``) or a date (midnight UTC)."""

    default_error_messages: ClassVar[dict[str, Any]] = {
        "invalid": _l("must be a date and time in ISO 8601, such as 2024-05-01T10:00:00Z")
    }

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise self.make_error("invalid") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _search() -> fields.String:
    return fields.String(load_default=None, validate=Length(max=MAX_SEARCH_LENGTH))


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=Range(1, MAX_PER_PAGE))
    format = fields.String(load_default="json", validate=OneOf(["json"]))
    search = _search()


class ServiceListArgs(PageArgs):
    taxonomy_term_id = fields.String(load_default=None, validate=Length(max=100))
    taxonomy_id = fields.String(load_default=None, validate=Length(max=100))
    organization_id = fields.String(load_default=None, validate=Length(max=100))
    modified_after = Moment(load_default=None)
    minimal = fields.Boolean(load_default=False)
    full = fields.Boolean(load_default=False)


class ServiceAtLocationListArgs(ServiceListArgs):
    postcode = fields.String(load_default=None)
    proximity = fields.String(load_default=None)


class OrganizationListArgs(PageArgs):
    full = fields.Boolean(load_default=False)
    full_service = fields.Boolean(load_default=False)


class OrganizationArgs(Schema):
    full_service = fields.Boolean(load_default=False)


class TaxonomyTermListArgs(PageArgs):
    taxonomy_id = fields.String(load_default=None, validate=Length(max=100))
    top_only = fields.Boolean(load_default=False)
    parent_id = fields.String(load_default=None, validate=Length(max=100))


def _refuse_postcodes(args: dict[str, Any]) -> None:
    for name in ("postcode", "proximity"):
        if args.get(name):
            raise errors.invalid_parameter(name, NO_POSTCODES)


# --- Pages ------------------------------------------------------------------------------------


def page_of(contents: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """The paged list object of the published document (its ``Page`` plus ``contents``)."""
    total_pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _paged_rows(
    session: Session, query: Select[Any], count_query: Select[Any], key: Any, args: dict[str, Any]
) -> tuple[list[Any], int]:
    total = int(session.scalar(select(func.count()).select_from(count_query.subquery())) or 0)
    page, per_page = args["page"], args["per_page"]
    if (page - 1) * per_page >= total:
        return [], total
    rows = session.scalars(query.order_by(key).offset((page - 1) * per_page).limit(per_page))
    return list(rows.unique()), total


def _paged_list(items: Sequence[Any], args: dict[str, Any]) -> dict[str, Any]:
    page, per_page = args["page"], args["per_page"]
    start = (page - 1) * per_page
    return page_of(list(items[start : start + per_page]), len(items), page, per_page)


def _like(term: str) -> str:
    escaped = term.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_matches(column: Any, term: str) -> ColumnElement[bool]:
    return func.unaccent(column).ilike(func.unaccent(_like(term)), escape="\\")


# --- Services and service_at_locations: one per public location ------------------------------


def _last_modified() -> Any:
    return func.greatest(Location.updated_at, Organization.updated_at)


def _term_condition(session: Session, term_id: str) -> ColumnElement[bool] | None:
    """The locations whose service, organization or location carries the term; None when
    the id is none of our terms."""
    for category in export.categories(session):
        if ids.taxonomy_term_id(ids.TAXONOMY_CATEGORIES, category.code) == term_id:
            return Location.categories.any(ServiceCategory.id == category.id)
    for kind in OrganizationKind:
        if ids.taxonomy_term_id(ids.TAXONOMY_ORGANIZATION_KINDS, kind.value) == term_id:
            return Organization.kind == kind
    for precision in PositionPrecision:
        if ids.taxonomy_term_id(ids.TAXONOMY_POSITION_PRECISION, precision.value) == term_id:
            return Location.position_precision == precision
    return None


def _location_conditions(
    session: Session, args: dict[str, Any]
) -> list[ColumnElement[bool]] | None:
    """The filters of a service or service_at_location list; None: nothing can match."""
    conditions: list[ColumnElement[bool]] = []
    if search := (args.get("search") or "").strip():
        conditions.append(
            or_(
                _text_matches(Organization.name, search),
                _text_matches(Location.name, search),
                _text_matches(Location.city, search),
            )
        )
    if term_id := args.get("taxonomy_term_id"):
        condition = _term_condition(session, term_id.strip())
        if condition is None:
            return None
        conditions.append(condition)
    if taxonomy_id := args.get("taxonomy_id"):
        taxonomy_id = taxonomy_id.strip()
        if taxonomy_id == ids.taxonomy_id(ids.TAXONOMY_CATEGORIES):
            conditions.append(
                select(location_categories.c.location_id)
                .where(location_categories.c.location_id == Location.id)
                .exists()
            )
        elif taxonomy_id not in (
            ids.taxonomy_id(ids.TAXONOMY_ORGANIZATION_KINDS),
            ids.taxonomy_id(ids.TAXONOMY_POSITION_PRECISION),
        ):
            return None  # every service carries a kind and a precision: no condition
    if organization_hsds_id := args.get("organization_id"):
        organization = ORGANIZATIONS.find(session, organization_hsds_id.strip())
        if organization is None:
            return None
        conditions.append(Location.organization_id == organization)
    if (after := args.get("modified_after")) is not None:
        conditions.append(_last_modified() >= after)
    return conditions


def _locations_page(
    session: Session, args: dict[str, Any], to_json: Callable[[Location], Any]
) -> dict[str, Any]:
    conditions = _location_conditions(session, args)
    if conditions is None:
        return page_of([], 0, args["page"], args["per_page"])
    query = export.public_locations().where(*conditions)
    count = (
        select(Location.id)
        .join(Location.organization)
        .where(Location.archived_at.is_(None), Organization.archived_at.is_(None), *conditions)
    )
    rows, total = _paged_rows(session, query, count, Location.id, args)
    return page_of([to_json(row) for row in rows], total, args["page"], args["per_page"])


def _public_location(session: Session, index: IdIndex, hsds_id: str, kind: str) -> Location:
    our_id = index.find(session, hsds_id)
    location = None
    if our_id is not None:
        location = session.scalars(export.public_locations().where(Location.id == our_id)).first()
    if location is None:
        raise errors.ApiError("not_found", _(str(NOT_FOUND), kind=kind), status=404)
    return location


def _minimal_service(location: Location) -> dict[str, Any]:
    body = mapping.service_list_object(location, with_organization=False)
    return {key: body[key] for key in ("id", "name", "status", "last_modified")}


@hsds.get("/")
@http.policy(http.public(3600))
def about():
    """What this API is: HSDS 3.0, described by Open Referral's published document."""
    return jsonify({"version": mapping.HSDS_VERSION, "openapi_url": PUBLISHED_OPENAPI})


@hsds.get("/services")
@http.policy(LIST)
def services():
    args = read_query(ServiceListArgs())
    if args["minimal"]:
        to_json: Callable[[Location], Any] = _minimal_service
    elif args["full"]:
        to_json = _full_service
    else:
        to_json = mapping.service_list_object
    return jsonify(_locations_page(db.session, args, to_json))


def _full_service(location: Location) -> dict[str, Any]:
    return mapping.service_object(location, nested=True)


@hsds.get("/services/<string:service_id>")
@http.policy(RECORD)
def service(service_id: str):
    location = _public_location(db.session, SERVICES, service_id, "service")
    return jsonify(mapping.service_object(location, nested=True))


@hsds.get("/service_at_locations")
@http.policy(LIST)
def service_at_locations():
    args = read_query(ServiceAtLocationListArgs())
    _refuse_postcodes(args)
    if args["full"]:
        to_json: Callable[[Location], Any] = mapping.service_at_location_full
    else:
        to_json = mapping.service_at_location_list_object
    return jsonify(_locations_page(db.session, args, to_json))


@hsds.get("/service_at_locations/<string:service_at_location_id>")
@http.policy(RECORD)
def service_at_location(service_at_location_id: str):
    location = _public_location(
        db.session, SERVICE_AT_LOCATIONS, service_at_location_id, "service_at_location"
    )
    return jsonify(mapping.service_at_location_full(location))


# --- Organizations ------------------------------------------------------------------------------


def _organization_full(
    session: Session, organizations: Sequence[Organization], full_service: bool
) -> list[dict[str, Any]]:
    """Organizations with their locations and services (simple, or full with
    ``full_service``), their locations read in one query."""
    locations: dict[int, list[Location]] = {organization.id: [] for organization in organizations}
    if organizations:
        query = export.public_locations().where(Location.organization_id.in_(list(locations)))
        for location in session.scalars(query.order_by(Location.id)).unique():
            locations[location.organization_id].append(location)
    result = []
    for organization in organizations:
        body = mapping.organization_object(organization)
        sites = locations[organization.id]
        body["locations"] = [mapping.location_object(location) for location in sites]
        body["services"] = [
            mapping.service_object(location)
            if full_service
            else mapping.service_list_object(location, with_organization=False)
            for location in sites
        ]
        result.append(body)
    return result


@hsds.get("/organizations")
@http.policy(LIST)
def organizations():
    args = read_query(OrganizationListArgs())
    session = db.session()
    query = export.public_organizations()
    if search := (args.get("search") or "").strip():
        query = query.where(_text_matches(Organization.name, search))
    rows, total = _paged_rows(session, query, query, Organization.id, args)
    if args["full"] or args["full_service"]:
        contents = _organization_full(session, rows, args["full_service"])
    else:
        contents = [mapping.organization_list_object(row) for row in rows]
    return jsonify(page_of(contents, total, args["page"], args["per_page"]))


@hsds.get("/organizations/<string:organization_id>")
@http.policy(RECORD)
def organization(organization_id: str):
    args = read_query(OrganizationArgs())
    session = db.session()
    our_id = ORGANIZATIONS.find(session, organization_id)
    found = None
    if our_id is not None:
        found = session.scalars(
            export.public_organizations().where(Organization.id == our_id)
        ).first()
    if found is None:
        raise errors.ApiError("not_found", _(str(NOT_FOUND), kind="organization"), status=404)
    (body,) = _organization_full(session, [found], args["full_service"])
    return jsonify(body)


# --- Taxonomies -----------------------------------------------------------------------------------


def _matches(texts: Sequence[str], search: str) -> bool:
    wanted = search.strip().casefold()
    return any(wanted in text.casefold() for text in texts)


@hsds.get("/taxonomies")
@http.policy(LIST)
def taxonomies():
    args = read_query(PageArgs())
    items = mapping.taxonomies()
    if search := (args.get("search") or "").strip():
        items = [t for t in items if _matches([t["name"], t["description"]], search)]
    return jsonify(_paged_list(items, args))


@hsds.get("/taxonomies/<string:taxonomy_id>")
@http.policy(RECORD)
def taxonomy(taxonomy_id: str):
    for item in mapping.taxonomies():
        if item["id"] == taxonomy_id.strip().lower():
            return jsonify(item)
    raise errors.ApiError("not_found", _(str(NOT_FOUND), kind="taxonomy"), status=404)


def _terms(session: Session) -> list[dict[str, Any]]:
    terms = mapping.taxonomy_terms(export.categories(session))
    details = {item["id"]: item for item in mapping.taxonomies()}
    return [{**term, "taxonomy_detail": details[term["taxonomy_id"]]} for term in terms]


@hsds.get("/taxonomy_terms")
@http.policy(LIST)
def taxonomy_terms():
    args = read_query(TaxonomyTermListArgs())
    items = _terms(db.session)
    if search := (args.get("search") or "").strip():
        items = [t for t in items if _matches([t["name"], t["code"]], search)]
    if taxonomy_id := (args.get("taxonomy_id") or "").strip():
        items = [t for t in items if t["taxonomy_id"] == taxonomy_id.lower()]
    if (args.get("parent_id") or "").strip():
        items = []  # our terms have no parents
    return jsonify(_paged_list(items, args))  # top_only: every term of ours is a top term


@hsds.get("/taxonomy_terms/<string:term_id>")
@http.policy(RECORD)
def taxonomy_term(term_id: str):
    for item in _terms(db.session):
        if item["id"] == term_id.strip().lower():
            return jsonify(item)
    raise errors.ApiError("not_found", _(str(NOT_FOUND), kind="taxonomy_term"), status=404)


# --- The whole directory --------------------------------------------------------------------------


@hsds.get("/export.json")
@http.policy(EXPORT)
def export_json():
    """The public directory as one HSDS 3.0 document, streamed as it is read."""
    session = db.session()
    begin_snapshot(session)
    chunks = (chunk.encode("utf-8") for chunk in export.export_json(session))
    response = Response(stream_with_context(chunks), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    # Passed through as it is: not buffered for an ETag (directory/web/http.py) or compressed.
    response.direct_passthrough = True
    return response


# --- Errors: our one JSON shape on every answer of this blueprint --------------------------------


@hsds.errorhandler(errors.ApiError)
def _api_error(error: errors.ApiError):
    return errors.error_response(error.code, error.message, error.status, error.details)


@hsds.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    response, status = errors.error_response(code, errors.http_message(error), status)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response, status


def _routing_errors_as_json():
    """A path or method under /hsds/v3 that no route takes (404, 405) is answered in our
    error shape too: such errors are raised before any view of the blueprint is chosen,
    so its error handlers do not see them."""
    error = request.routing_exception
    if error is None or isinstance(error, RequestRedirect):
        return None
    if request.path != BASE_PATH and not request.path.startswith(BASE_PATH + "/"):
        return None
    if isinstance(error, HTTPException):
        return _http_error(error)
    return None


@hsds.errorhandler(OperationalError)
def _unavailable(error: OperationalError):
    db.session.rollback()
    response, status = errors.error_response("unavailable", str(errors.TRY_AGAIN), 503)
    response.headers["Retry-After"] = str(errors.RETRY_AFTER_S)
    return response, status


@hsds.errorhandler(Exception)
def _bug(error: Exception):
    db.session.rollback()
    errors.log_bug(current_app.logger, error, f"{request.method} {request.path}")
    return errors.error_response("internal_error", str(errors.SOMETHING_WENT_WRONG), 500)


def install(app: Flask) -> None:
    """Serve the HSDS API at ``/hsds/v3`` with the public API's rate limit (call it after
    ``limits.install``). It only reads: no CSRF token is asked (GET only)."""
    app.register_blueprint(hsds, url_prefix=BASE_PATH)
    app.before_request(_routing_errors_as_json)
    limiter = app.extensions.get("directory.limiter")
    if limiter is not None:
        limiter.limit(
            lambda: app.config["RATE_LIMIT_API"], scope="api", error_message=_limit_message
        )(hsds)


def _limit_message() -> str:
    return str(errors.TOO_MANY_REQUESTS)
