"""Suggested corrections: taking one from the public, the moderation queue, and deciding.

Without Flask (a session in, flushes, the caller commits). Nothing here ever stores who
sent a suggestion: no address, no position, no browser, no account; only the language of
the page it was written from. The free text is kept as plain text (control characters
removed) and is never interpreted: pages escape it like any other value.

Accepting goes through ``directory.records.apply_edit`` on the record's *current* version:
a suggestion waits for days, and the record may have been edited meanwhile; the moderator
sees the values of now beside the proposed ones, so applying on top of them is what they
chose. The decision itself is audited (entity ``change_suggestion``), next to the record's
own "update" entry.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson, User
from directory.db import OperationalStatus, utcnow
from directory.places.models import Location
from directory.records import apply_edit, snapshot, write_entry
from directory.records.audit import JsonValue
from directory.suggestions.models import (
    TEXT_MAX_LENGTH,
    ChangeSuggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionVia,
)

# What the public form offers, in its order.
PUBLIC_KINDS: tuple[SuggestionKind, ...] = (
    SuggestionKind.CLOSED,
    SuggestionKind.MOVED,
    SuggestionKind.PHONE,
    SuggestionKind.HOURS,
    SuggestionKind.OTHER,
)

# The longest note a moderator may add to a decision.
NOTE_MAX_LENGTH = 1000
# The longest single value typed in the moderation form (a name, an address, a phone).
VALUE_MAX_LENGTH = 500
# How many decided suggestions the queue shows under the pending ones.
RECENT_DECISIONS = 20

AUDIT_ENTITY = "change_suggestion"

Record = Location | ContactPerson


class FieldKind(enum.StrEnum):
    """How a field is typed in the moderation form and stored on the record."""

    TEXT = "text"  # one line; empty → None
    REQUIRED_TEXT = "required_text"  # one line, never empty (a contact person's name)
    LINES = "lines"  # one value a line → a list (phones)
    CODES = "codes"  # language codes separated by commas or spaces → a list
    STATUS = "status"  # a location's operational status
    HOURS = "hours"  # a weekly schedule as stored (JSON): shown, applied as proposed
    NUMBER = "number"  # a whole number ≥ 0, or empty
    FLAG = "flag"  # yes / no


# The fields a moderator may set on each kind of record: the first ones are in the form
# (typed), the others are applied as they were proposed (a confirmation link's correction
# of the hours, say) and can be changed on the record's edit page afterwards.
LOCATION_FORM_FIELDS: dict[str, FieldKind] = {
    "status": FieldKind.STATUS,
    "phones": FieldKind.LINES,
    "whatsapp": FieldKind.TEXT,
    "email": FieldKind.TEXT,
    "address": FieldKind.TEXT,
}
LOCATION_OTHER_FIELDS: dict[str, FieldKind] = {
    "name": FieldKind.TEXT,
    "city": FieldKind.REQUIRED_TEXT,
    "admin_area": FieldKind.TEXT,
    "opening_hours": FieldKind.HOURS,
    "hours_confirmed": FieldKind.FLAG,
    "capacity": FieldKind.NUMBER,
    "languages": FieldKind.CODES,
}
CONTACT_FORM_FIELDS: dict[str, FieldKind] = {
    "name": FieldKind.REQUIRED_TEXT,
    "position": FieldKind.TEXT,
    "email": FieldKind.TEXT,
    "phone": FieldKind.TEXT,
    "languages": FieldKind.CODES,
}
CONTACT_OTHER_FIELDS: dict[str, FieldKind] = {}

# Control characters other than the line break and the tab (C0, DEL, C1), and the
# invisible format characters that can reverse or hide text (bidi overrides, zero-width).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Something a person would write as a phone number: 7 to 15 digits with the usual
# separators, an optional + first.
_PHONE = re.compile(r"\+?\d[\d\s().\-/]{5,22}\d")
_CODE = re.compile(r"^[a-z]{2,3}$")


class Problem(enum.StrEnum):
    """Why a suggestion or a moderator's value cannot be taken (worded by the views)."""

    KIND_UNKNOWN = "kind_unknown"  # not one of the kinds offered
    TEXT_MISSING = "text_missing"  # only "closed" says enough without words
    TEXT_TOO_LONG = "text_too_long"
    NOTE_TOO_LONG = "note_too_long"
    VALUE_REQUIRED = "value_required"
    VALUE_TOO_LONG = "value_too_long"
    STATUS_UNKNOWN = "status_unknown"
    NOT_A_NUMBER = "not_a_number"
    NOT_LANGUAGE_CODES = "not_language_codes"
    NOT_HOURS = "not_hours"


