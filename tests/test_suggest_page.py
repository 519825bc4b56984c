"""The public "suggest a correction" page (issue 13, point 2): a plain form on its own page,
linked from every place page; abuse kept out by CSRF, a honeypot, length limits and a rate
limit; nothing about the sender stored."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from directory.places.models import Location
from directory.suggestions.models import ChangeSuggestion, SuggestionStatus, SuggestionVia
from tests import factories
from tests.conftest import make_test_app
from tests.workspace_helpers import csrf_token


@pytest.fixture
def location(db_session: Session) -> Location:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    organization = factories.organization(db_session, name="Casa del Migrante GT")
    place = factories.location(db_session, organization, -90.5, 14.6, "GT", "Guatemala")
    db_session.commit()
    return place


def _path(location: Location) -> str:
    return f"/places/{location.id}/suggest"


def _send(client: FlaskClient, location: Location, data: dict[str, str], **kwargs):
    token = csrf_token(client, _path(location))
    return client.post(_path(location), data={**data, "csrf_token": token}, **kwargs)


def _stored(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ChangeSuggestion)) or 0


def test_the_place_page_links_to_the_form(client: FlaskClient, location: Location) -> None:
    page = client.get(f"/places/{location.id}").get_data(as_text=True)
    assert f'href="{_path(location)}"' in page
    assert "Suggest a correction" in page


def test_the_form_is_light_and_plain(client: FlaskClient, location: Location) -> None:
    response = client.get(_path(location))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    # The app sends no Referer elsewhere; this form sends one to our own origin (CSRF).
    assert response.headers["Referrer-Policy"] == "same-origin"
    page = response.get_data(as_text=True)
    for kind in ("closed", "moved", "phone", "hours", "other"):
        assert f'type="radio" name="kind" value="{kind}"' in page
    assert 'maxlength="2000"' in page
    trap = re.search(r'<div class="suggest-trap" aria-hidden="true">.*?</div>', page, re.S)
    assert trap
    assert 'name="website"' in trap.group(0)
    assert 'tabindex="-1"' in trap.group(0)
    assert 'autocomplete="off"' in trap.group(0)
    assert "<script" not in page  # no map, no script: it works as a plain form
    assert 'name="csrf_token"' in page


def test_a_suggestion_is_thanked_and_waits(
    client: FlaskClient, db_session: Session, location: Location
) -> None:
    response = _send(
        client,
        location,
        {"kind": "phone", "text": "El número nuevo es +502 5555 0000"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
        headers={"User-Agent": "Test browser 1.0"},
    )
    assert response.status_code == 303
    thanks = client.get(response.location)
    assert thanks.status_code == 200
    assert "A person will check it" in thanks.get_data(as_text=True)
    [suggestion] = db_session.scalars(select(ChangeSuggestion)).all()
    assert suggestion.location_id == location.id
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.via == SuggestionVia.PUBLIC
    assert suggestion.language == "en"  # the page's language, nothing else about the sender
    row = db_session.execute(
        select(ChangeSuggestion.__table__).where(ChangeSuggestion.id == suggestion.id)
    ).one()
    values = " ".join(str(value) for value in row)
    for trace in ("203.0.113.7", "Test browser", "-90.5", "14.6"):
        assert trace not in values


def test_the_honeypot_is_thanked_and_nothing_is_stored(
    client: FlaskClient, db_session: Session, location: Location
) -> None:
    response = _send(
        client,
        location,
        {"kind": "other", "text": "Buy cheap watches", "website": "http://spam.example"},
    )
    assert response.status_code == 303
    assert "sent=1" in response.location
    assert _stored(db_session) == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "other", "text": "x" * 100_000}, "text", "This text is too long"),
        ({"kind": "other", "text": "x" * 2001}, "text", "This text is too long"),
        ({"text": "Cerrado"}, "kind", "Choose what is wrong."),
        ({"kind": "phone", "text": ""}, "text", "Say in a few words what is wrong."),
    ],
)
def test_bad_input_is_refused_beside_its_field(
    client: FlaskClient,
    db_session: Session,
    location: Location,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = _send(client, location, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="suggest-error" id="{field}-error">(.*?)</p>', page)
    assert error
    assert message in unescape(error.group(1))
    assert _stored(db_session) == 0
    assert len(page) < 20_000  # a 100 KB text is not sent back whole


def test_a_script_is_stored_as_text_and_shown_escaped(
    client: FlaskClient, db_session: Session, location: Location
) -> None:
    text = "<script>alert(1)</script>"
    response = _send(client, location, {"kind": "other", "text": text})
    assert response.status_code == 303
    assert db_session.scalars(select(ChangeSuggestion.text)).one() == text
    # Sent back in the form (a refused, too long variant), it is escaped as well.
    again = _send(client, location, {"text": text}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in again
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in again


def test_a_post_without_a_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, location: Location
) -> None:
    client.get(_path(location))  # a session, but no token sent
    response = client.post(_path(location), data={"kind": "closed", "text": ""})
    assert response.status_code == 400
    assert "The form could not be accepted" in response.get_data(as_text=True)
    assert _stored(db_session) == 0


def test_archived_or_unknown_places_are_not_found(
    client: FlaskClient, db_session: Session, location: Location
) -> None:
    assert client.get("/places/999999/suggest").status_code == 404
    token = csrf_token(client, _path(location))
    location.archived_at = func.now()
    db_session.commit()
    assert client.get(_path(location)).status_code == 404
    response = client.post(_path(location), data={"kind": "closed", "csrf_token": token})
    assert response.status_code == 404
    assert _stored(db_session) == 0


def test_past_the_rate_limit_a_client_gets_429(
    test_database: URL, db_session: Session, location: Location
) -> None:
    """Every form sent counts, the honeypot's too; past the budget: 429 with Retry-After.
    (An app of its own with limits on, as in tests/test_rate_limits.py; its requests use
    the test's rolled-back session.)"""
    limited = make_test_app(
        test_database, RATELIMIT_ENABLED=True, SUGGESTION_RATE_LIMIT="2 per hour"
    )
    client = limited.test_client()
    one = {"REMOTE_ADDR": "198.51.100.1"}
    token = csrf_token(client, _path(location))
    forms = [
        {"kind": "closed", "text": "1"},
        {"kind": "closed", "text": "2", "website": "http://spam.example"},
        {"kind": "closed", "text": "3"},
    ]
    statuses = [
        client.post(
            _path(location), data={**form, "csrf_token": token}, environ_base=one
        ).status_code
        for form in forms
    ]
    assert statuses == [303, 303, 429]
    refused = client.post(
        _path(location), data={"kind": "closed", "csrf_token": token}, environ_base=one
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many suggestions" in refused.get_data(as_text=True)
    assert _stored(db_session) == 1
    # Another client has a budget of its own.
    other = {"REMOTE_ADDR": "198.51.100.2"}
    response = client.post(
        _path(location), data={"kind": "closed", "csrf_token": token}, environ_base=other
    )
    assert response.status_code == 303
    assert _stored(db_session) == 2
