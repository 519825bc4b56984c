"""The HSDS 3.0 API at /hsds/v3, against Open Referral's published openapi.json.

schemathesis runs every operation of the published document (not one of ours) against our
endpoints through WSGI, on the demo database. The document names its schemas by their
published addresses (raw.githubusercontent.com…); no network is used: the test loads the
document and puts the schema files from directory/hsds/spec/schema (the published files,
kept in the repository) in place of those $refs (the file itself is never changed).

Checks: no server error, every answer's body and content type as the document declares.
``status_code_conformance`` is left out on purpose: the document declares only 200 for
every operation, while an unknown id must be a 404 and a bad parameter a 400 (our error
shape, checked here on every 4xx). Random ids never name a record, so plain tests below
call every endpoint with real ids and validate the answers against the same document.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from functools import cache
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.db import CONSULAR_KINDS
from directory.hsds import ids, mapping, spec
from directory.hsds.api import BASE_PATH, IdIndex
from directory.places.models import Location, ServiceCategory
from tests.test_hsds_export import (
    PUBLISHED,
    public_place,
    published_openapi,
    response_schema,
    validator,
)

MAX_EXAMPLES = 25
PLAIN = {"Accept-Encoding": "identity"}


def _load(relative: str) -> Any:
    return copy.deepcopy(spec.read_json(f"schema/{relative}"))


def inline_published_refs(value: Any, base: str = "", depth: int = 0) -> Any:
    """``value`` with each $ref to a published schema file replaced by that file (from
    disk), its own relative $refs resolved against its address in turn."""
    if depth > 20:
        raise ValueError("$refs nested too deep (a cycle?)")
    if isinstance(value, list):
        return [inline_published_refs(item, base, depth) for item in value]
    if not isinstance(value, dict):
        return value
    ref = value.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        address = ref if ref.startswith("https://") else base.rsplit("/", 1)[0] + "/" + ref
        assert address.startswith(PUBLISHED), address
        relative = address.removeprefix(PUBLISHED)
        return inline_published_refs(_load(relative), address, depth + 1)
    return {key: inline_published_refs(item, base, depth) for key, item in value.items()}


@cache
def published_document() -> dict[str, Any]:
    document = inline_published_refs(copy.deepcopy(published_openapi()))
    assert "raw.githubusercontent.com" not in str(document)  # nothing left to fetch
    return document


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answer is our one error shape (as in tests/test_api_schema.py)."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert set(body) == {"error"}, f"a {response.status_code} whose body is {body!r}"
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, f"error shape: {error!r}"
    assert error["code"], error
    assert error["message"], error
    assert isinstance(error["details"], dict), error
    return True


CHECKS = [
    not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]

schema = schemathesis.openapi.from_dict(published_document())
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
schema.config.update(base_url=f"http://localhost{BASE_PATH}")  # where we serve it


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_published_document_holds_for_our_endpoints(case, demo_app: Flask):
    case.call_and_validate(checks=CHECKS, app=demo_app, headers=PLAIN)


# --- Real records, validated against the same document ------------------------------------


@pytest.fixture
def client(demo_app: Flask, demo_session: Session):
    return demo_app.test_client()


def get_valid(client: Any, url: str, path: str) -> Any:
    """GET ``url``; a 200 whose body the published document's ``path`` accepts."""
    response = client.get(BASE_PATH + url)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    body = response.get_json()
    errors = sorted(validator(response_schema(path)).iter_errors(body), key=str)
    assert errors == [], (url, errors[0].message if errors else "")
    return body


def test_the_root_says_what_it_is(client):
    body = get_valid(client, "/", "/")
    assert body["version"] == "3.0"
    assert body["openapi_url"].endswith("/schema/openapi.json")