class InvalidSuggestion(ValueError):
    """What the sender (or the moderator) must put right: field name → problem. Nothing
    was stored."""

    def __init__(self, problems: Mapping[str, Problem]) -> None:
        self.problems = dict(problems)
        super().__init__(", ".join(f"{field}: {problem}" for field, problem in problems.items()))


class AlreadyDecided(Exception):
    """The suggestion was accepted or rejected already (perhaps by someone else a moment
    ago): a second decision is refused and nothing is changed."""

    def __init__(self, suggestion: ChangeSuggestion) -> None:
        self.suggestion = suggestion
        super().__init__(f"suggestion {suggestion.id} is {suggestion.status.value} already")


# --- taking a suggestion from the public -------------------------------------------------


def clean_text(text: str | None) -> str:
    """The text as it will be kept: Unicode NFC, line breaks as ``\\n``, control and
    invisible formatting characters removed, surrounding blanks trimmed. Markup is left as
    typed: it is text, and every page escapes it."""
    normalized = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", normalized).strip()


def check_public(kind: str | None, text: str | None) -> tuple[SuggestionKind, str]:
    """The kind and the cleaned text of a public suggestion, or ``InvalidSuggestion``.

    The length is checked on what was sent, before cleaning, so a 100 KB text made of
    control characters is refused like any other."""
    problems: dict[str, Problem] = {}
    chosen = SuggestionKind(kind) if kind in set(SuggestionKind) else None
    if chosen not in PUBLIC_KINDS:
        problems["kind"] = Problem.KIND_UNKNOWN
    raw = text or ""
    cleaned = clean_text(raw)
    if len(raw) > TEXT_MAX_LENGTH * 2 or len(cleaned) > TEXT_MAX_LENGTH:
        problems["text"] = Problem.TEXT_TOO_LONG
    elif not cleaned and chosen is not None and chosen != SuggestionKind.CLOSED:
        problems["text"] = Problem.TEXT_MISSING
    if problems or chosen is None:
        raise InvalidSuggestion(problems)
    return chosen, cleaned


def submit_public(
    session: Session, location: Location, *, kind: str | None, text: str | None, language: str
) -> ChangeSuggestion:
    """Store a public suggestion about ``location`` (pending, in its country's queue).

    Only the kind, the cleaned text and the page's language are kept: the caller passes
    nothing about the sender, and there is nowhere to put it."""
    chosen, cleaned = check_public(kind, text)
    suggestion = ChangeSuggestion(
        location_id=location.id,
        country_code=location.country_code,
        kind=chosen,
        via=SuggestionVia.PUBLIC,
        text=cleaned,
        proposed={},
        language=(language or "es")[:8],
    )
    session.add(suggestion)
    session.flush()
    return suggestion


# --- the queue ---------------------------------------------------------------------------


def _in_country(query: Any, country_code: str | None) -> Any:
    return (
        query
        if country_code is None
        else query.where(ChangeSuggestion.country_code == country_code)
    )


def pending(session: Session, country_code: str | None = None) -> Sequence[ChangeSuggestion]:
    """The suggestions waiting for a decision, oldest first (the one waiting longest is
    the one most likely to mislead someone now); ``None``: every country."""
    query = select(ChangeSuggestion).where(ChangeSuggestion.status == SuggestionStatus.PENDING)
    query = _in_country(query, country_code)
    return session.scalars(query.order_by(ChangeSuggestion.created_at, ChangeSuggestion.id)).all()


