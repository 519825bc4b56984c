"""GET /api/v1/routes/{id}/corridor and POST /api/v1/corridor: answers and bad input."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from directory.places.models import ServiceCategory
from tests import factories

PATH = [(-92.26, 14.9), (-92.0, 15.5), (-91.5, 16.0)]
LINE = {"type": "LineString", "coordinates": [list(p) for p in PATH]}


@pytest.fixture
def route_with_places(db_session):
    factories.country(db_session, "MX", (-118.0, 14.0, -86.5, 32.8))
    db_session.add(ServiceCategory(code="food", names={"en": "Food"}, icon="utensils"))
    route = factories.route(db_session, "test-route", PATH)
    org = factories.organization(db_session, name="Albergue Belén")
    start = factories.location(db_session, org, -92.26, 14.91, city="Tapachula")
    middle = factories.location(db_session, org, -92.0, 15.52, city="Motozintla")
    end = factories.location(db_session, org, -91.52, 16.0, city="Comitán")
    factories.location(db_session, org, -95.0, 17.0, city="Far away")
    return route, [start, middle, end]


def _ids(body) -> list[int]:
    return [feature["id"] for feature in body["features"]]


def test_the_corridor_of_a_route_is_ordered_along_it(client, route_with_places):
    route, places = route_with_places
    response = client.get(f"/api/v1/routes/{route.id}/corridor")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert "no-store" not in response.headers["Cache-Control"]
    body = response.json
    assert body["type"] == "FeatureCollection"
    assert _ids(body) == [place.id for place in places]
    first, second, third = (feature["properties"] for feature in body["features"])
    assert first["along_km"] < second["along_km"] < third["along_km"]
    assert [first["rank"], second["rank"], third["rank"]] == [1, 2, 3]
    assert 0.2 < first["offset_km"] < 1.2
    assert first["name"] == "Albergue Belén"
    assert body["features"][0]["geometry"] == {"type": "Point", "coordinates": [-92.26, 14.91]}
    assert body["route"]["code"] == "test-route"
    assert body["route"]["id"] == route.id
    assert 140 < body["route"]["length_km"] < 160
    assert body["buffer_km"] == 10
    assert body["from"] is None
    assert body["next_cursor"] is None


def test_the_route_code_works_as_its_id(client, route_with_places):
    route, _places = route_with_places
    by_code = client.get("/api/v1/routes/test-route/corridor").json
    by_id = client.get(f"/api/v1/routes/{route.id}/corridor").json
    assert by_code == by_id


def test_from_keeps_what_lies_ahead_and_is_never_cached(client, route_with_places):
    _route, places = route_with_places
    response = client.get("/api/v1/routes/test-route/corridor?from=15.3,-92.1")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    body = response.json
    assert _ids(body) == [places[1].id, places[2].id]
    assert body["from"]["along_km"] > 40
    assert body["from"]["offset_km"] < 10
    # along_km counts from the starting point now.
    full = client.get("/api/v1/routes/test-route/corridor").json
    assert body["features"][0]["properties"]["along_km"] == pytest.approx(
        full["features"][1]["properties"]["along_km"] - body["from"]["along_km"], abs=0.02
    )


def test_buffer_and_filters_narrow(client, route_with_places, db_session):
    _route, places = route_with_places
    wide = client.get("/api/v1/routes/test-route/corridor?buffer_km=100").json
    assert len(wide["features"]) == 3
    narrow = client.get("/api/v1/routes/test-route/corridor?buffer_km=0.2").json
    assert _ids(narrow) == []
    places[2].categories.append(db_session.query(ServiceCategory).one())
    db_session.flush()
    food = client.get("/api/v1/routes/test-route/corridor?category=food").json
    assert _ids(food) == [places[2].id]


def test_pages_with_a_cursor(client, route_with_places):
    _route, places = route_with_places
    first = client.get("/api/v1/routes/test-route/corridor?limit=2").json
    assert _ids(first) == [places[0].id, places[1].id]
    assert first["next_cursor"]
    second = client.get(
        f"/api/v1/routes/test-route/corridor?limit=2&cursor={first['next_cursor']}"
    ).json
    assert _ids(second) == [places[2].id]
    assert second["features"][0]["properties"]["rank"] == 3
    assert second["next_cursor"] is None


def test_post_a_line_string(client, route_with_places):
    _route, places = route_with_places
    response = client.post("/api/v1/corridor?buffer_km=10", json=LINE)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = response.json
    assert _ids(body) == [place.id for place in places]
    assert set(body["route"]) == {"length_km"}
    by_route = client.get("/api/v1/routes/test-route/corridor").json
    assert body["route"]["length_km"] == by_route["route"]["length_km"]
    assert body["features"] == by_route["features"]


def test_post_a_feature_with_from(client, route_with_places):
    _route, places = route_with_places
    feature = {"type": "Feature", "properties": {}, "geometry": LINE}
    response = client.post("/api/v1/corridor?from=15.3,-92.1&limit=1", json=feature)
    assert response.status_code == 200
    assert _ids(response.json) == [places[1].id]
    assert response.json["next_cursor"]


def _assert_error(response, status: int, parameter: str | None, code: str = "invalid_parameter"):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details"}
    if parameter:
        assert error["message"].startswith(f"{parameter}: ")
        assert parameter in error["details"]["parameters"]


@pytest.mark.parametrize("key", ["nope", "999999", "0", "test-route-2"])
def test_an_unknown_route_is_a_404(client, route_with_places, key):
    _assert_error(client.get(f"/api/v1/routes/{key}/corridor"), 404, None, code="not_found")
    # Positive control: the known route, by code and by id, is found.
    route, _places = route_with_places
    assert client.get("/api/v1/routes/test-route/corridor").status_code == 200
    assert client.get(f"/api/v1/routes/{route.id}/corridor").status_code == 200


def test_an_archived_route_is_a_404(client, route_with_places, db_session):
    route, _places = route_with_places
    # Positive control: before it is archived, the route is found.
    assert client.get("/api/v1/routes/test-route/corridor").status_code == 200
    route.archived_at = route.created_at
    db_session.flush()
    _assert_error(client.get("/api/v1/routes/test-route/corridor"), 404, None, code="not_found")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("buffer_km=0", "buffer_km"),
        ("buffer_km=-5", "buffer_km"),
        ("buffer_km=100.5", "buffer_km"),
        ("buffer_km=abc", "buffer_km"),
        ("buffer_km=nan", "buffer_km"),
        ("buffer_km=inf", "buffer_km"),
        ("from=91,0", "from"),
        ("from=0,181", "from"),
        ("from=14.9", "from"),
        ("from=14.9,-92,3", "from"),
        ("from=abc,def", "from"),
        ("from=nan,0", "from"),
        ("from=0,inf", "from"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=garbage", "cursor"),
        ("category=unicorns", "category"),
        ("network=NOPE", "network"),
        ("kind=spaceport", "kind"),
        ("open_now=maybe", "open_now"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, route_with_places, query, parameter):
    _assert_error(client.get(f"/api/v1/routes/test-route/corridor?{query}"), 400, parameter)
    _assert_error(client.post(f"/api/v1/corridor?{query}", json=LINE), 400, parameter)


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ("", "body"),
        ("not json", "body"),
        ("[]", "body"),
        ('"LineString"', "body"),
        ('{"type": "Point", "coordinates": [0, 0]}', "body"),
        ('{"type": "Feature", "geometry": null}', "body"),
        ('{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}}', "body"),
        ('{"type": "LineString"}', "coordinates"),
        ('{"type": "LineString", "coordinates": "0,0"}', "coordinates"),
        ('{"type": "LineString", "coordinates": []}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [-92, 15]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [-92, 95]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [-192, 15]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], ["a", 15]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [true, 15]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [-91]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [-91, 15, 0, 0]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], null]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [NaN, 15]]}', "coordinates"),
        ('{"type": "LineString", "coordinates": [[-92, 15], [Infinity, 15]]}', "coordinates"),
    ],
)
def test_bad_bodies_are_a_400_naming_the_part(client, route_with_places, body, parameter):
    response = client.post("/api/v1/corridor", data=body, content_type="application/json")
    _assert_error(response, 400, parameter)


def test_too_many_positions_is_a_400(client, route_with_places):
    line = {"type": "LineString", "coordinates": [[-92 + i * 1e-4, 15.0] for i in range(10_001)]}
    response = client.post(
        "/api/v1/corridor", data=json.dumps(line), content_type="application/json"
    )
    _assert_error(response, 400, "coordinates")


def test_a_huge_body_is_refused_with_the_error_shape(client, route_with_places):
    response = client.post("/api/v1/corridor", data="[" + "0," * 600_000 + "0]")
    _assert_error(response, 413, None, code="request_entity_too_large")


def _post_chunked(app, body: io.BytesIO):
    """POST a body without Content-Length, as a server hands on a chunked one (input marked
    terminated, as gunicorn does). Run as a server would: the test client rebuilds a
    request from an environ and drops its stream."""
    environ = EnvironBuilder(
        path="/api/v1/corridor",
        method="POST",
        input_stream=body,
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    answer, status, headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), headers, b"".join(answer)


def test_a_huge_chunked_body_is_refused_with_the_error_shape(app, route_with_places):
    body = io.BytesIO(("[" + "0," * 600_000 + "0]").encode())
    status, headers, answer = _post_chunked(app, body)
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert json.loads(answer)["error"]["code"] == "request_entity_too_large"
    assert body.tell() <= 1_000_000  # reading stopped at the limit


def test_a_small_chunked_body_is_read_whole(app, route_with_places):
    line = {"type": "LineString", "coordinates": [[-92.3, 14.9], [-92.0, 15.5]]}
    status, _headers, answer = _post_chunked(app, io.BytesIO(json.dumps(line).encode()))
    assert status == 200, answer


def test_get_is_not_allowed_on_the_line_endpoint(client, route_with_places):
    _assert_error(client.get("/api/v1/corridor"), 405, None, code="method_not_allowed")


def test_the_routes_list_gives_ids_and_lengths(client, route_with_places):
    route, _places = route_with_places
    body = client.get("/api/v1/routes").json
    (feature,) = body["features"]
    assert feature["properties"]["id"] == route.id
    assert feature["properties"]["code"] == "test-route"
    assert 140 < feature["properties"]["length_km"] < 160
