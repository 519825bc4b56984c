"""Confirmation requests end to end (issue 13, point 1): the workspace sends one, the
outbox receives the e-mail, the test follows the link in its body; the public page
confirms once, takes a correction without changing the record, refuses altered, expired
and used links with a clear page (400/410), and its forms need their CSRF token. Plus the
bulk page and the outbox viewer."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import UserRole
from directory.confirmations.models import ConfirmationOutcome, ConfirmationRequest
from directory.confirmations.services import create_request, make_token
from directory.db import utcnow
from directory.mail import body_text, outbox, read_outbox
from directory.suggestions.models import ChangeSuggestion, SuggestionStatus
from tests.test_confirmations import Records, build_records
from tests.workspace_helpers import make_user, post_form, sign_in

LINK = re.compile(r"https?://\S+/confirm/\S+")
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def outbox_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's outbox for this test (and no SMTP server)."""
    monkeypatch.setitem(app.config, "OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    return tmp_path / "outbox"


@pytest.fixture
def records(db_session: Session) -> Records:
    return build_records(db_session)


def _focal_point(client: FlaskClient, session: Session, country: str = "GT") -> None:
    user = make_user(session, UserRole.FOCAL_POINT, country_code=country, name="Marta Focal")
    assert sign_in(client, user).status_code == 302


def _send_for_contact(client: FlaskClient, records: Records) -> None:
    contact_id = records.contact.id
    response = post_form(
        client,
        f"/workspace/contacts/{contact_id}/confirmation-request",
        form_page=f"/workspace/contacts/person/{contact_id}/edit",
    )
    assert response.status_code == 302
    assert urlsplit(response.location).path == f"/workspace/contacts/person/{contact_id}/edit"


def _only_link(outbox_dir: Path) -> tuple[str, str]:
    """The link in the only e-mail of the outbox, and the e-mail's body."""
    [entry] = outbox(outbox_dir)
    message = read_outbox(outbox_dir, entry.name)
    assert message is not None
    body = body_text(message)
    [link] = LINK.findall(body)
    return link, body


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _page_token(page_text: str) -> str:
    match = TOKEN_FIELD.search(page_text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _token_link(session: Session, record, *, now: dt.datetime | None = None) -> str:
    request = create_request(session, record, sent_by=None, now=now)
    session.commit()
    return f"/confirm/{make_token('test', request, now=now)}"


def test_the_workspace_sends_a_request_and_the_link_confirms_once(
    client: FlaskClient, db_session: Session, records: Records, outbox_dir: Path
):
    _focal_point(client, db_session)
    contact_page = f"/workspace/contacts/person/{records.contact.id}/edit"
    assert "Send a confirmation request" in client.get(contact_page).get_data(as_text=True)

    _send_for_contact(client, records)

    page = client.get(contact_page).get_data(as_text=True)
    assert "A confirmation request was sent to ana@example.org" in page
    [entry] = outbox(outbox_dir)
    assert entry.to == "ana@example.org"
    link, body = _only_link(outbox_dir)
    message = read_outbox(outbox_dir, entry.name)
    assert message is not None
    assert message["Content-Language"] == "fr"  # the contact's first language
    assert link.startswith("http://localhost/confirm/")
    assert link.endswith("?lang=fr")
    assert "Ana Pérez" in body
    assert "Marta Focal" in body  # who asked
    request = db_session.scalars(select(ConfirmationRequest)).one()
    assert request.email == "ana@example.org"
    assert request.sent_by is not None

    # The person opens the link (no account: a fresh browser).
    visitor = client.application.test_client()
    shown = visitor.get(_path(link))
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert '<html lang="fr">' in html
    for value in ("Ana Pérez", "Consul", "ana@example.org", "+502 5555 1234"):
        assert value in html
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in shown.headers["X-Robots-Tag"]

    answered = visitor.post(urlsplit(link).path, data={"csrf_token": _page_token(html)})
    assert answered.status_code == 200
    assert answered.headers["Cache-Control"] == "private, no-store"
    db_session.refresh(records.contact)
    assert records.contact.last_confirmed_at == utcnow().date()
    assert records.contact.last_confirmed_by == "confirmation link ana@example.org"
    db_session.refresh(request)
    assert request.outcome == ConfirmationOutcome.CONFIRMED

    # Used: the page says so (410), and a second answer is refused too.
    again = visitor.get(_path(link))
    assert again.status_code == 410
    assert again.headers["Cache-Control"] == "private, no-store"
    second = visitor.post(urlsplit(link).path, data={"csrf_token": _page_token(html)})
    assert second.status_code == 410


def test_a_location_request_follows_its_link_in_spanish(
    client: FlaskClient, db_session: Session, records: Records, outbox_dir: Path
):
    _focal_point(client, db_session)
    location_id = records.location.id
    response = post_form(
        client,
        f"/workspace/locations/{location_id}/confirmation-request",
        form_page=f"/workspace/locations/{location_id}/edit",
    )
    assert response.status_code == 302
    link, _body = _only_link(outbox_dir)
    assert link.endswith("?lang=es")
    assert outbox(outbox_dir)[0].to == "sitio@example.org"
    visitor = client.application.test_client()
    page = visitor.get(_path(link), headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="es">' in html  # the link's language wins over the browser's
    assert "6a Avenida 1-2" in html
    assert "+502 2222 0000" in html
    # ?lang= on the page is honoured too.
    english = visitor.get(urlsplit(link).path + "?lang=en")
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Yes, it is right" in english.get_data(as_text=True)


def test_a_correction_waits_in_moderation_and_changes_nothing(
    client: FlaskClient, db_session: Session, records: Records, outbox_dir: Path
):
    contact = records.contact
    version = contact.version
    path = _token_link(db_session, contact)
    html = client.get(path).get_data(as_text=True)
    # The form comes prefilled with the record.
    assert 'value="+502 5555 1234"' in html

    answered = client.post(
        f"{path}/correct",
        data={
            "csrf_token": _page_token(html),
            "name": "Ana Pérez",
            "position": "Cónsul general",
            "email": "ana@example.org",
            "phone": "+502 5555 1234",
            "languages": ["fr", "es"],
            "comment": "<script>alert(1)</script> New title since May.",
        },
    )

    assert answered.status_code == 200
    assert "Thank you" in answered.get_data(as_text=True)
    db_session.refresh(contact)
    assert contact.position == "Consul"
    assert contact.version == version
    suggestion = db_session.scalars(select(ChangeSuggestion)).one()
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.proposed == {"position": "Cónsul general"}
    assert suggestion.text == "<script>alert(1)</script> New title since May."
    assert suggestion.language == "en"
    assert client.get(path).status_code == 410


def test_a_correction_with_a_mistake_is_shown_again_beside_the_field(
    client: FlaskClient, db_session: Session, records: Records
):
    path = _token_link(db_session, records.location)
    html = client.get(path).get_data(as_text=True)
    answered = client.post(
        f"{path}/correct",
        data={
            "csrf_token": _page_token(html),
            "address": "x" * 501,
            "phones": "+502 2222 0000\nnot a phone",
            "email": "not an address",
            "hours": "",
            "comment": "y" * 1501,
        },
    )
    assert answered.status_code == 400
    page = answered.get_data(as_text=True)
    assert "Nothing was sent" in page
    assert page.count('class="field__error"') == 4  # address, phones, e-mail, comment
    assert "This is not an e-mail address." in page
    assert db_session.scalars(select(ChangeSuggestion)).all() == []
    # Nothing changed at all: said so, and the link stays usable.
    unchanged = client.post(
        f"{path}/correct",
        data={
            "csrf_token": _page_token(html),
            "address": records.location.address,
            "phones": "+502 2222 0000",
            "email": records.location.email,
            "hours": "Mo-Fr 08:00-16:00; Sa 09:00-13:00",
        },
    )
    assert unchanged.status_code == 400
    assert "Nothing was changed" in unchanged.get_data(as_text=True)
    assert client.get(path).status_code == 200


def test_bad_links_get_a_clear_page(client: FlaskClient, db_session: Session, records: Records):
    good = _token_link(db_session, records.contact)
    token = good.removeprefix("/confirm/")
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]

    altered = client.get(f"/confirm/{flipped}")
    assert altered.status_code == 400
    assert "This link is not complete" in altered.get_data(as_text=True)
    for garbage in ("x", "a.b.c", "%00", "é" * 30, "A" * 2000):
        assert client.get(f"/confirm/{garbage}").status_code == 400

    old = _token_link(db_session, records.location, now=utcnow() - dt.timedelta(days=15))
    expired = client.get(old)
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    assert expired.headers["Cache-Control"] == "private, no-store"

    # An archived record: nothing to confirm any more.
    records.contact.archived_at = utcnow()
    db_session.commit()
    gone = client.get(good)
    assert gone.status_code == 410
    assert "no longer in the directory" in gone.get_data(as_text=True)


def test_the_answers_need_their_csrf_token(
    client: FlaskClient, db_session: Session, records: Records
):
    path = _token_link(db_session, records.contact)
    assert client.post(path).status_code == 400
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert client.post(f"{path}/correct", data={"phone": "+502 1111 1111"}).status_code == 400
    db_session.refresh(records.contact)
    assert records.contact.last_confirmed_at is None
    assert db_session.scalars(select(ChangeSuggestion)).all() == []
    # With the page's token it goes through.
    token = _page_token(client.get(path).get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 200


def test_a_record_without_an_email_is_refused_with_a_message(
    client: FlaskClient, db_session: Session, records: Records, outbox_dir: Path
):
    records.contact.email = None
    db_session.commit()
    _focal_point(client, db_session)
    _send_for_contact(client, records)
    page = client.get(f"/workspace/contacts/person/{records.contact.id}/edit").get_data(
        as_text=True
    )
    assert "no e-mail address" in page
    assert outbox(outbox_dir) == []
    assert db_session.scalars(select(ConfirmationRequest)).all() == []


def test_the_bulk_page_counts_sends_and_lists(
    client: FlaskClient, db_session: Session, records: Records, outbox_dir: Path
):
    build_records(db_session, country="HN")  # another country's: never in GT's run
    db_session.commit()
    _focal_point(client, db_session)

    page = client.get("/workspace/confirmation-requests?country=GT&months=12")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2 records in Guatemala have an e-mail address" in html
    assert "no e-mail address" not in html
    assert '<option value="HN"' not in html  # a focal point picks its own country only
    assert client.get("/workspace/confirmation-requests?country=HN").status_code == 403

    sent = post_form(
        client,
        "/workspace/confirmation-requests",
        {"country": "GT", "months": "12"},
        form_page="/workspace/confirmation-requests?country=GT",
    )
    assert sent.status_code == 302
    assert sorted(entry.to for entry in outbox(outbox_dir)) == [
        "ana@example.org",
        "sitio@example.org",
    ]
    after = client.get("/workspace/confirmation-requests?country=GT").get_data(as_text=True)
    assert "2 confirmation requests were sent." in after
    assert "0 records in Guatemala have an e-mail address" in after
    assert after.count("Waiting") == 2  # the list of requests and their state

    # Someone answers one: its state changes in the list.
    link, _body = next(
        _only_link_of(outbox_dir, entry.name)
        for entry in outbox(outbox_dir)
        if entry.to == "ana@example.org"
    )
    visitor = client.application.test_client()
    html = visitor.get(_path(link)).get_data(as_text=True)
    visitor.post(urlsplit(link).path, data={"csrf_token": _page_token(html)})
    listed = client.get("/workspace/confirmation-requests").get_data(as_text=True)
    assert listed.count("Waiting") == 1
    assert "Confirmed" in listed


def test_the_bulk_page_says_how_many_stale_records_no_email_reaches(
    client: FlaskClient, db_session: Session, records: Records
):
    records.contact.email = None
    db_session.commit()
    _focal_point(client, db_session)
    html = client.get("/workspace/confirmation-requests?country=GT&months=12").get_data(
        as_text=True
    )
    assert "1 record in Guatemala has an e-mail address" in html
    assert (
        "1 more record was not confirmed for 12 months but has no e-mail address, so no "
        "request can reach it: call it, or add an address to the record."
    ) in html


def _only_link_of(outbox_dir: Path, name: str) -> tuple[str, str]:
    message = read_outbox(outbox_dir, name)
    assert message is not None
    body = body_text(message)
    [link] = LINK.findall(body)
    return link, body


def test_the_outbox_viewer(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    records: Records,
    outbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    secretariat = make_user(db_session, UserRole.SECRETARIAT)
    assert sign_in(client, secretariat).status_code == 302
    assert "The outbox is empty." in client.get("/workspace/outbox").get_data(as_text=True)
    _send_for_contact(client, records)
    listing = client.get("/workspace/outbox").get_data(as_text=True)
    [entry] = outbox(outbox_dir)
    assert "ana@example.org" in listing
    assert f"/workspace/outbox/{entry.name}" in listing
    shown = client.get(f"/workspace/outbox/{entry.name}")
    assert shown.status_code == 200
    link, _body = _only_link_of(outbox_dir, entry.name)
    assert link in shown.get_data(as_text=True).replace("<wbr>", "").replace("&amp;", "&")
    assert client.get("/workspace/outbox/..%2Fsecret_key").status_code == 404
    assert client.get("/workspace/outbox/20990101T000000000000Z-00000000.eml").status_code == 404
    # With a mail server configured, the page says so instead.
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://mailer:secret@mail.example.org:587")
    configured = client.get("/workspace/outbox").get_data(as_text=True)
    assert "mail.example.org:587" in configured
    assert "secret" not in configured


def test_no_public_page_links_to_a_confirmation(
    client: FlaskClient, db_session: Session, records: Records
):
    _token_link(db_session, records.location)
    for path in ("/", f"/places/{records.location.id}"):
        response = client.get(path)
        assert response.status_code == 200
        assert "/confirm/" not in response.get_data(as_text=True)