def recent_decisions(
    session: Session, country_code: str | None = None, limit: int = RECENT_DECISIONS
) -> Sequence[ChangeSuggestion]:
    """The latest decided suggestions, newest first: what the queue looked like."""
    query = select(ChangeSuggestion).where(ChangeSuggestion.status != SuggestionStatus.PENDING)
    query = _in_country(query, country_code)
    order = (ChangeSuggestion.decided_at.desc().nulls_last(), ChangeSuggestion.id.desc())
    return session.scalars(query.order_by(*order).limit(limit)).all()


def pending_counts(session: Session, country_code: str | None = None) -> dict[str, int]:
    """Pending suggestions per country (only ``country_code``'s when given)."""
    query = select(ChangeSuggestion.country_code, func.count()).where(
        ChangeSuggestion.status == SuggestionStatus.PENDING
    )
    query = _in_country(query, country_code).group_by(ChangeSuggestion.country_code)
    return dict(session.execute(query).all())


def record_of(session: Session, suggestion: ChangeSuggestion) -> Record:
    """The location or contact person the suggestion is about (the check constraint says
    it names exactly one)."""
    if suggestion.location_id is not None:
        record: Record | None = session.get(Location, suggestion.location_id)
    else:
        record = session.get(ContactPerson, suggestion.contact_person_id)
    if record is None:  # the foreign key makes this impossible; say so if it happens
        raise LookupError(f"suggestion {suggestion.id} names no record")
    return record


def form_fields(record: Record) -> dict[str, FieldKind]:
    """The fields the moderation form shows for this kind of record, in order."""
    return dict(LOCATION_FORM_FIELDS if isinstance(record, Location) else CONTACT_FORM_FIELDS)


def applicable_fields(record: Record) -> dict[str, FieldKind]:
    """Every field a decision may set on this kind of record."""
    if isinstance(record, Location):
        return {**LOCATION_FORM_FIELDS, **LOCATION_OTHER_FIELDS}
    return {**CONTACT_FORM_FIELDS, **CONTACT_OTHER_FIELDS}


def phone_in(text: str) -> str | None:
    """The first phone number a text gives ("the new number is +502 5555-0000"), with its
    separators as typed; None when there is none (7 to 15 digits)."""
    for match in _PHONE.finditer(text or ""):
        digits = sum(char.isdigit() for char in match.group(0))
        if 7 <= digits <= 15:
            return match.group(0).strip()
    return None


def starting_proposal(suggestion: ChangeSuggestion) -> dict[str, JsonValue]:
    """What the moderation form starts from: the values the suggestion proposes, or for a
    public one a first guess from its kind ("closed" → temporarily closed; "phone" → the
    number found in the text). Moved, hours and other need a person to read the text."""
    if suggestion.proposed:
        return dict(suggestion.proposed)
    if suggestion.kind == SuggestionKind.CLOSED and suggestion.location_id is not None:
        return {"status": OperationalStatus.TEMPORARILY_CLOSED.value}
    if suggestion.kind == SuggestionKind.PHONE and suggestion.location_id is not None:
        found = phone_in(suggestion.text)
        return {"phones": [found]} if found else {}
    return {}


@dataclass(frozen=True, slots=True)
class FieldView:
    """One field of the moderation page: its value now and the proposed one (JSON, as a
    snapshot holds them); ``in_form`` when the moderator can type it, ``applicable`` when
    a decision can set it at all (a proposed field we cannot apply is shown, not used)."""

    name: str
    kind: FieldKind | None
    current: JsonValue
    proposed: JsonValue
    is_proposed: bool
    in_form: bool
    applicable: bool

    @property
    def changes(self) -> bool:
        return self.is_proposed and self.proposed != self.current


def field_views(record: Record, proposal: Mapping[str, JsonValue]) -> list[FieldView]:
    """The form's fields, then any other proposed field, with values now and proposed."""
    now = snapshot(record)
    typed = form_fields(record)
    applicable = applicable_fields(record)
    names = list(typed) + [name for name in proposal if name not in typed]
    return [
        FieldView(
            name=name,
            kind=applicable.get(name),
            current=now.get(name),
            proposed=proposal.get(name, now.get(name)),
            is_proposed=name in proposal,
            in_form=name in typed,
            applicable=name in applicable,
        )
        for name in names
    ]


