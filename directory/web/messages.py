"""Error messages in the reader's language: those of marshmallow and of ``geo``.

Our own messages are written with ``gettext`` where they are raised. Two kinds come from
libraries that know nothing of languages, and are translated here, on their way out:

* marshmallow's default messages ("Not a valid number.") and its validators' ("Longer than
  maximum length {max}."): ``translate_fields`` gives the fields of a schema the translated
  messages before it loads anything; ``Range``, ``Length`` and ``OneOf`` are marshmallow's
  validators with translated messages;
* the messages of ``geo`` (a library without Flask): ``geo_message`` looks them up, the
  fixed ones by their text and those that carry a value by pattern.

Each English msgid is the library's English text, so an English answer reads as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from directory.i18n.formatting import decimal


def _by_msgid(*messages: Any) -> dict[str, Any]:
    """Lazy messages keyed by their msgid (their English text), whatever the locale."""
    return {message._args[0]: message for message in messages}


# marshmallow's default messages, keyed by their English text.
FIELD_MESSAGES = _by_msgid(
    _l("Missing data for required field."),
    _l("Field may not be null."),
    _l("Invalid value."),
    _l("Not a valid string."),
    _l("Not a valid utf-8 string."),
    _l("Not a valid number."),
    _l("Number too large."),
    _l("Not a valid integer."),
    _l("Special numeric values (nan or infinity) are not permitted."),
    _l("Not a valid boolean."),
    _l("Not a valid list."),
)


def _translated(message: Any) -> Any:
    if isinstance(message, str):
        lazy = FIELD_MESSAGES.get(message)
        return str(lazy) if lazy is not None else message
    if isinstance(message, (dict, list, tuple)):  # plain structures, kept as they are
        return message
    return str(message)  # a lazy string of ours


def translate_field(field: fields.Field) -> None:
    """Give ``field`` (and a list's items) its messages in the current language."""
    field.error_messages = {key: _translated(value) for key, value in field.error_messages.items()}
    if isinstance(field, fields.List):
        translate_field(field.inner)


def translate_fields(schema: Schema) -> Schema:
    """``schema`` with every field's messages in the current language (call it within the
    request: a schema instance holds its own copies of its fields)."""
    for field in schema.fields.values():
        translate_field(field)
    return schema


class Range(validate.Range):
    """``validate.Range`` with whole translated sentences."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low, high = self.min_inclusive, self.max_inclusive
        self.message_min = (
            _l("Must be greater than or equal to {min}.")
            if low
            else _l("Must be greater than {min}.")
        )
        self.message_max = (
            _l("Must be less than or equal to {max}.") if high else _l("Must be less than {max}.")
        )
        self.message_all = {
            (True, True): _l(
                "Must be greater than or equal to {min} and less than or equal to {max}."
            ),
            (True, False): _l("Must be greater than or equal to {min} and less than {max}."),
            (False, True): _l("Must be greater than {min} and less than or equal to {max}."),
            (False, False): _l("Must be greater than {min} and less than {max}."),
        }[(low, high)]


class Length(validate.Length):
    """``validate.Length`` with translated messages."""

    message_min = _l("Shorter than minimum length {min}.")
    message_max = _l("Longer than maximum length {max}.")
    message_all = _l("Length must be between {min} and {max}.")
    message_equal = _l("Length must be {equal}.")


class OneOf(validate.OneOf):
    """``validate.OneOf`` with a translated message."""

    default_message = _l("Must be one of: {choices}.")


# --- geo's messages ---------------------------------------------------------------------

GEO_MESSAGES = _by_msgid(
    _l("must be a number"),
    _l("must be finite (not NaN or infinity)"),
    _l("must be four numbers: minLon,minLat,maxLon,maxLat"),
    _l("must be finite numbers (not NaN or infinity)"),
    _l("minLat must be below maxLat (minLon,minLat,…)"),
    _l("minLon and maxLon leave no width (minLon,minLat,maxLon,maxLat)"),
    _l("the positions must not all be the same point"),
    _l("a polygon must be a non-empty list of rings"),
    _l("a ring must end where it starts"),
    _l("a MultiPolygon must be a non-empty list of polygons"),
    _l("the Feature has no geometry"),
    _l("a line must be a list of [lon, lat] positions"),
    _l("a ring must be a list of [lon, lat] positions"),
)


def _out_of_range(match: re.Match[str]) -> str:
    values = {"value": match["value"], "low": match["low"], "high": match["high"]}
    if match["axis"] == "latitude":
        return _(
            "latitude %(value)s is not between %(low)s and %(high)s (longitude first?)", **values
        )
    return _("longitude %(value)s is not between %(low)s and %(high)s (longitude first?)", **values)


def _number(text: str) -> str:
    """A number ``geo`` wrote the English way ("17,789"), the reader's way ("17.789")."""
    try:
        return decimal(float(text.replace(",", "")), 0)
    except ValueError:
        return text


def _line_too_long(match: re.Match[str]) -> str:
    return _(
        "the line is %(length)s km long; at most %(most)s km is searched",
        length=_number(match["length"]),
        most=_number(match["most"]),
    )


def _opposite(match: re.Match[str]) -> str:
    return _(
        "positions %(first)s and %(second)s are nearly opposite on the globe; "
        "add positions between them",
        first=match["first"],
        second=match["second"],
    )


def _too_many(match: re.Match[str]) -> str:
    return _("at most %(most)s positions are accepted", most=_number(match["most"]))


GEO_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(
            r"(?P<axis>longitude|latitude) (?P<value>\S+) is not between (?P<low>\S+) and "
            r"(?P<high>\S+) \(longitude first\?\)"
        ),
        _out_of_range,
    ),
    (
        re.compile(r"the line is (?P<length>\S+) km long; at most (?P<most>\S+) km is searched"),
        _line_too_long,
    ),
    (
        re.compile(
            r"positions (?P<first>\d+) and (?P<second>\d+) are nearly opposite on the globe; "
            r"add positions between them"
        ),
        _opposite,
    ),
    (re.compile(r"at most (?P<most>\d+) positions are accepted"), _too_many),
)


