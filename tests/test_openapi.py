"""The OpenAPI document and the reference page: valid, complete, and true to the answers.

``tests/test_api_schema.py`` runs schemathesis over the document; here, the document itself:
a valid OpenAPI 3.1 document, one operation for every route under /api/v1 (a route added
without one fails ``test_every_api_route_has_an_operation``), the parameters named as the
views read them, the one error shape on every error, the right content types, and real
answers of the demo database that validate against their schemas. And the reference page:
every operation on it, no script, no style attribute.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from directory.api import openapi, reference
from directory.places import map_area
from directory.web import http
from tests.conftest import make_test_app

ERROR_STATUSES = ("400", "404", "413", "429", "503")


@pytest.fixture(scope="module")
def spec(demo_app: Flask) -> dict[str, Any]:
    response = demo_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def client(demo_app: Flask):  # the demo database as it is: these tests only read
    return demo_app.test_client()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def validator(spec: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema validator for component ``name`` (its $refs resolve in ``spec``)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return Draft202012Validator(schema)


# --- The document --------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate_openapi(spec)  # raises on anything invalid; picks the 3.1 rules from "openapi"


def test_it_is_served_as_public_data_with_a_validator(client, demo_app):
    response = client.get("/api/v1/openapi.json")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.get_json() == openapi.build_spec(demo_app)
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_every_api_route_has_an_operation(spec, demo_app):
    assert openapi.undocumented_endpoints(demo_app) == []
    routes = {
        (method.lower(), openapi.openapi_path(rule.rule))
        for rule in demo_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(method, path) for method, path, _ in operations(spec)}
    assert routes == documented


def test_a_new_route_without_an_operation_is_caught(test_database):
    app = make_test_app(test_database)
    app.add_url_rule(
        "/api/v1/new-thing", endpoint="api.new_thing", view_func=lambda: "{}", methods=["GET"]
    )
    assert openapi.undocumented_endpoints(app) == ["api.new_thing"]
    assert "/api/v1/new-thing" not in openapi.build_spec(app)["paths"]


def test_the_error_shape_is_one_shared_component(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["additionalProperties"] is False
    body = spec["components"]["schemas"]["ErrorBody"]
    assert sorted(body["required"]) == ["code", "details", "message"]
    assert body["properties"]["details"]["type"] == "object"
    for method, path, operation in operations(spec):
        for status, answer in operation["responses"].items():
            if status in ERROR_STATUSES:
                content = openapi.resolve(spec, answer)["content"]
                assert content == {"application/json": {"schema": openapi._ref("Error")}}, (
                    method,
                    path,
                    status,
                )


def test_errors_are_documented_where_they_happen(spec):
    for method, path, operation in operations(spec):
        answers = operation["responses"]
        assert {"200", "400", "429"} <= set(answers), (method, path)
        assert ("404" in answers) == ("{" in path or path.endswith("/consulates/serving")), path
        assert ("413" in answers) == (method == "post"), path
        assert ("503" in answers) == (not path.endswith(("/openapi.json", "/docs"))), path
    retry = spec["components"]["responses"]["TooManyRequests"]["headers"]
    assert "Retry-After" in retry


def test_public_data_answers_304_and_searches_do_not(spec, demo_app):
    for rule in openapi.api_rules(demo_app):
        policy = http.declared_policy_of(demo_app, rule.endpoint)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][openapi.openapi_path(rule.rule)][method.lower()]
            public = policy.header.startswith("public")
            assert ("304" in operation["responses"]) == public, rule.rule
            names = [parameter["name"] for parameter in operation["parameters"]]
            assert ("If-None-Match" in names) == public, rule.rule


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/api/v1/locations/nearest", "application/geo+json"),
        ("/api/v1/locations", "application/geo+json"),
        ("/api/v1/consulates/serving", "application/geo+json"),
        ("/api/v1/consulates/{location_id}/partners", "application/geo+json"),
        ("/api/v1/routes/{key}/corridor", "application/geo+json"),
        ("/api/v1/corridor", "application/geo+json"),
        ("/api/v1/routes", "application/geo+json"),
        ("/api/v1/countries/outlines", "application/geo+json"),
        ("/api/v1/districts", "application/geo+json"),
        ("/api/v1/towns", "application/json"),
        ("/api/v1/places", "application/json"),
        ("/api/v1/openapi.json", "application/json"),
        ("/api/v1/docs", "text/html"),
    ],
)
def test_content_types(spec, path, media_type):
    (operation,) = spec["paths"][path].values()
    assert list(operation["responses"]["200"]["content"]) == [media_type]


def parameters(spec: dict[str, Any], method: str, path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in spec["paths"][path][method]["parameters"]}


def test_parameters_carry_their_names_on_the_wire_and_their_limits(spec):
    nearest = parameters(spec, "get", "/api/v1/locations/nearest")
    assert "position" not in nearest
    assert nearest["lat"]["required"]
    assert nearest["lon"]["required"]
    assert nearest["lat"]["schema"] == {"type": "number", "minimum": -90.0, "maximum": 90.0}
    assert nearest["lon"]["schema"]["minimum"] == -180.0
    assert nearest["limit"]["schema"] == {
        "type": "integer",
        "default": 10,
        "minimum": 1,
        "maximum": 100,
    }
    assert nearest["radius_km"]["schema"]["exclusiveMinimum"] == 0
    assert nearest["category"]["schema"]["type"] == "array"
    assert nearest["category"]["explode"] is True
    assert nearest["kind"]["schema"]["items"]["enum"][0] == "consulate"

    corridor = parameters(spec, "get", "/api/v1/routes/{key}/corridor")
    assert "start" not in corridor
    assert corridor["from"]["schema"]["type"] == "string"
    assert corridor["buffer_km"]["schema"] == {
        "type": "number",
        "default": 10.0,
        "exclusiveMinimum": 0,
        "maximum": 100.0,
    }
    assert corridor["key"] == {**corridor["key"], "in": "path", "required": True}
    assert corridor["cursor"]["schema"] == {"type": "string", "maxLength": 200}
    assert not corridor["cursor"]["required"]

    partners = parameters(spec, "get", "/api/v1/consulates/{location_id}/partners")
    assert partners["location_id"]["schema"] == {"type": "integer"}
    assert partners["nationality"]["schema"]["pattern"] == "^[A-Za-z]{2}$"

    serving = parameters(spec, "get", "/api/v1/consulates/serving")
    assert {name for name, p in serving.items() if p["required"]} == {"lat", "lon", "nationality"}
    towns = parameters(spec, "get", "/api/v1/towns")
    assert towns["q"]["required"]
    assert towns["q"]["schema"]["maxLength"] == 100


def test_every_parameter_is_described(spec):
    for method, path, operation in operations(spec):
        for parameter in operation["parameters"]:
            assert parameter.get("description"), (method, path, parameter["name"])
            assert "null" not in str(parameter["schema"].get("type")), parameter


def test_the_corridor_body_is_a_bounded_geojson_line(spec):
    body = spec["paths"]["/api/v1/corridor"]["post"]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {"application/geo+json", "application/json"}
    line = spec["components"]["schemas"]["LineString"]
    assert line["properties"]["coordinates"]["minItems"] == 2
    check = validator(spec, "LineBody")
    example = body["content"]["application/json"]["example"]
    assert check.is_valid(example)
    assert check.is_valid({"type": "Feature", "properties": {}, "geometry": example})
    assert not check.is_valid({"type": "Point", "coordinates": [-92.26, 14.9]})
    assert not check.is_valid({"type": "LineString", "coordinates": [[-92.26, 95.0], [0, 0]]})


# --- The answers of the demo database against their schemas ----------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/locations/nearest?lat=14.9&lon=-92.26&limit=50", "NearbyCollection"),
        ("/api/v1/locations?bbox=-93,14,-91,16", "AreaCollection"),
        ("/api/v1/consulates/serving?lat=14.9&lon=-92.26&nationality=gt", "ServingFeature"),
        ("/api/v1/consulates/serving?lat=48.85&lon=2.35&nationality=GT", "ServingFeature"),
        ("/api/v1/routes/darien/corridor?limit=3", "RouteCorridorCollection"),
        ("/api/v1/routes/darien/corridor?from=14.9,-92.26&buffer_km=50", "RouteCorridorCollection"),
        ("/api/v1/routes", "RouteCollection"),
        ("/api/v1/countries/outlines", "OutlineCollection"),
        ("/api/v1/districts?nationality=MX", "DistrictCollection"),
        ("/api/v1/towns?q=tapa", "TownList"),
        ("/api/v1/places?q=tapa", "PlaceList"),
        ("/api/v1/routes/nope/corridor", "Error"),
        ("/api/v1/locations/nearest?lat=95&lon=0", "Error"),
    ],
)
def test_real_answers_match_their_schemas(client, spec, url, name):
    response = client.get(url)
    errors = sorted(validator(spec, name).iter_errors(response.get_json()), key=str)
    assert errors == [], errors[0].message if errors else ""


def test_partner_pages_and_the_drawn_line_match_their_schemas(client, spec):
    office = client.get("/api/v1/consulates/serving?lat=14.9&lon=-92.26&nationality=GT")
    office_id = office.get_json()["id"]
    first = client.get(f"/api/v1/consulates/{office_id}/partners?limit=2").get_json()
    assert "next_cursor" in first  # a page with more after it
    last = client.get(f"/api/v1/consulates/{office_id}/partners?limit=500").get_json()
    assert "next_cursor" not in last
    for body in (first, last):
        assert validator(spec, "PartnersCollection").is_valid(body)
    line = {"type": "LineString", "coordinates": [[-92.26, 14.9], [-99.13, 19.43]]}
    drawn = client.post("/api/v1/corridor?limit=2", json=line).get_json()
    assert drawn["next_cursor"] is not None
    assert validator(spec, "LineCorridorCollection").is_valid(drawn)


def test_clusters_match_their_schema(client, spec, monkeypatch):
    monkeypatch.setattr(map_area, "MAX_POINTS", 5)  # the demo data has fewer than 1,500
    body = client.get("/api/v1/locations?bbox=-120,0,-60,40").get_json()
    assert any(feature["properties"].get("cluster") for feature in body["features"])
    errors = list(validator(spec, "AreaCollection").iter_errors(body))
    assert errors == []


# --- The reference page ----------------------------------------------------------------


def test_the_reference_page_shows_every_operation(client, spec):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    page = response.get_data(as_text=True)
    for method, path, operation in operations(spec):
        section = page.split(f'id="op-{operation["operationId"]}"', 1)
        assert len(section) == 2, (method, path)
        body = section[1].split('<section class="api-', 1)[0].replace("<wbr>", "")
        assert path in body
        assert method.upper() in body
        assert "curl " in body
        for parameter in operation["parameters"]:
            assert f"<code>{parameter['name']}</code>" in body, (path, parameter["name"])
        for status in operation["responses"]:
            assert f">{status}</strong>" in body, (path, status)
    assert 'id="errors"' in page
    assert 'id="schema-Error"' in page
    for code in openapi.ERROR_CODES:
        assert f"<code>{code}</code>" in page


def test_the_reference_page_runs_no_script_and_has_no_inline_style(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "<script" not in page
    assert not re.search(r"\sstyle=", page)
    assert "<style" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from elsewhere
    assert re.search(r"/static/css/api(\.[0-9a-f]{12})?\.css", page)  # hashed when built


def test_curl_examples_run_on_this_server(client, spec):
    """Each example of the page, run through the test client, answers 200."""
    for method, path, operation in operations(spec):
        declared = openapi.OPERATIONS[f"api.{operation['operationId']}"]
        command = reference.curl_example("http://localhost/", method, path, declared)
        url = re.search(r"'(http://localhost[^']*)'$", command).group(1)
        if method == "get":
            response = client.get(url.removeprefix("http://localhost"))
        else:
            body = re.search(r"--data '([^']*)'", command).group(1)
            response = client.post(url.removeprefix("http://localhost"), data=body)
        assert response.status_code == 200, (command, response.get_data(as_text=True)[:200])