# --- reading the moderator's form --------------------------------------------------------


def form_text(kind: FieldKind, value: JsonValue) -> str:
    """A JSON value as the moderation form shows it in its input."""
    if value is None:
        return ""
    if kind == FieldKind.LINES and isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if kind == FieldKind.CODES and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def parse_form_value(kind: FieldKind, text: str | None) -> JsonValue:
    """What the moderator typed, as the JSON value a snapshot would hold; raises
    ``ValueError`` carrying a ``Problem``."""
    raw = clean_text(text)
    if len(raw) > VALUE_MAX_LENGTH * (10 if kind == FieldKind.LINES else 1):
        raise ValueError(Problem.VALUE_TOO_LONG)
    if kind in (FieldKind.TEXT, FieldKind.REQUIRED_TEXT):
        line = " ".join(raw.split())
        if not line and kind == FieldKind.REQUIRED_TEXT:
            raise ValueError(Problem.VALUE_REQUIRED)
        return line or None
    if kind == FieldKind.LINES:
        return [" ".join(line.split()) for line in raw.split("\n") if line.strip()]
    if kind == FieldKind.CODES:
        codes = [part.lower() for part in re.split(r"[,;\s]+", raw) if part]
        if any(not _CODE.match(code) for code in codes):
            raise ValueError(Problem.NOT_LANGUAGE_CODES)
        return list(dict.fromkeys(codes))
    if kind == FieldKind.STATUS:
        try:
            return OperationalStatus(raw).value
        except ValueError:
            raise ValueError(Problem.STATUS_UNKNOWN) from None
    if kind == FieldKind.NUMBER:
        if not raw:
            return None
        if not raw.isdigit():
            raise ValueError(Problem.NOT_A_NUMBER)
        return int(raw)
    if kind == FieldKind.FLAG:
        return raw.lower() in ("1", "true", "yes", "on")
    raise ValueError(Problem.NOT_HOURS)  # hours are not typed here


def changes_from_form(
    suggestion: ChangeSuggestion,
    record: Record,
    form: Mapping[str, str],
    *,
    prefix: str = "field-",
    start_prefix: str = "start-",
) -> dict[str, JsonValue]:
    """The values the moderator chose, from the moderation form.

    Each typed field carries the value it was shown with (``start-<name>``): a field is
    applied when the suggestion proposed it or the moderator changed it, never merely
    because the form was filled with the record's values of some minutes ago. Proposed
    fields the form does not type (hours from a confirmation link) are applied as
    proposed. Raises ``InvalidSuggestion`` (field → problem) with nothing applied."""
    proposal = starting_proposal(suggestion)
    typed = form_fields(record)
    applicable = applicable_fields(record)
    changes: dict[str, JsonValue] = {}
    problems: dict[str, Problem] = {}
    for name, kind in typed.items():
        key = prefix + name
        if key not in form:
            if name in proposal:  # not sent: as proposed
                changes[name] = proposal[name]
            continue
        try:
            value = parse_form_value(kind, form.get(key))
        except ValueError as error:
            problems[name] = Problem(str(error.args[0]))
            continue
        started = form.get(start_prefix + name)
        touched = started is None or clean_text(started) != clean_text(form.get(key))
        if name in proposal or touched:
            changes[name] = value
    for name, value in proposal.items():
        if name not in typed and name in applicable:
            changes[name] = value
    if problems:
        raise InvalidSuggestion(problems)
    return changes


# --- deciding ----------------------------------------------------------------------------


def _model_value(kind: FieldKind, value: JsonValue) -> Any:
    """A JSON value as the model stores it (an enum member for the status)."""
    if kind == FieldKind.STATUS:
        return OperationalStatus(str(value))
    if kind in (FieldKind.LINES, FieldKind.CODES):
        return [str(item) for item in value] if isinstance(value, list) else []
    if kind == FieldKind.HOURS:
        if value is not None and not isinstance(value, dict):
            raise InvalidSuggestion({"opening_hours": Problem.NOT_HOURS})
        return value
    if kind == FieldKind.NUMBER:
        return int(value) if value not in (None, "") else None  # type: ignore[arg-type]
    if kind == FieldKind.FLAG:
        return bool(value)
    return value


