"""Reading query parameters through a marshmallow schema, with one kind of 400."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from directory.web.errors import ApiError


def parse_query(schema: Schema, args: MultiDict[str, str]) -> dict[str, Any]:
    """Load ``args`` with ``schema``; list fields take every repeated value, blanks are absent.

    Invalid input raises ``ApiError`` (400, code ``invalid_parameter``) whose message names
    the first bad parameter and whose details list every problem by parameter.
    """
    data: dict[str, Any] = {}
    for name in args:
        # An empty value is a field left blank in a form: the same as not sending it.
        values = [value for value in args.getlist(name) if value.strip()]
        if isinstance(schema.fields.get(name), fields.List):
            data[name] = values
        elif values:
            data[name] = values[-1]
    try:
        return schema.load(data)
    except ValidationError as error:
        problems = error.normalized_messages()
        first = sorted(problems)[0]
        raise ApiError(
            "invalid_parameter",
            f"{first}: {_first_message(problems[first])}",
            details={"parameters": problems},
        ) from None


def invalid_parameter(name: str, message: str) -> ApiError:
    return ApiError(
        "invalid_parameter", f"{name}: {message}", details={"parameters": {name: [message]}}
    )


def _first_message(messages: Any) -> str:
    if isinstance(messages, dict):  # a list field: {index: [messages]}
        return _first_message(next(iter(messages.values())))
    if isinstance(messages, list):
        return str(messages[0])
    return str(messages)