def _position(match: re.Match[str]) -> str:
    index = match["index"]
    if match["problem"] == " is not [lon, lat]":
        return _("position %(index)s is not [lon, lat]", index=index)
    if match["problem"] == " must hold numbers":
        return _("position %(index)s must hold numbers", index=index)
    axis, _space, problem = match["problem"].removeprefix(": ").partition(" ")
    # Translators: "position 3: lat must be a number". %(axis)s is "lat" or "lon" (keep it
    # as it is); %(problem)s is what is wrong, translated already.
    return _(
        "position %(index)s: %(axis)s %(problem)s",
        index=index,
        axis=axis,
        problem=geo_message(problem),
    )


def _too_few(match: re.Match[str]) -> str:
    if match["what"] == "a ring":
        return _("a ring needs at least %(least)s positions", least=match["least"])
    return _("a line needs at least %(least)s positions", least=match["least"])


def _not_geojson(match: re.Match[str]) -> str:
    # Translators: %(types)s names GeoJSON types (LineString, Polygon): keep them as they are.
    return _("must be a GeoJSON %(types)s or a Feature holding one", types=match["types"])


def _wrong_type(match: re.Match[str]) -> str:
    # Translators: %(wanted)s and %(kind)s are GeoJSON types (LineString, Point): keep them.
    return _(
        "the geometry must be a %(wanted)s, not %(kind)s",
        wanted=match["wanted"],
        kind=match["kind"],
    )


GEO_PATTERNS += (
    (
        re.compile(
            r"position (?P<index>\d+)(?P<problem> is not \[lon, lat\]| must hold numbers"
            r"|: (?:lon|lat) .+)"
        ),
        _position,
    ),
    (re.compile(r"(?P<what>a line|a ring) needs at least (?P<least>\d+) positions"), _too_few),
    (re.compile(r"must be a GeoJSON (?P<types>.+) or a Feature holding one"), _not_geojson),
    (re.compile(r"the geometry must be a (?P<wanted>.+), not (?P<kind>.*)"), _wrong_type),
)


def geo_message(message: str) -> str:
    """A message of ``geo`` (a ``CoordinateError``'s or ``GeometryError``'s) in the current
    language; one not known here stays as it is (English)."""
    if (known := GEO_MESSAGES.get(message)) is not None:
        return str(known)
    for pattern, translate in GEO_PATTERNS:
        if match := pattern.fullmatch(message):
            return translate(match)
    return message