def _lock_pending(session: Session, suggestion: ChangeSuggestion) -> None:
    """Re-read the suggestion locked (two moderators deciding at once: the second waits,
    then finds it decided) and refuse it when it is no longer pending."""
    session.refresh(suggestion, with_for_update=True)
    if suggestion.status != SuggestionStatus.PENDING:
        raise AlreadyDecided(suggestion)


def _check_note(note: str | None) -> str | None:
    cleaned = clean_text(note)
    if len(cleaned) > NOTE_MAX_LENGTH:
        raise InvalidSuggestion({"note": Problem.NOTE_TOO_LONG})
    return cleaned or None


def accept(
    session: Session,
    suggestion: ChangeSuggestion,
    user: User,
    changes: Mapping[str, JsonValue] | None = None,
    *,
    note: str | None = None,
) -> Record:
    """Apply ``changes`` (default: the starting proposal) to the suggestion's record through
    the audited edit, on the record's current version, and mark the suggestion accepted
    (audited "accept"). Raises ``AlreadyDecided`` or ``InvalidSuggestion`` with nothing
    changed; the caller commits (or rolls back)."""
    cleaned_note = _check_note(note)
    _lock_pending(session, suggestion)
    record = record_of(session, suggestion)
    chosen = dict(starting_proposal(suggestion) if changes is None else changes)
    applicable = applicable_fields(record)
    model_changes = {
        name: _model_value(applicable[name], value)
        for name, value in chosen.items()
        if name in applicable
    }
    # Locked and read fresh: the edit applies on the record as it is now.
    session.refresh(record, with_for_update=True)
    before_version = record.version
    apply_edit(session, record, model_changes, expected_version=record.version, user_id=user.id)
    _decide(session, suggestion, user, SuggestionStatus.ACCEPTED, cleaned_note)
    write_entry(
        session,
        action="accept",
        entity=AUDIT_ENTITY,
        entity_id=str(suggestion.id),
        user_id=user.id,
        before={"status": SuggestionStatus.PENDING.value},
        after={
            "status": SuggestionStatus.ACCEPTED.value,
            "record": _record_key(record),
            "applied": {name: chosen[name] for name in model_changes},
            "changed_record": record.version != before_version,
            "note": cleaned_note,
        },
    )
    return record


def reject(
    session: Session, suggestion: ChangeSuggestion, user: User, *, note: str | None = None
) -> ChangeSuggestion:
    """Mark the suggestion rejected (audited "reject"); the record is not touched."""
    cleaned_note = _check_note(note)
    _lock_pending(session, suggestion)
    record = record_of(session, suggestion)
    _decide(session, suggestion, user, SuggestionStatus.REJECTED, cleaned_note)
    write_entry(
        session,
        action="reject",
        entity=AUDIT_ENTITY,
        entity_id=str(suggestion.id),
        user_id=user.id,
        before={"status": SuggestionStatus.PENDING.value},
        after={
            "status": SuggestionStatus.REJECTED.value,
            "record": _record_key(record),
            "note": cleaned_note,
        },
    )
    return suggestion


def _decide(
    session: Session,
    suggestion: ChangeSuggestion,
    user: User,
    status: SuggestionStatus,
    note: str | None,
) -> None:
    suggestion.status = status
    suggestion.decided_at = utcnow()
    suggestion.decided_by = user.id
    suggestion.decision_note = note
    session.flush()


def _record_key(record: Record) -> str:
    table = "locations" if isinstance(record, Location) else "contact_persons"
    return f"{table}:{record.id}"


def age_in_days(suggestion: ChangeSuggestion, now: dt.datetime | None = None) -> int:
    """Whole days the suggestion has waited (or waited until it was decided)."""
    end = suggestion.decided_at or now or utcnow()
    return max(0, (end - suggestion.created_at).days)
