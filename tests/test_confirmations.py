"""Confirmation requests, the services (issue 13, point 1): a link confirms once and is
refused when expired, altered or reused; a correction changes nothing on the record and
waits in moderation; a confirmation is audited; which records a bulk run asks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole
from directory.confirmations.models import ConfirmationOutcome, ConfirmationRequest
from directory.confirmations.services import (
    ConfirmationRefused,
    NoEmail,
    NothingChanged,
    Problem,
    RequestState,
    confirm,
    correct,
    create_request,
    hours_as_text,
    language_for,
    make_token,
    open_link,
    recent_requests,
    recipient_of,
    requests_for_stale,
    stale_without_email,
    state_of,
)
from directory.db import utcnow
from directory.places.models import Country, Location, Network
from directory.places.opening_hours import parse
from directory.suggestions.models import (
    ChangeSuggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionVia,
)
from tests import factories

SECRET = "test"  # the test app's SECRET_KEY (tests/conftest.py)


@dataclass
class Records:
    contact: ContactPerson
    location: Location
    network: Network


def build_records(session: Session, *, country: str = "GT") -> Records:
    """A contact person (French speaking, with an e-mail) and a location of ``country``
    (with hours and an e-mail), neither ever confirmed."""
    if session.get(Country, country) is None:
        factories.country(session, country, (-92.3, 13.7, -88.2, 17.8))
    network = session.scalar(select(Network).where(Network.code == "RNCOM"))
    if network is None:
        network = Network(code="RNCOM", names={"en": "RNCOM network", "es": "Red RNCOM"})
        session.add(network)
    organization = factories.organization(session, name=f"Casa del Migrante {country}")
    organization.email = "casa@example.org"
    location = factories.location(session, organization, -90.5, 14.6, country, "Guatemala")
    location.email = "sitio@example.org"
    location.address = "6a Avenida 1-2"
    location.phones = ["+502 2222 0000"]
    location.opening_hours = parse("Mo-Fr 08:00-16:00; Sa 09:00-13:00")
    contact = ContactPerson(
        external_id=f"test:confirm:{country}:{organization.id}",
        country_code=country,
        network=network,
        name="Ana Pérez",
        position="Consul",
        email="ana@example.org",
        phone="+502 5555 1234",
        role=ContactRole.PRIMARY,
        valid_from=dt.date(2024, 1, 1),
        languages=["fr", "es"],
    )
    session.add(contact)
    session.flush()
    return Records(contact=contact, location=location, network=network)


@pytest.fixture
def records(db_session: Session) -> Records:
    return build_records(db_session)


def _link(session: Session, record, now: dt.datetime | None = None) -> str:
    request = create_request(session, record, sent_by=None, now=now)
    return make_token(SECRET, request, now=now)


def test_a_contact_confirms_once_and_it_is_audited(db_session: Session, records: Records):
    contact = records.contact
    version = contact.version
    token = _link(db_session, contact)

    opened = confirm(db_session, SECRET, token)

    today = utcnow().date()
    assert contact.last_confirmed_at == today
    assert contact.last_confirmed_by == "confirmation link ana@example.org"
    assert contact.version == version + 1
    assert opened.request.used_at is not None
    assert opened.request.outcome == ConfirmationOutcome.CONFIRMED
    entry = db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "contact_persons",
            AuditEntry.entity_id == str(contact.id),
            AuditEntry.action == "update",
        )
    ).one()
    assert entry.user_id is None
    assert entry.after == {
        "last_confirmed_at": today.isoformat(),
        "last_confirmed_by": "confirmation link ana@example.org",
        "version": version + 1,
    }
    # The same link again: refused, nothing written.
    with pytest.raises(ConfirmationRefused) as refused:
        confirm(db_session, SECRET, token)
    assert refused.value.problem == Problem.USED
    assert contact.version == version + 1


def test_a_location_confirmation_sets_verified_at(db_session: Session, records: Records):
    location = records.location
    assert location.verified_at is None
    confirm(db_session, SECRET, _link(db_session, location))
    assert location.verified_at == utcnow().date()
    assert db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity == "locations", AuditEntry.entity_id == str(location.id)
        )
    )


def test_a_link_older_than_14_days_is_refused(db_session: Session, records: Records):
    fifteen_days_ago = utcnow() - dt.timedelta(days=15)
    token = _link(db_session, records.contact, now=fifteen_days_ago)
    with pytest.raises(ConfirmationRefused) as refused:
        confirm(db_session, SECRET, token)
    assert refused.value.problem == Problem.EXPIRED
    assert records.contact.last_confirmed_at is None
    # 13 days old is still fine.
    token = _link(db_session, records.location, now=utcnow() - dt.timedelta(days=13))
    confirm(db_session, SECRET, token)
    assert records.location.verified_at == utcnow().date()


def test_a_request_past_its_expiry_is_refused_even_with_a_fresh_signature(
    db_session: Session, records: Records
):
    request = create_request(db_session, records.contact, sent_by=None)
    request.expires_at = utcnow() - dt.timedelta(minutes=1)
    db_session.flush()
    with pytest.raises(ConfirmationRefused) as refused:
        open_link(db_session, SECRET, make_token(SECRET, request))
    assert refused.value.problem == Problem.EXPIRED
    assert state_of(request) == RequestState.EXPIRED


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("position", [0, 10, 40, -5, -1])
def test_an_altered_link_is_refused(db_session: Session, records: Records, position: int):
    token = _link(db_session, records.contact)
    # base64url: a signature's last character also carries padding bits, so a change must
    # reach its first bit ("A"-"Z" and "a"-"f" start with 0, the rest with 1) to alter it.
    flipped = "z" if token[position] in ALPHABET[:32] else "A"
    altered = token[:position] + flipped + (token[position + 1 :] if position != -1 else "")
    with pytest.raises(ConfirmationRefused) as refused:
        confirm(db_session, SECRET, altered)
    assert refused.value.problem == Problem.ALTERED
    assert records.contact.last_confirmed_at is None


def test_a_link_signed_with_another_key_or_nonce_is_refused(db_session: Session, records: Records):
    request = create_request(db_session, records.contact, sent_by=None)
    with pytest.raises(ConfirmationRefused) as other_key:
        open_link(db_session, SECRET, make_token("another key", request))
    assert other_key.value.problem == Problem.ALTERED
    # A genuine signature over the right id with another nonce (a guessed request).
    real_nonce = request.nonce
    request.nonce = "x" * 43
    forged = make_token(SECRET, request)
    request.nonce = real_nonce
    with pytest.raises(ConfirmationRefused) as other_nonce:
        open_link(db_session, SECRET, forged)
    assert other_nonce.value.problem == Problem.ALTERED


def test_a_correction_changes_nothing_and_waits_in_moderation(
    db_session: Session, records: Records
):
    contact = records.contact
    before = (contact.name, contact.phone, list(contact.languages), contact.version)
    token = _link(db_session, contact)

    suggestion = correct(
        db_session,
        SECRET,
        token,
        {
            "name": "Ana Pérez",  # unchanged
            "position": "Consul",
            "email": "ana@example.org",
            "phone": "+502 5555 9999",
            "languages": ["es", "en"],
        },
        "  I moved to the other office.  ",
        language="en",
    )

    assert (contact.name, contact.phone, list(contact.languages), contact.version) == before
    assert contact.last_confirmed_at is None
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.kind == SuggestionKind.CORRECTION
    assert suggestion.via == SuggestionVia.CONFIRMATION
    assert suggestion.contact_person_id == contact.id
    assert suggestion.country_code == "GT"
    assert suggestion.proposed == {"phone": "+502 5555 9999", "languages": ["es", "en"]}
    assert suggestion.text == "I moved to the other office."
    assert suggestion.language == "en"
    request = db_session.get(ConfirmationRequest, suggestion.confirmation_id)
    assert request is not None
    assert request.outcome == ConfirmationOutcome.CORRECTED
    assert state_of(request) == RequestState.CORRECTED
    # No audit entry on the record: it did not change.
    assert not db_session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "contact_persons", AuditEntry.entity_id == str(contact.id)
        )
    ).all()
    # Used: neither a second correction nor a confirmation goes through.
    with pytest.raises(ConfirmationRefused):
        correct(db_session, SECRET, token, {"phone": "+502 1"}, "", language="en")
    with pytest.raises(ConfirmationRefused):
        confirm(db_session, SECRET, token)
    assert db_session.query(ChangeSuggestion).count() == 1


def test_a_location_correction_proposes_model_values(db_session: Session, records: Records):
    location = records.location
    token = _link(db_session, location)
    suggestion = correct(
        db_session,
        SECRET,
        token,
        {
            "address": "7a Calle 3-4",
            "phones": ["+502 2222 0000", "+502 3333 0000"],
            "whatsapp": "",
            "email": "sitio@example.org",
            "hours": "Mo-Sa 08:00-18:00",
        },
        "",
        language="es",
    )
    assert suggestion.proposed == {
        "address": "7a Calle 3-4",
        "phones": ["+502 2222 0000", "+502 3333 0000"],
        "opening_hours": parse("Mo-Sa 08:00-18:00"),
    }
    assert location.address == "6a Avenida 1-2"
    assert suggestion.location_id == location.id


def test_hours_in_words_go_to_the_text(db_session: Session, records: Records):
    token = _link(db_session, records.location)
    suggestion = correct(
        db_session,
        SECRET,
        token,
        {"hours": "De lunes a viernes, de 8 a 5", "address": "6a Avenida 1-2"},
        "Gracias",
        language="es",
    )
    assert suggestion.proposed == {}
    assert suggestion.text == "Hours: De lunes a viernes, de 8 a 5\n\nGracias"


def test_a_correction_that_changes_nothing_is_refused_and_leaves_the_link_usable(
    db_session: Session, records: Records
):
    location = records.location
    token = _link(db_session, location)
    unchanged = {
        "address": location.address,
        "phones": list(location.phones),
        "whatsapp": "",
        "email": location.email,
        "hours": hours_as_text(location.opening_hours),
    }
    with pytest.raises(NothingChanged):
        correct(db_session, SECRET, token, unchanged, "   ", language="es")
    confirm(db_session, SECRET, token)  # still unused


def test_the_stored_hours_read_back_the_same():
    for text in ("Mo-Fr 08:00-16:00; Sa 09:00-13:00", "24/7", "Mo,We 09:00-12:00,14:00-17:00"):
        hours = parse(text)
        assert parse(hours_as_text(hours)) == hours
    assert hours_as_text(None) == ""


def test_a_record_without_an_email_gets_no_request(db_session: Session, records: Records):
    records.contact.email = "  "
    with pytest.raises(NoEmail):
        create_request(db_session, records.contact, sent_by=None)
    # A location without its own e-mail is asked at its organization's.
    records.location.email = None
    assert recipient_of(records.location) == "casa@example.org"
    records.location.organization.email = None
    with pytest.raises(NoEmail):
        create_request(db_session, records.location, sent_by=None)


def test_the_language_is_the_records_first_one_the_site_speaks(records: Records):
    assert language_for(records.contact) == "fr"
    records.contact.languages = ["pt", "ht"]
    assert language_for(records.contact) == "ht"
    records.contact.languages = ["pt"]
    assert language_for(records.contact) == "es"
    assert language_for(records.location) == "es"  # no languages recorded


def test_a_request_remembers_where_it_went(db_session: Session, records: Records):
    request = create_request(db_session, records.contact, sent_by=None)
    assert request.email == "ana@example.org"
    assert request.language == "fr"
    assert request.country_code == "GT"
    assert len(request.nonce) == 43
    assert request.expires_at - request.sent_at == dt.timedelta(days=14)
    assert state_of(request) == RequestState.WAITING
    rows = recent_requests(db_session, ["GT"])
    assert [row.request.id for row in rows] == [request.id]
    assert rows[0].record is records.contact
    assert recent_requests(db_session, ["HN"]) == []


def test_the_bulk_run_picks_what_is_stale_and_reachable(db_session: Session, records: Records):
    today = utcnow().date()
    contact, location = records.contact, records.location
    assert {r.id for r in requests_for_stale(db_session, "GT", 365)} == {contact.id, location.id}

    # Confirmed recently: left out; confirmed long ago: asked.
    contact.last_confirmed_at = today - dt.timedelta(days=30)
    location.verified_at = today - dt.timedelta(days=400)
    db_session.flush()
    assert requests_for_stale(db_session, "GT", 365) == [location]
    assert set(requests_for_stale(db_session, "GT", 10)) == {contact, location}

    # A request waiting: left out; once it expired, asked again.
    request = create_request(db_session, location, sent_by=None)
    assert requests_for_stale(db_session, "GT", 365) == []
    request.expires_at = utcnow() - dt.timedelta(days=1)
    db_session.flush()
    assert requests_for_stale(db_session, "GT", 365) == [location]

    # Archived, out of office, or without any e-mail: never.
    location.archived_at = utcnow()
    contact.last_confirmed_at = None
    contact.valid_to = today - dt.timedelta(days=1)
    db_session.flush()
    assert requests_for_stale(db_session, "GT", 365) == []
    contact.valid_to = None
    contact.email = None
    db_session.flush()
    assert requests_for_stale(db_session, "GT", 365) == []

    # A location without its own e-mail, whose organization has one: asked.
    location.archived_at = None
    location.email = ""
    db_session.flush()
    assert requests_for_stale(db_session, "GT", 365) == [location]
    # Another country's records are not in GT's run.
    other = build_records(db_session, country="HN")
    assert other.location not in requests_for_stale(db_session, "GT", 365)
    assert {r.id for r in requests_for_stale(db_session, "HN", 365)} == {
        other.contact.id,
        other.location.id,
    }


def test_stale_records_no_email_can_reach_are_counted(db_session: Session, records: Records):
    contact, location = records.contact, records.location
    assert stale_without_email(db_session, "GT", 365) == 0  # both reachable

    contact.email = None
    db_session.flush()
    assert stale_without_email(db_session, "GT", 365) == 1
    assert requests_for_stale(db_session, "GT", 365) == [location]

    # A place reaches its organization's address when it has none of its own.
    location.email = ""
    db_session.flush()
    assert stale_without_email(db_session, "GT", 365) == 1
    location.organization.email = None
    db_session.flush()
    assert stale_without_email(db_session, "GT", 365) == 2
    assert requests_for_stale(db_session, "GT", 365) == []

    # Confirmed lately, archived, or another country's: not counted.
    contact.last_confirmed_at = utcnow().date()
    location.archived_at = utcnow()
    db_session.flush()
    assert stale_without_email(db_session, "GT", 365) == 0
    assert stale_without_email(db_session, "HN", 365) == 0