@pytest.mark.parametrize(
    "query",
    ["", "?full=true", "?minimal=true", "?per_page=3&page=2", "?search=albergue"],
)
def test_services_pages(client, query):
    body = get_valid(client, f"/services{query}", "/services")
    assert body["contents"]
    if "per_page=3" in query:
        assert body["size"] == 3
        assert body["page_number"] == 2
        assert not body["first_page"]
        assert body["total_pages"] == -(-body["total_items"] // 3)


def test_every_page_of_services_once(client):
    first = get_valid(client, "/services?per_page=100", "/services")
    seen = [item["id"] for item in first["contents"]]
    for page in range(2, first["total_pages"] + 1):
        body = get_valid(client, f"/services?per_page=100&page={page}", "/services")
        seen += [item["id"] for item in body["contents"]]
        assert body["last_page"] == (page == first["total_pages"])
    assert len(seen) == len(set(seen)) == first["total_items"]
    past = get_valid(client, f"/services?per_page=100&page={first['total_pages'] + 1}", "/services")
    assert past["empty"]
    assert past["contents"] == []
    assert past["last_page"]


def test_each_record_by_its_id(client, demo_session):
    services = get_valid(client, "/services?per_page=5", "/services")["contents"]
    for item in services:
        service = get_valid(client, f"/services/{item['id']}", "/services/{id}")
        assert service["name"] == item["name"]
        assert service["organization"]["id"] == item["organization_id"]
        (link,) = service["service_at_locations"]
        assert link["location"]["id"] == link["location_id"]
        full = get_valid(
            client, f"/service_at_locations/{link['id']}", "/service_at_locations/{id}"
        )
        assert full["service"]["id"] == item["id"]
        assert validator("compiled/service_at_location.json").is_valid(full)
        organization = get_valid(
            client, f"/organizations/{item['organization_id']}", "/organizations/{id}"
        )
        assert item["id"] in [s["id"] for s in organization["services"]]
    terms = get_valid(client, "/taxonomy_terms?per_page=100", "/taxonomy_terms")["contents"]
    assert len(terms) == demo_session.query(ServiceCategory).count() + 6 + 3
    for term in terms:
        assert get_valid(client, f"/taxonomy_terms/{term['id']}", "/taxonomy_terms/{id}") == term
    for taxonomy in get_valid(client, "/taxonomies", "/taxonomies")["contents"]:
        assert get_valid(client, f"/taxonomies/{taxonomy['id']}", "/taxonomies/{id}") == taxonomy


def test_a_service_carries_what_a_referral_needs(client, demo_session):
    consular = public_place(demo_session, *CONSULAR_KINDS)
    consular.protection_phone = "+52 962 333 3333"
    consular.admission_rules = {"es": "Personas de su nacionalidad."}
    consular.admission_rules_language = "es"
    demo_session.flush()
    service_id = ids.service_id(consular.id)
    service = get_valid(client, f"/services/{service_id}", "/services/{id}")
    assert service["phones"][-1]["number"] == "+52 962 333 3333"
    assert service["phones"][-1]["description"] == mapping.PROTECTION_LINE
    assert service["eligibility_description"] == "Personas de su nacionalidad."
    listed = get_valid(
        client, f"/services?organization_id={service['organization_id']}", "/services"
    )
    (item,) = [item for item in listed["contents"] if item["id"] == service_id]
    assert item["eligibility_description"] == "Personas de su nacionalidad."


def test_lists_with_every_option(client):
    for url, path in [
        ("/organizations?full=true&per_page=5", "/organizations"),
        ("/organizations?full_service=true&per_page=5", "/organizations"),
        ("/organizations?search=casa", "/organizations"),
        ("/service_at_locations?per_page=5", "/service_at_locations"),
        ("/service_at_locations?full=true&per_page=5", "/service_at_locations"),
        ("/taxonomy_terms?top_only=true", "/taxonomy_terms"),
        ("/taxonomies?search=categories", "/taxonomies"),
    ]:
        assert get_valid(client, url, path)["contents"], url


def test_filters(client, demo_session):
    shelter = demo_session.scalars(
        select(ServiceCategory).where(ServiceCategory.code == "shelter")
    ).one()
    term = ids.taxonomy_term_id(ids.TAXONOMY_CATEGORIES, "shelter")
    body = get_valid(client, f"/services?taxonomy_term_id={term}&per_page=500", "/services")
    expected = demo_session.scalars(
        select(Location.id).where(
            Location.archived_at.is_(None), Location.categories.any(id=shelter.id)
        )
    ).all()
    assert {item["id"] for item in body["contents"]} == {ids.service_id(n) for n in expected}

    one = body["contents"][0]
    by_org = get_valid(client, f"/services?organization_id={one['organization_id']}", "/services")[
        "contents"
    ]
    assert one["id"] in {item["id"] for item in by_org}
    assert {item["organization_id"] for item in by_org} == {one["organization_id"]}

    later = get_valid(client, "/services?modified_after=2999-01-01T00:00:00Z", "/services")
    assert later["total_items"] == 0
    assert later["empty"]
    earlier = get_valid(client, "/services?modified_after=2000-01-01", "/services")
    assert earlier["total_items"] > body["total_items"]  # every service, not only shelters

    unknown = ids.taxonomy_term_id(ids.TAXONOMY_CATEGORIES, "no-such-category")
    nobody = get_valid(client, f"/services?taxonomy_term_id={unknown}", "/services")
    assert nobody["total_items"] == 0
    assert nobody["empty"]


def test_a_search_is_not_kept_by_shared_caches(client):
    assert client.get(f"{BASE_PATH}/services").headers["Cache-Control"] == "public, max-age=300"
    searched = client.get(f"{BASE_PATH}/services?search=albergue")
    assert searched.headers["Cache-Control"] == "private, no-store"


def test_cross_origin_reads_are_allowed(client):
    response = client.get(f"{BASE_PATH}/services", headers={"Origin": "https://partner.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- Errors ----------------------------------------------------------------------------------


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/services/{id}",
        "/service_at_locations/{id}",
        "/organizations/{id}",
        "/taxonomies/{id}",
        "/taxonomy_terms/{id}",
    ],
)
@pytest.mark.parametrize("record_id", ["not-a-uuid", "6f1d7c1e-3b7a-5c55-9b7e-2d5c0f4a9e13", "%20"])
def test_an_unknown_id_is_404(client, path, record_id):
    error = error_of(client.get(BASE_PATH + path.replace("{id}", record_id)), 404)
    assert error["code"] == "not_found"


def test_an_id_of_another_kind_is_404(client, demo_session):
    location_id = demo_session.scalars(select(Location.id).order_by(Location.id).limit(1)).one()
    service = ids.service_id(location_id)
    assert client.get(f"{BASE_PATH}/services/{service}").status_code == 200
    for path in ("/service_at_locations/", "/organizations/"):
        assert error_of(client.get(BASE_PATH + path + service), 404)["code"] == "not_found"


def test_an_archived_record_is_404(client, demo_session):
    location = demo_session.scalars(select(Location).order_by(Location.id).limit(1)).one()
    location.archived_at = dt.datetime.now(dt.UTC)
    demo_session.flush()
    response = client.get(f"{BASE_PATH}/services/{ids.service_id(location.id)}")
    assert error_of(response, 404)["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/services?page=0", "page"),
        ("/services?page=abc", "page"),
        ("/services?per_page=501", "per_page"),
        ("/services?per_page=-1", "per_page"),
        ("/services?full=maybe", "full"),
        ("/services?modified_after=yesterday", "modified_after"),
        ("/services?format=ndjson", "format"),
        ("/services?search=" + "x" * 201, "search"),
        ("/service_at_locations?postcode=30700", "postcode"),
        ("/service_at_locations?proximity=1000", "proximity"),
        ("/organizations?page=99999999999999999999", "page"),
        ("/taxonomy_terms?top_only=2", "top_only"),
        ("/organizations/x?full_service=nope", "full_service"),
    ],
)
def test_a_bad_parameter_is_400(client, url, parameter):
    error = error_of(client.get(BASE_PATH + url), 400)
    assert error["code"] == "invalid_parameter"
    assert parameter in error["details"]["parameters"], error


