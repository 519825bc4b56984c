"""Hostile input: whatever a client sends, the answer is a 2xx or a 4xx in the error shape.

Hypothesis sends every parser (coordinates, boxes, cursors, GeoJSON bodies, text filters,
route keys) text it was not written for; the named cases are the ones probing found.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

ENDPOINTS = {
    "/api/v1/locations/nearest": ["lat", "lon", "limit", "radius_km", "category", "kind"],
    "/api/v1/locations": ["bbox", "category", "population", "language", "open_now", "free"],
    "/api/v1/towns": ["q", "limit", "country"],
    "/api/v1/consulates/serving": ["lat", "lon", "nationality"],
    "/api/v1/routes/fuzz-route/corridor": ["buffer_km", "from", "limit", "cursor", "network"],
    "/api/v1/districts": ["nationality"],
    "/near": ["q", "lat", "lon", "limit", "category", "open_now"],
    "/consulates/serving": ["q", "lat", "lon", "nationality"],
    "/routes/fuzz-route": ["q", "lat", "lon", "buffer_km", "cursor"],
}
NASTY = [
    "", " ", "\x00", "a\x00b", "nan", "NaN", "inf", "-inf", "1e999", "-1e999", "9" * 400,
    "0x10", "1_000", "٣", "１２", "-0", "180", "-180", "90", "-90", "180.0000001",
    "-180,-90,180,90", "0,0,0,0", "1,2,3", "90,180", "-90,-180", "WyJOYU4iLDFd", "W10",
    "' OR 1=1 --", "O'Higgins", '"', "<script>", "%", "%00", "\\", "true", "false", "{}",
]  # fmt: skip
LONG_INTEGER = '{"type":"LineString","coordinates":[[1,2],[' + "1" * 5000 + ",3]]}"
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.floats().map(repr))


@pytest.fixture
def directory(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.9))
    factories.route(db_session, "fuzz-route", [(-92.26, 14.9), (-92.0, 15.5)])
    office = factories.consular_office(db_session, "GT", -92.26, 14.9)
    factories.district(db_session, office, (-95.0, 14.0, -90.0, 18.0))
    factories.location(db_session, factories.organization(db_session), -92.25, 14.91)


def _check(response, path: str) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400 and path.startswith("/api/"):
        error = response.json["error"]
        assert set(error) == {"code", "message", "details"}
        assert isinstance(error["message"], str)
        assert error["message"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(sorted(ENDPOINTS)),
    data=st.data(),
)
def test_any_query_string_is_answered_without_a_server_error(client, directory, path, data):
    names = data.draw(
        st.lists(
            st.sampled_from(ENDPOINTS[path]) | st.text(string.ascii_letters + "_\x00", max_size=8),
            max_size=4,
        )
    )
    query = [(name, data.draw(values)) for name in names]
    _check(client.get(path, query_string=query), path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.one_of(st.sampled_from(["fuzz-route", "0", "9" * 40, "-1", "a\x00b"]), st.text()))
def test_any_route_key_is_a_route_or_a_404(client, directory, key):
    from urllib.parse import quote

    for path in (
        f"/api/v1/routes/{quote(key, safe='')}/corridor",
        f"/routes/{quote(key, safe='')}",
    ):
        _check(client.get(path), path)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
positions = st.lists(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.sampled_from([180, -180, 90, -90, 0]),
    ),
    min_size=0,
    max_size=4,
)
lines = st.builds(
    lambda coordinates, kind: {"type": kind, "coordinates": coordinates},
    st.lists(positions, max_size=6),
    st.sampled_from(["LineString", "Polygon", "Point", "Feature"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(lines, json_values))
def test_any_json_body_for_a_line_is_answered_without_a_server_error(client, directory, body):
    text = json.dumps(body, allow_nan=True)
    response = client.post("/api/v1/corridor", data=text, content_type="application/json")
    _check(response, "/api/v1/corridor")


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("GET", "/api/v1/towns?q=ab%00c", None, 400),
        ("GET", "/near?q=ab%00c", None, 400),
        ("GET", "/api/v1/locations/nearest?lat=1&lon=1&category=a%00b", None, 400),
        ("GET", "/routes/pac%00ific", None, 400),
        ("GET", "/api/v1/routes/pac%00ific/corridor", None, 400),
        ("GET", "/api/v1/locations?bbox=-180,-90,180,90", None, 200),
        ("GET", "/api/v1/locations/nearest?lat=1&lon=1&limit=" + "9" * 500, None, 400),
        ("GET", "/api/v1/routes/fuzz-route/corridor?cursor=WyJOYU4iLDFd", None, 400),
        ("POST", "/api/v1/corridor", '{"type":"LineString","coordinates":[[0,0],[180,0]]}', 400),
        ("POST", "/api/v1/corridor", '{"type":"LineString","coordinates":[[0,-90],[0,90]]}', 400),
        ("POST", "/api/v1/corridor", '{"type":"LineString","coordinates":[[1e400,0],[1,1]]}', 400),
        ("POST", "/api/v1/corridor", "[" * 100_000 + "]" * 100_000, 400),
        ("POST", "/api/v1/corridor", LONG_INTEGER, 400),
    ],
)  # fmt: skip
def test_what_probing_found_is_a_4xx_now(client, directory, method, url, body, status):
    response = client.open(url, method=method, data=body, content_type="application/json")
    assert response.status_code == status
    if status == 400:
        assert response.json["error"]["code"] == "invalid_parameter"


def test_a_zigzag_line_within_every_count_limit_is_refused_by_its_length(client, directory):
    # 10,000 positions zigzagging 1° apart: within the position limit, about 1.1 million km.
    zigzag = [[-92.0 + (index % 2), 15.0] for index in range(10_000)]
    body = json.dumps({"type": "LineString", "coordinates": zigzag})
    response = client.post("/api/v1/corridor", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "km long" in response.json["error"]["message"]
    # The positive control: a line of sensible length is searched.
    short = json.dumps({"type": "LineString", "coordinates": zigzag[:50]})
    response = client.post("/api/v1/corridor", data=short, content_type="application/json")
    assert response.status_code == 200
