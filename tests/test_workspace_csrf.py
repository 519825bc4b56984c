"""CSRF on every form of the workspace (issue 12): a POST without a token, with a made-up
one, or with another session's, is refused with 400 and a page in the reader's language,
and changes nothing.

The POST routes are read from the application's URL map at collection, so a new form is
covered without touching this file; its URL (and a body that would change something if the
token were not checked) comes from its row in tests/test_workspace_routes.py's ``ROUTES``,
or, for the routes open to everyone, from ``OPEN_POSTS`` below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from directory.accounts import tokens
from directory.accounts.models import UserRole
from directory.db import Base
from tests import test_workspace_routes as table
from tests.conftest import make_test_app
from tests.workspace_helpers import PASSWORD, SIGN_IN, csrf_token, make_user, sign_in

world = table.world  # the records the rows' URLs name (a fixture)

# The words of the refusal (directory/workspace/auth.py, ``_csrf_refused``).
REFUSAL = (
    "The form could not be accepted: it expired or did not come from this site. "
    "Open the page again and resend it."
)

Build = Callable[[Flask, table.World], tuple[str, Mapping[str, Any]]]

# The POST routes open to everyone (not in ``ROUTES``): their URL and a body that would
# act if the token were not checked.
OPEN_POSTS: dict[str, Build] = {
    "workspace.sign_in": lambda app, w: (
        SIGN_IN,
        {"email": w.account.email, "password": PASSWORD},
    ),
    "workspace.sign_out": lambda app, w: ("/workspace/sign-out", {}),
    "workspace.two_factor": lambda app, w: ("/workspace/two-factor", {"code": "000000"}),
    "workspace.set_password": lambda app, w: (
        "/workspace/set-password/"
        + tokens.make_set_password_token(app.config["SECRET_KEY"], w.account),
        {"password": "another long password", "confirm": "another long password"},
    ),
}


def _post_endpoints() -> list[str]:
    """Every workspace endpoint that takes a POST, from the URL map (the app is built, not
    connected: nothing here needs the database)."""
    app = make_test_app(make_url("postgresql://collect@127.0.0.1:1/collect"))
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("workspace.") and "POST" in (rule.methods or set())
        }
    )


POST_ENDPOINTS = _post_endpoints()


def _build(endpoint: str, app: Flask, world: table.World) -> tuple[str, Mapping[str, Any]]:
    if endpoint in OPEN_POSTS:
        return OPEN_POSTS[endpoint](app, world)
    rows = [row for row in table.ROUTES if row.endpoint == endpoint and row.method == "POST"]
    assert rows, f"POST {endpoint} has no row in tests/test_workspace_routes.py ROUTES"
    return rows[0].url(world), rows[0].body(world)


def _fingerprint(session: Session) -> dict[str, str]:
    """A digest of every table's rows: equal before and after means nothing changed."""
    session.flush()
    digests = {}
    for name in Base.metadata.tables:
        rows = session.execute(text(f'SELECT t::text FROM "{name}" t ORDER BY 1')).scalars()
        digests[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def _other_sessions_token(app: Flask) -> str:
    """A real token, of another browser's session."""
    with app.test_client() as stranger:
        return csrf_token(stranger, SIGN_IN)


TOKENS: dict[str, Callable[[Flask], str | None]] = {
    "no token": lambda app: None,
    "made-up token": lambda app: "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.x.y",
    "another session's token": _other_sessions_token,
}


@pytest.mark.parametrize("kind", TOKENS)
@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_a_post_without_a_valid_token_is_refused_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    world: table.World,
    endpoint: str,
    kind: str,
) -> None:
    secretariat = make_user(db_session, UserRole.SECRETARIAT)
    sign_in(client, secretariat)
    assert client.get("/workspace/").status_code == 200
    path, body = _build(endpoint, app, world)
    token = TOKENS[kind](app)
    before = _fingerprint(db_session)

    data = dict(body) if token is None else {**body, "csrf_token": token}
    response = client.post(path, data=data)

    assert response.status_code == 400, f"POST {path} ({kind}): {response.status_code}"
    assert REFUSAL in unescape(response.get_data(as_text=True))
    db_session.expire_all()
    assert _fingerprint(db_session) == before, f"POST {path} ({kind}) changed something"
    # Still signed in: a refused sign-out did not sign out either.
    assert client.get("/workspace/").status_code == 200


def test_every_post_route_is_covered(app: Flask) -> None:
    """The list the tests above were made from is the application's (a route added to it
    later at run time, e.g. by a plugin, would be missed)."""
    live = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("workspace.") and "POST" in (rule.methods or set())
    }
    assert live == set(POST_ENDPOINTS)
    assert len(live) >= 8  # sign-in, sign-out, the password, two-step, the users…


@pytest.mark.parametrize("language", ["es", "en", "fr", "ht"])
def test_the_refusal_is_a_page_in_the_readers_language(
    app: Flask, client: FlaskClient, db_session: Session, language: str
) -> None:
    secretariat = make_user(db_session, UserRole.SECRETARIAT)
    sign_in(client, secretariat)

    response = client.post(
        "/workspace/password",
        data={"current": PASSWORD, "password": "x" * 20, "confirm": "x" * 20},
        headers={"Accept-Language": language},
    )

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = unescape(response.get_data(as_text=True))
    assert f'<html lang="{language}">' in page
    with app.test_request_context(), force_locale(language):
        words = _(REFUSAL)
    assert words in page
