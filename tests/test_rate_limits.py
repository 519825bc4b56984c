"""Rate limits: past its budget a client gets 429 with Retry-After and the error shape;
another client, and the probes, are not affected; the counters never hold an address."""

from __future__ import annotations

from directory.web.limits import client_key
from tests.conftest import make_test_app


def _app(test_database):
    return make_test_app(
        test_database,
        RATELIMIT_ENABLED=True,
        RATE_LIMIT_API="3 per minute",
        RATE_LIMIT_PAGES="2 per minute",
    )


def test_past_the_api_budget_a_client_gets_429_with_retry_after(test_database):
    client = _app(test_database).test_client()
    one = {"REMOTE_ADDR": "192.0.2.10"}
    statuses = [client.get("/api/v1/routes", environ_base=one).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/routes", environ_base=one)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]["code"] == "too_many_requests"
    # Another client has a budget of its own; the probes are never limited.
    other = {"REMOTE_ADDR": "192.0.2.11"}
    assert client.get("/api/v1/routes", environ_base=other).status_code == 200
    assert all(client.get("/healthz", environ_base=one).status_code == 200 for _ in range(5))


def test_pages_have_their_own_budget(test_database):
    client = _app(test_database).test_client()
    one = {"REMOTE_ADDR": "192.0.2.20"}
    assert [client.get("/routes", environ_base=one).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get("/api/v1/routes", environ_base=one).status_code == 200


def test_a_client_is_known_by_a_salted_hash_of_its_address(test_database):
    app = _app(test_database)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.30"}):
        key = client_key()
    assert "192.0.2.30" not in key
    assert len(key) == 32
    other = make_test_app(test_database, SECRET_KEY="another salt")
    with other.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.30"}):
        assert client_key() != key  # without the salt the hash cannot be looked up
