"""Reading query strings: one webargs parser, and the fields every schema builds on.

Semantics shared by every page and API endpoint:

* a blank value is a field left empty in a form: the same as not sending it;
* a list field takes every repeated value (``category=food&category=shelter``); any other
  field takes the last non-blank one;
* parameters no schema knows are ignored, on pages and in the API alike: shared links
  carry ``fbclid``, ``utm_*`` and the like, and a link must not break because of them;
* invalid input is one ``ApiError`` (400, ``invalid_parameter``) whose message names the
  first bad parameter and whose details list every problem by parameter, in the reader's
  language (``directory.web.messages`` translates marshmallow's and ``geo``'s messages).
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Request, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from directory.web.errors import ApiError, invalid_parameter, parameter_message
from directory.web.messages import geo_message, translate_fields
from geo.coordinates import CoordinateError, LonLat, coordinate


class QueryParser(FlaskParser):
    """webargs' Flask parser, with blanks dropped and our one error shape."""

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        kept: MultiDict[str, str] = MultiDict()
        for name in req.args:
            values = [value for value in req.args.getlist(name) if value.strip()]
            if not values:
                continue
            multiple = isinstance(schema.fields.get(name), fields.List)
            for value in values if multiple else values[-1:]:
                kept.add(name, value)
        return self._makeproxy(kept, schema)

    def handle_error(self, error: ValidationError, req, schema, **kwargs: Any):
        problems = _as_text(error.normalized_messages())
        # webargs files the messages under the location they came from ("query").
        if len(problems) == 1 and isinstance(next(iter(problems.values())), dict):
            problems = next(iter(problems.values()))
        first = sorted(problems)[0]
        raise ApiError(
            "invalid_parameter",
            parameter_message(first, _first_message(problems[first])),
            details={"parameters": problems},
        )


parser = QueryParser(unknown=ma.EXCLUDE)


def read_query(schema: ma.Schema) -> dict[str, Any]:
    """The current request's query string loaded with ``schema``, or an ``ApiError``."""
    return parser.parse(translate_fields(schema), request, location="query")


def refuse_nul_bytes() -> None:
    """Refuse a NUL byte anywhere in the path or the query string (a 400 naming where).

    No text of ours holds one, and PostgreSQL refuses it in a string: left alone it would
    reach a query and end as a 500. Registered as a ``before_request`` hook.
    """
    if "\x00" in request.path:
        raise invalid_parameter("path", NO_NUL)
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise invalid_parameter(name.replace("\x00", "") or "query", NO_NUL)


NO_NUL = _l("must not contain NUL characters")


def read_json_body() -> Any:
    """The request body as JSON, whatever its content type; anything that is not JSON
    (nested past the parser's depth included) is a 400 naming ``body``. The body's size is
    bounded by ``request.max_content_length`` (413 past it, chunked bodies included)."""
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        # A chunked body gives no length to refuse up front, and werkzeug's reader stops
        # quietly at the limit: what was read is cut short, so refuse it as too large.
        raise RequestEntityTooLarge()
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise invalid_parameter("body", _("is not a JSON document")) from None


def _as_text(messages: Any) -> Any:
    """Marshmallow's messages with any lazy string made text (JSON knows no lazy strings)."""
    if isinstance(messages, dict):
        return {key: _as_text(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [_as_text(value) for value in messages]
    return str(messages)


def _first_message(messages: Any) -> str:
    if isinstance(messages, dict):  # a list field: {index: [messages]}
        return _first_message(next(iter(messages.values())))
    if isinstance(messages, list):
        return str(messages[0])
    return str(messages)


class Coordinate(fields.Float):
    """A longitude (``axis="lon"``) or latitude (``"lat"``), checked by
    ``geo.coordinates.coordinate``, the one coordinate validator."""

    def __init__(self, axis: str, **kwargs: Any) -> None:
        super().__init__(allow_nan=False, **kwargs)
        self.axis = axis

    def _validated(self, value: Any) -> float:
        try:
            return coordinate(self.axis, value)
        except CoordinateError as error:
            raise ValidationError(geo_message(error.message)) from None


class LatLon(fields.Field):
    """``"lat,lon"``: a position written as people write it, latitude first."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> LonLat:
        parts = str(value).split(",")
        if len(parts) != 2:
            raise ValidationError(_("must be 'lat,lon', e.g. '14.9,-92.26'"))
        try:
            return LonLat.parse(parts[1].strip(), parts[0].strip())
        except CoordinateError as error:
            # Translators: "lat must be a number": %(axis)s is "lat" or "lon" (keep it as
            # it is), %(problem)s what is wrong with its value, translated already.
            raise ValidationError(
                _("%(axis)s %(problem)s", axis=error.name, problem=geo_message(error.message))
            ) from None


def repeatable(inner: fields.Field) -> fields.List:
    """A filter that may be repeated; absent is an empty list."""
    return fields.List(inner, load_default=list)
