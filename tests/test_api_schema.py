"""schemathesis over every operation of the OpenAPI document, against the demo database.

Every operation of the document (``directory.api.openapi.build_spec``, the one served at
/api/v1/openapi.json) is called through WSGI with inputs generated from it: valid ones (the
examples, the boundaries of each range and length, then random ones) and invalid ones
(wrong types, out of range, missing, unsupported methods). Every answer must be something
other than a 5xx, with a status code, a content type and a body the document declares for
that operation, and every 4xx must carry the one error shape.

The demo database (``demo_database``) is served as it is: the API reads and never writes,
and rate limits are off in tests (``make_test_app``). ``MAX_EXAMPLES`` random cases per
operation and generation mode, on top of schemathesis' examples and coverage phases, make
about 1,700 requests in some 15 s on two cores; runs are derandomized, so each run sends the
same requests (raise the number and drop ``derandomize`` to explore: 400 per operation found
nothing either, on 2026-11-27).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import make_url

from directory.api.openapi import build_spec
from tests.conftest import make_test_app

MAX_EXAMPLES = 25
PLAIN = {"Accept-Encoding": "identity"}
UNUSED_DATABASE = "postgresql://nobody@127.0.0.1:1/never_connected"


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answer is ``{"error": {"code", "message", "details"}}`` and nothing more."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert set(body) == {"error"}, f"a {response.status_code} whose body is {body!r}"
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, f"error shape: {error!r}"
    for key, kind in (("code", str), ("message", str), ("details", dict)):
        assert isinstance(error[key], kind), f"error shape: {error!r}"
    assert error["code"], error
    assert error["message"], error
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


# The document needs no database: it is built from the routes and schemas of an app that is
# never served (``demo_app``, the one on the demo database, answers the calls).
# schemathesis.pytest.from_fixture would load it from ``demo_app`` itself, but its lazy
# loader does not run under pytest 9 (it sets ``Node._nodeid``, which pytest 9.2 removed);
# tests/test_openapi.py checks that the document served is this one.
schema = schemathesis.openapi.from_dict(build_spec(make_test_app(make_url(UNUSED_DATABASE))))
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing kept between runs: every run starts from the same examples
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_promises(case, demo_app: Flask):
    # schemathesis' WSGI client reads bodies as sent: ask for them uncompressed.
    case.call_and_validate(checks=CHECKS, app=demo_app, headers=PLAIN)