def test_the_id_index_is_the_inverse_of_the_ids(demo_session):
    index = IdIndex("service")
    location_id = demo_session.scalars(select(Location.id).order_by(Location.id.desc())).first()
    assert index.find(demo_session, ids.service_id(location_id)) == location_id
    assert index.find(demo_session, ids.location_id(location_id)) is None  # another kind
    assert index.find(demo_session, "nonsense") is None
    assert index.find(demo_session, "3a19ff88-4620-4d17-9830-ac1d859eb5d5") is None  # not ours
    huge = 2**55 + 12_345
    assert ids.record_key("service", ids.service_id(huge)) == huge
    assert uuid.UUID(ids.service_id(huge)).version == 8


def test_the_conformance_check_catches_a_broken_answer(demo_app):
    """The check schemathesis runs is not vacuous: a real answer passes, the same answer
    without a required field fails it."""
    operation = schema["/services"]["GET"]
    case = operation.Case(query={"per_page": 2})
    response = case.call(app=demo_app, headers=PLAIN)
    assert response.status_code == 200
    assert operation.validate_response(response, case=case) is None
    body = json.loads(response.content)
    body["contents"][0].pop("status")
    broken = type(response)(
        status_code=200,
        headers={key: [value] for key, value in [("Content-Type", "application/json")]},
        content=json.dumps(body).encode(),
        request=response.request,
        elapsed=response.elapsed,
        verify=True,
    )
    with pytest.raises(Exception, match="status"):
        operation.validate_response(broken, case=case)
