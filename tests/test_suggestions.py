"""Suggested corrections, the services (issue 13, point 2): a suggestion waits and changes
nothing until a person accepts it; accepting applies it through the audited edit, on the
record as it is now; rejecting changes nothing; a decision is taken once; nothing about
the sender is kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, User, UserRole
from directory.db import OperationalStatus
from directory.places.models import Location, Network
from directory.records import apply_edit
from directory.suggestions import services
from directory.suggestions.models import (
    TEXT_MAX_LENGTH,
    ChangeSuggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionVia,
)
from tests import factories
from tests.workspace_helpers import make_user


@dataclass
class Records:
    location: Location
    other_location: Location
    contact: ContactPerson
    moderator: User


@pytest.fixture
def records(db_session: Session) -> Records:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    organization = factories.organization(db_session, name="Casa GT")
    location = factories.location(db_session, organization, -90.5, 14.6, "GT", "Guatemala")
    location.phones = ["+502 2222 0000"]
    other = factories.location(
        db_session, factories.organization(db_session), -87.2, 14.1, "HN", "Tegucigalpa"
    )
    network = Network(code="RNCOM", names={"en": "RNCOM"})
    contact = ContactPerson(
        external_id="test:suggestions",
        country_code="GT",
        network=network,
        name="Ana Pérez",
        phone="+502 5555 1111",
        role=ContactRole.PRIMARY,
        valid_from=dt.date(2024, 1, 1),
        languages=["es"],
    )
    db_session.add_all([network, contact])
    db_session.commit()
    moderator = make_user(db_session, UserRole.FOCAL_POINT, country_code="GT")
    return Records(location, other, contact, moderator)


def _audit(session: Session, **where: str) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(session.scalars(query))


def _submit(session: Session, location: Location, kind: str = "phone", text: str = "x"):
    suggestion = services.submit_public(session, location, kind=kind, text=text, language="es")
    session.commit()
    return suggestion


# --- taking a suggestion -----------------------------------------------------------------


def test_a_suggestion_keeps_only_its_kind_text_and_language(
    db_session: Session, records: Records
) -> None:
    suggestion = _submit(
        db_session, records.location, "phone", "  El teléfono es +502 5555 0000\r\n"
    )
    assert suggestion.status == SuggestionStatus.PENDING
    assert suggestion.via == SuggestionVia.PUBLIC
    assert suggestion.country_code == "GT"
    assert suggestion.text == "El teléfono es +502 5555 0000"
    assert suggestion.language == "es"
    assert suggestion.proposed == {}
    # Nothing about the sender has a place to go: no address, position, browser or account.
    columns = {column.name for column in inspect(ChangeSuggestion).columns}
    assert columns == {
        "id",
        "location_id",
        "contact_person_id",
        "country_code",
        "kind",
        "via",
        "text",
        "proposed",
        "language",
        "confirmation_id",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "decision_note",
    }


def test_a_suggestion_changes_nothing_until_accepted(db_session: Session, records: Records) -> None:
    location = records.location
    version, phones = location.version, list(location.phones)
    audits = len(_audit(db_session, entity="locations"))
    _submit(db_session, location, "closed", "")
    db_session.expire_all()
    assert location.version == version
    assert location.phones == phones
    assert location.status == OperationalStatus.OPEN
    assert len(_audit(db_session, entity="locations")) == audits
    assert [item.location_id for item in services.pending(db_session, "GT")] == [location.id]


def test_markup_and_control_characters(db_session: Session, records: Records) -> None:
    text = "<script>alert('x')</script>\x00\x07 cerrado\u202e desde\x1b ayer"
    suggestion = _submit(db_session, records.location, "other", text)
    # Markup is kept as the text it is (pages escape it); control characters are gone.
    assert suggestion.text == "<script>alert('x')</script> cerrado desde ayer"


@pytest.mark.parametrize(
    ("kind", "text", "problems"),
    [
        ("", "x", {"kind": services.Problem.KIND_UNKNOWN}),
        ("correction", "x", {"kind": services.Problem.KIND_UNKNOWN}),  # not a public kind
        ("deleted", "x", {"kind": services.Problem.KIND_UNKNOWN}),
        ("phone", "   ", {"text": services.Problem.TEXT_MISSING}),
        ("other", "a" * (TEXT_MAX_LENGTH + 1), {"text": services.Problem.TEXT_TOO_LONG}),
        ("closed", "a" * 100_000, {"text": services.Problem.TEXT_TOO_LONG}),
        ("closed", "\x00" * 100_000, {"text": services.Problem.TEXT_TOO_LONG}),
    ],
)
def test_bad_suggestions_are_refused_and_nothing_is_stored(
    db_session: Session, records: Records, kind: str, text: str, problems: dict
) -> None:
    with pytest.raises(services.InvalidSuggestion) as refused:
        services.submit_public(db_session, records.location, kind=kind, text=text, language="en")
    assert refused.value.problems == problems
    assert db_session.scalar(select(func.count()).select_from(ChangeSuggestion)) == 0


def test_closed_needs_no_words_and_the_longest_text_is_taken(
    db_session: Session, records: Records
) -> None:
    assert _submit(db_session, records.location, "closed", "").text == ""
    longest = _submit(db_session, records.location, "other", "b" * TEXT_MAX_LENGTH)
    assert len(longest.text) == TEXT_MAX_LENGTH


# --- the queue ---------------------------------------------------------------------------


def test_the_queue_is_per_country_oldest_first(db_session: Session, records: Records) -> None:
    first = _submit(db_session, records.location, "closed", "")
    first.created_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    second = _submit(db_session, records.location, "phone", "+502 1234 5678")
    third = _submit(db_session, records.other_location, "other", "Se mudó")
    db_session.commit()
    assert [s.id for s in services.pending(db_session, "GT")] == [first.id, second.id]
    assert [s.id for s in services.pending(db_session, "HN")] == [third.id]
    assert [s.id for s in services.pending(db_session)] == [first.id, second.id, third.id]
    assert services.pending_counts(db_session) == {"GT": 2, "HN": 1}
    assert services.pending_counts(db_session, "HN") == {"HN": 1}
    services.reject(db_session, first, records.moderator)
    db_session.commit()
    assert [s.id for s in services.pending(db_session, "GT")] == [second.id]
    assert [s.id for s in services.recent_decisions(db_session, "GT")] == [first.id]


def test_starting_proposals(db_session: Session, records: Records) -> None:
    closed = _submit(db_session, records.location, "closed", "")
    assert services.starting_proposal(closed) == {"status": "temporarily_closed"}
    phone = _submit(db_session, records.location, "phone", "El nuevo es +502 5555-0000, gracias")
    assert services.starting_proposal(phone) == {"phones": ["+502 5555-0000"]}
    no_number = _submit(db_session, records.location, "phone", "Nadie contesta")
    assert services.starting_proposal(no_number) == {}
    moved = _submit(db_session, records.location, "moved", "Ahora en la 5a avenida 10-20")
    assert services.starting_proposal(moved) == {}
    assert services.phone_in("abierto de 8 a 16, año 2024") is None


# --- deciding ----------------------------------------------------------------------------


def test_accepting_applies_through_the_audited_edit(db_session: Session, records: Records) -> None:
    location = records.location
    suggestion = _submit(db_session, location, "phone", "Ahora es +502 5555 0000")
    version = location.version

    services.accept(db_session, suggestion, records.moderator)
    db_session.commit()
    db_session.expire_all()

    assert location.phones == ["+502 5555 0000"]
    assert location.version == version + 1
    [update] = _audit(db_session, entity="locations", action="update")
    assert update.entity_id == str(location.id)
    assert update.user_id == records.moderator.id
    assert update.before == {"phones": ["+502 2222 0000"], "version": version}
    assert update.after == {"phones": ["+502 5555 0000"], "version": version + 1}
    assert suggestion.status == SuggestionStatus.ACCEPTED
    assert suggestion.decided_by == records.moderator.id
    assert suggestion.decided_at is not None
    [decision] = _audit(db_session, entity=services.AUDIT_ENTITY)
    assert decision.action == "accept"
    assert decision.entity_id == str(suggestion.id)
    assert decision.user_id == records.moderator.id
    assert decision.after["applied"] == {"phones": ["+502 5555 0000"]}
    assert decision.after["record"] == f"locations:{location.id}"


def test_closed_becomes_temporarily_closed(db_session: Session, records: Records) -> None:
    suggestion = _submit(db_session, records.location, "closed", "")
    services.accept(db_session, suggestion, records.moderator)
    db_session.commit()
    db_session.expire_all()
    assert records.location.status == OperationalStatus.TEMPORARILY_CLOSED


def test_the_moderator_edits_before_accepting(db_session: Session, records: Records) -> None:
    location = records.location
    suggestion = _submit(db_session, location, "phone", "+502 5555 0000")
    form = {
        "field-status": "open",
        "start-status": "open",
        "field-phones": "+502 5555 0000\n+502 5555 0001",  # the moderator added a line
        "start-phones": "+502 5555 0000",
        "field-whatsapp": "",
        "start-whatsapp": "",
        "field-email": "casa@example.org",  # and an e-mail
        "start-email": "",
        "field-address": "",
        "start-address": "",
    }
    changes = services.changes_from_form(suggestion, location, form)
    assert changes == {"phones": ["+502 5555 0000", "+502 5555 0001"], "email": "casa@example.org"}
    services.accept(db_session, suggestion, records.moderator, changes, note="Llamé: correcto")
    db_session.commit()
    db_session.expire_all()
    assert location.phones == ["+502 5555 0000", "+502 5555 0001"]
    assert location.email == "casa@example.org"
    assert location.status == OperationalStatus.OPEN
    assert suggestion.decision_note == "Llamé: correcto"


def test_a_form_value_that_cannot_be_read_applies_nothing(
    db_session: Session, records: Records
) -> None:
    suggestion = _submit(db_session, records.location, "closed", "")
    form = {"field-status": "demolished", "start-status": "temporarily_closed"}
    with pytest.raises(services.InvalidSuggestion) as refused:
        services.changes_from_form(suggestion, records.location, form)
    assert refused.value.problems == {"status": services.Problem.STATUS_UNKNOWN}
    assert suggestion.status == SuggestionStatus.PENDING


def test_a_record_changed_since_is_fine(db_session: Session, records: Records) -> None:
    """The suggestion waited; someone edited the record meanwhile: the accepted change goes
    on top of the record as it is now, and the other edit stays."""
    location = records.location
    suggestion = _submit(db_session, location, "closed", "")
    apply_edit(
        db_session,
        location,
        {"email": "nuevo@example.org"},
        expected_version=location.version,
        user_id=None,
    )
    db_session.commit()
    services.accept(db_session, suggestion, records.moderator)
    db_session.commit()
    db_session.expire_all()
    assert location.status == OperationalStatus.TEMPORARILY_CLOSED
    assert location.email == "nuevo@example.org"


def test_rejecting_changes_nothing_on_the_record(db_session: Session, records: Records) -> None:
    location = records.location
    suggestion = _submit(db_session, location, "closed", "")
    version = location.version
    services.reject(db_session, suggestion, records.moderator, note="Sigue abierto: llamé")
    db_session.commit()
    db_session.expire_all()
    assert location.version == version
    assert location.status == OperationalStatus.OPEN
    assert _audit(db_session, entity="locations", action="update") == []
    assert suggestion.status == SuggestionStatus.REJECTED
    [decision] = _audit(db_session, entity=services.AUDIT_ENTITY)
    assert decision.action == "reject"
    assert decision.after["note"] == "Sigue abierto: llamé"


@pytest.mark.parametrize("first", ["accept", "reject"])
@pytest.mark.parametrize("second", ["accept", "reject"])
def test_a_second_decision_is_refused(
    db_session: Session, records: Records, first: str, second: str
) -> None:
    location = records.location
    suggestion = _submit(db_session, location, "phone", "+502 5555 0000")
    getattr(services, first)(db_session, suggestion, records.moderator)
    db_session.commit()
    version = location.version
    entries = len(_audit(db_session))
    other = make_user(db_session, UserRole.SECRETARIAT)
    with pytest.raises(services.AlreadyDecided):
        getattr(services, second)(db_session, suggestion, other)
    db_session.rollback()
    db_session.expire_all()
    assert location.version == version
    assert len(_audit(db_session)) == entries
    assert suggestion.decided_by == records.moderator.id


def test_a_note_too_long_is_refused(db_session: Session, records: Records) -> None:
    suggestion = _submit(db_session, records.location, "closed", "")
    with pytest.raises(services.InvalidSuggestion):
        services.reject(db_session, suggestion, records.moderator, note="n" * 5000)
    assert suggestion.status == SuggestionStatus.PENDING


def test_a_confirmation_correction_of_a_contact_person(
    db_session: Session, records: Records
) -> None:
    """A correction sent through a confirmation link: "current → proposed" per field, then
    applied to the contact person through the audited edit."""
    contact = records.contact
    suggestion = ChangeSuggestion(
        contact_person_id=contact.id,
        country_code="GT",
        kind=SuggestionKind.CORRECTION,
        via=SuggestionVia.CONFIRMATION,
        proposed={"phone": "+502 5555 0001", "position": "Directora"},
        language="es",
    )
    db_session.add(suggestion)
    db_session.commit()
    views = {view.name: view for view in services.field_views(contact, suggestion.proposed)}
    assert (views["phone"].current, views["phone"].proposed) == ("+502 5555 1111", "+502 5555 0001")
    assert views["phone"].changes
    assert views["position"].changes
    assert not views["name"].is_proposed
    assert not views["name"].changes

    services.accept(db_session, suggestion, records.moderator)
    db_session.commit()
    db_session.expire_all()
    assert (contact.phone, contact.position) == ("+502 5555 0001", "Directora")
    [update] = _audit(db_session, entity="contact_persons", action="update")
    assert update.after["phone"] == "+502 5555 0001"


def test_proposed_hours_are_applied_as_proposed(db_session: Session, records: Records) -> None:
    hours = {"mo": [["08:00", "16:00"]]}
    suggestion = ChangeSuggestion(
        location_id=records.location.id,
        country_code="GT",
        kind=SuggestionKind.CORRECTION,
        via=SuggestionVia.CONFIRMATION,
        proposed={"opening_hours": hours, "unknown_field": 1},
        language="es",
    )
    db_session.add(suggestion)
    db_session.commit()
    changes = services.changes_from_form(suggestion, records.location, {})
    assert changes == {"opening_hours": hours}  # a field no record has is never applied
    services.accept(db_session, suggestion, records.moderator, changes)
    db_session.commit()
    db_session.expire_all()
    assert records.location.opening_hours == hours
