"""The workspace's moderation queue (issue 13, point 2): per country, a focal point decides
only its own country's suggestions; accepting applies the (possibly edited) values through
the audited edit, rejecting changes nothing, a decision is taken once, and the sender's
text is always shown escaped."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, UserRole
from directory.db import OperationalStatus
from directory.places.models import Location, Network
from directory.suggestions.models import (
    ChangeSuggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionVia,
)
from tests import factories
from tests.workspace_helpers import csrf_token, make_user, post_form, sign_in

SCRIPT = "<script>alert('x')</script> Cerrado desde ayer"


@dataclass
class Queue:
    location: Location
    other_location: Location
    contact: ContactPerson
    closed: ChangeSuggestion  # a public "closed" on GT's location, with a script in its text
    phone: ChangeSuggestion  # a public "phone" on GT's location
    correction: ChangeSuggestion  # a confirmation link's correction of GT's contact person
    elsewhere: ChangeSuggestion  # a public suggestion on HN's location


@pytest.fixture
def queue(db_session: Session) -> Queue:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    location = factories.location(
        db_session, factories.organization(db_session, name="Casa GT"), -90.5, 14.6, "GT"
    )
    location.phones = ["+502 2222 0000"]
    other = factories.location(
        db_session, factories.organization(db_session, name="Casa HN"), -87.2, 14.1, "HN"
    )
    network = Network(code="RNCOM", names={"en": "RNCOM"})
    contact = ContactPerson(
        external_id="test:moderation",
        country_code="GT",
        network=network,
        name="Ana Pérez",
        phone="+502 5555 1111",
        role=ContactRole.PRIMARY,
        valid_from=dt.date(2024, 1, 1),
    )
    db_session.add_all([network, contact])
    db_session.flush()

    def public(place: Location, kind: SuggestionKind, text: str, days: int) -> ChangeSuggestion:
        return ChangeSuggestion(
            location_id=place.id,
            country_code=place.country_code,
            kind=kind,
            via=SuggestionVia.PUBLIC,
            text=text,
            language="es",
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days),
        )

    closed = public(location, SuggestionKind.CLOSED, SCRIPT, 3)
    phone = public(location, SuggestionKind.PHONE, "El número es +502 5555 0000", 1)
    elsewhere = public(other, SuggestionKind.OTHER, "Secreto de Honduras", 2)
    correction = ChangeSuggestion(
        contact_person_id=contact.id,
        country_code="GT",
        kind=SuggestionKind.CORRECTION,
        via=SuggestionVia.CONFIRMATION,
        proposed={"phone": "+502 5555 9999"},
        language="es",
    )
    db_session.add_all([closed, phone, elsewhere, correction])
    db_session.commit()
    return Queue(location, other, contact, closed, phone, correction, elsewhere)


def _focal_point(client: FlaskClient, session: Session, country: str = "GT"):
    user = make_user(session, UserRole.FOCAL_POINT, country_code=country)
    sign_in(client, user)
    return user


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _suggestion_path(item: ChangeSuggestion, action: str = "") -> str:
    return f"/workspace/suggestions/{item.id}" + (f"/{action}" if action else "")


def _audits(session: Session, action: str) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def test_a_focal_point_sees_its_country_oldest_first(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session)
    page = _page(client, "/workspace/suggestions")
    links = re.findall(r'href="/workspace/suggestions/(\d+)"', page)
    assert links == [str(queue.closed.id), str(queue.phone.id), str(queue.correction.id)]
    assert "Secreto de Honduras" not in page
    assert "3 suggestions waiting" in page
    assert "waiting for 3 days" in page
    assert "received today" in page  # the correction came in just now
    # The home page says how many wait.
    assert "3 waiting for a decision" in _page(client, "/workspace/")
    # The contact person's correction shows what it changes.
    assert "+502 5555 1111 → <strong>+502 5555 9999</strong>" in page


def test_the_secretariat_sees_every_country_with_a_filter(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    sign_in(client, make_user(db_session, UserRole.SECRETARIAT))
    page = _page(client, "/workspace/suggestions")
    assert "Secreto de Honduras" in page
    assert "4 suggestions waiting" in page
    only_hn = _page(client, "/workspace/suggestions?country=HN")
    assert "1 suggestion waiting" in only_hn
    assert str(queue.closed.id) not in re.findall(r"/workspace/suggestions/(\d+)", only_hn)


def test_another_countrys_focal_point_can_neither_see_nor_decide(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session, "HN")
    page = _page(client, "/workspace/suggestions")
    assert "Secreto de Honduras" in page
    assert "Casa GT" not in page
    refusals = _audits(db_session, "refused")
    assert client.get(_suggestion_path(queue.closed)).status_code == 403
    token = csrf_token(client, "/workspace/")
    for action in ("accept", "reject"):
        response = client.post(_suggestion_path(queue.closed, action), data={"csrf_token": token})
        assert response.status_code == 403
    assert _audits(db_session, "refused") == refusals + 3
    db_session.expire_all()
    assert queue.closed.status == SuggestionStatus.PENDING
    assert queue.location.status == OperationalStatus.OPEN


def test_the_senders_text_is_escaped(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session)
    for path in ("/workspace/suggestions", _suggestion_path(queue.closed)):
        page = _page(client, path)
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(" in page


def test_accepting_with_an_edited_value(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    user = _focal_point(client, db_session)
    page = _page(client, _suggestion_path(queue.phone))
    # The phone found in the text is the starting proposal, beside the phone now.
    assert "Now: +502 2222 0000" in page
    assert re.search(r'<textarea[^>]*name="field-phones"[^>]*>\+502 5555 0000</textarea>', page)
    version = queue.location.version

    response = post_form(
        client,
        _suggestion_path(queue.phone, "accept"),
        {
            "field-status": "open",
            "start-status": "open",
            "field-phones": "+502 5555 0000\n+502 7777 0000",
            "start-phones": "+502 5555 0000",
            "field-whatsapp": "",
            "start-whatsapp": "",
            "field-email": "",
            "start-email": "",
            "field-address": "",
            "start-address": "",
            "note": "Confirmado por teléfono",
        },
        form_page=_suggestion_path(queue.phone),
    )
    assert response.status_code == 302
    listing = client.get(response.location).get_data(as_text=True)
    assert f'href="/workspace/locations/{queue.location.id}/history"' in listing

    db_session.expire_all()
    assert queue.location.phones == ["+502 5555 0000", "+502 7777 0000"]
    assert queue.location.version == version + 1
    assert queue.phone.status == SuggestionStatus.ACCEPTED
    assert queue.phone.decided_by == user.id
    update = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "locations",
            AuditEntry.entity_id == str(queue.location.id),
            AuditEntry.action == "update",
        )
    ).one()
    assert update.before["phones"] == ["+502 2222 0000"]
    assert update.after["phones"] == ["+502 5555 0000", "+502 7777 0000"]
    assert update.user_id == user.id
    # A second decision is refused, and changes nothing.
    again = post_form(
        client, _suggestion_path(queue.phone, "reject"), form_page="/workspace/suggestions"
    )
    assert again.status_code == 409
    assert "decided already" in again.get_data(as_text=True)
    db_session.expire_all()
    assert queue.phone.status == SuggestionStatus.ACCEPTED
    assert queue.location.version == version + 1


def test_accepting_a_contact_correction(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session)
    page = _page(client, _suggestion_path(queue.correction))
    assert "Now: +502 5555 1111" in page
    assert 'value="+502 5555 9999"' in page
    response = post_form(
        client, _suggestion_path(queue.correction, "accept"), {}, form_page="/workspace/"
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert queue.contact.phone == "+502 5555 9999"
    assert queue.correction.status == SuggestionStatus.ACCEPTED


def test_rejecting_changes_nothing_on_the_record(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session)
    version = queue.location.version
    response = post_form(
        client,
        _suggestion_path(queue.closed, "reject"),
        {"note": "Llamé: sigue abierto"},
        form_page=_suggestion_path(queue.closed),
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert queue.location.version == version
    assert queue.location.status == OperationalStatus.OPEN
    assert queue.closed.status == SuggestionStatus.REJECTED
    assert queue.closed.decision_note == "Llamé: sigue abierto"
    page = _page(client, _suggestion_path(queue.closed))
    assert "Rejected" in page
    assert "Llamé: sigue abierto" in page


def test_a_value_that_cannot_be_read_is_shown_beside_its_field(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session)
    response = post_form(
        client,
        _suggestion_path(queue.closed, "accept"),
        {"field-status": "demolished", "start-status": "temporarily_closed"},
        form_page=_suggestion_path(queue.closed),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field__error" id="field-status-error">(.*?)</p>', page)
    assert error
    assert unescape(error.group(1)) == "Choose from the list."
    db_session.expire_all()
    assert queue.closed.status == SuggestionStatus.PENDING
    assert queue.location.status == OperationalStatus.OPEN


def test_a_decision_without_a_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    _focal_point(client, db_session)
    response = client.post(_suggestion_path(queue.closed, "accept"), data={})
    assert response.status_code == 400
    db_session.expire_all()
    assert queue.closed.status == SuggestionStatus.PENDING
    assert queue.location.status == OperationalStatus.OPEN


def test_roles_that_moderate_nothing_are_refused(
    client: FlaskClient, db_session: Session, queue: Queue
) -> None:
    editor = make_user(
        db_session,
        UserRole.ORGANIZATION_EDITOR,
        organization_id=queue.location.organization_id,
    )
    sign_in(client, editor)
    assert client.get("/workspace/suggestions").status_code == 403
    assert client.get(_suggestion_path(queue.phone)).status_code == 403
    assert 'href="/workspace/suggestions"' not in _page(client, "/workspace/")
