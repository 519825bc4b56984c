"""Confirmation requests: make one, sign its link, check a link, confirm or correct.

A request is a row (``ConfirmationRequest``) and a link that carries an itsdangerous
signature over ``{"id", "nonce"}`` with its time stamp. The link is refused when it was
altered (the signature, or a nonce that is not the row's), when it is older than 14 days
(the signature's age, and the row's ``expires_at``), and when it was used: using it sets
``used_at`` with ``UPDATE … WHERE used_at IS NULL RETURNING``, so two clicks at once cannot
both go through (the second waits for the first's row lock, then finds it used).

"Yes, it is right" sets the contact person's ``last_confirmed_at``/``last_confirmed_by`` or
the location's ``verified_at`` through ``apply_edit`` (audited, no user). "Correct it"
changes nothing on the record: it files a ``ChangeSuggestion`` with the changed fields
(model attribute names, values as the model stores them) for the moderation queue.

Services: a session in, flush, the caller commits. No Flask.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import Select, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from directory.accounts.models import ContactPerson
from directory.confirmations.models import ConfirmationOutcome, ConfirmationRequest
from directory.db import utcnow
from directory.i18n import DEFAULT_LANGUAGE, LANGUAGES
from directory.places.models import Location, Organization
from directory.places.opening_hours import DAYS, OpeningHoursError, parse
from directory.records import apply_edit
from directory.suggestions.models import (
    TEXT_MAX_LENGTH,
    ChangeSuggestion,
    SuggestionKind,
    SuggestionVia,
)

# How long a link is valid.
VALID_FOR = dt.timedelta(days=14)
SALT = "confirmation"
# A contact person's fields a correction may propose, and a location's (the hours come as
# text: see ``proposal``).
CONTACT_FIELDS = ("name", "position", "email", "phone", "languages")
LOCATION_FIELDS = ("phones", "whatsapp", "email", "address")
HOURS_FIELD = "hours"

Record = Location | ContactPerson


class Problem(enum.StrEnum):
    """Why a link is refused."""

    ALTERED = "altered"  # not a link we signed (or not whole)
    EXPIRED = "expired"  # older than 14 days
    USED = "used"  # confirmed or corrected already
    GONE = "gone"  # the record was archived meanwhile


class ConfirmationRefused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"confirmation link refused: {problem.value}")
        self.problem = problem


class NoEmail(Exception):
    """The record has no e-mail address to send a request to."""


class RequestState(enum.StrEnum):
    WAITING = "waiting"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Opened:
    """A valid, unused link: its request and the record it is about."""

    request: ConfirmationRequest
    record: Record


# --- whom to ask, in which language -------------------------------------------------------


def recipient_of(record: Record) -> str | None:
    """A contact person's e-mail; a location's own, else its organization's."""
    if isinstance(record, ContactPerson):
        return (record.email or "").strip() or None
    own = (record.email or "").strip()
    return own or (record.organization.email or "").strip() or None


def language_for(record: Record) -> str:
    """The record's first language that the site speaks, else Spanish."""
    for code in record.languages or []:
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def record_of(session: Session, request: ConfirmationRequest) -> Record | None:
    if request.contact_person_id is not None:
        return session.get(ContactPerson, request.contact_person_id)
    if request.location_id is not None:
        return session.get(Location, request.location_id)
    return None


# --- making a request and its link --------------------------------------------------------


def create_request(
    session: Session, record: Record, *, sent_by: int | None, now: dt.datetime | None = None
) -> ConfirmationRequest:
    """A new request for ``record`` (raises ``NoEmail`` when there is nowhere to send it)."""
    email = recipient_of(record)
    if email is None:
        raise NoEmail(f"{type(record).__name__} {record.id} has no e-mail address")
    now = now or utcnow()
    request = ConfirmationRequest(
        location_id=record.id if isinstance(record, Location) else None,
        contact_person_id=record.id if isinstance(record, ContactPerson) else None,
        country_code=record.country_code,
        email=email,
        language=language_for(record),
        nonce=secrets.token_urlsafe(32),
        sent_by=sent_by,
        sent_at=now,
        expires_at=now + VALID_FOR,
    )
    session.add(request)
    session.flush()
    return request


def _serializer(secret_key: str, now: dt.datetime | None) -> URLSafeTimedSerializer:
    """The link's serializer; ``now`` fixes its clock (signing as of, or checking at, a
    given time: the tests make a link 15 days old this way)."""
    if now is None:
        return URLSafeTimedSerializer(secret_key, salt=SALT)
    stamp = int(now.timestamp())

    class _FixedClock(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(secret_key, salt=SALT, signer=_FixedClock)


def make_token(
    secret_key: str, request: ConfirmationRequest, *, now: dt.datetime | None = None
) -> str:
    return str(_serializer(secret_key, now).dumps({"id": request.id, "nonce": request.nonce}))


# --- checking a link ----------------------------------------------------------------------


def open_link(
    session: Session, secret_key: str, token: str, *, now: dt.datetime | None = None
) -> Opened:
    """The request and record of a valid, unused link; else ``ConfirmationRefused``."""
    serializer = _serializer(secret_key, now)
    try:
        payload = serializer.loads(token, max_age=int(VALID_FOR.total_seconds()))
    except SignatureExpired:
        raise ConfirmationRefused(Problem.EXPIRED) from None
    except BadSignature:
        raise ConfirmationRefused(Problem.ALTERED) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        raise ConfirmationRefused(Problem.ALTERED)
    request = session.get(ConfirmationRequest, payload["id"])
    nonce = payload.get("nonce")
    if request is None or not isinstance(nonce, str):
        raise ConfirmationRefused(Problem.ALTERED)
    if not secrets.compare_digest(request.nonce.encode(), nonce.encode()):
        raise ConfirmationRefused(Problem.ALTERED)
    if request.used_at is not None:
        raise ConfirmationRefused(Problem.USED)
    if request.expires_at <= (now or utcnow()):
        raise ConfirmationRefused(Problem.EXPIRED)
    record = record_of(session, request)
    if record is None or record.archived_at is not None:
        raise ConfirmationRefused(Problem.GONE)
    return Opened(request, record)


def _mark_used(
    session: Session, request: ConfirmationRequest, outcome: ConfirmationOutcome, now: dt.datetime
) -> None:
    """Set ``used_at`` unless somebody did already (then ``USED``): one statement, so two
    clicks at once cannot both pass."""
    used = session.execute(
        update(ConfirmationRequest)
        .where(ConfirmationRequest.id == request.id, ConfirmationRequest.used_at.is_(None))
        .values(used_at=now, outcome=outcome)
        .returning(ConfirmationRequest.id)
    ).scalar_one_or_none()
    if used is None:
        raise ConfirmationRefused(Problem.USED)
    session.refresh(request)


# --- the two answers ----------------------------------------------------------------------


def confirm(
    session: Session, secret_key: str, token: str, *, now: dt.datetime | None = None
) -> Opened:
    """ "Yes, it is right": today becomes the record's confirmation date (audited, no user)."""
    now = now or utcnow()
    opened = open_link(session, secret_key, token, now=now)
    _mark_used(session, opened.request, ConfirmationOutcome.CONFIRMED, now)
    record = opened.record
    session.refresh(record, with_for_update=True)  # no edit slips in before ours
    today = now.astimezone(dt.UTC).date()
    changes: dict[str, Any]
    if isinstance(record, ContactPerson):
        changes = {
            "last_confirmed_at": today,
            "last_confirmed_by": f"confirmation link {opened.request.email}",
        }
    else:
        changes = {"verified_at": today}
    apply_edit(session, record, changes, expected_version=record.version, user_id=None)
    return opened


def correct(
    session: Session,
    secret_key: str,
    token: str,
    submitted: Mapping[str, Any],
    comment: str,
    *,
    language: str,
    now: dt.datetime | None = None,
) -> ChangeSuggestion:
    """ "Correct it": a pending suggestion with the changed fields and the comment; the
    record itself is not touched. Raises ``NothingChanged`` when nothing differs."""
    now = now or utcnow()
    opened = open_link(session, secret_key, token, now=now)
    proposed, hours_text = proposal(opened.record, submitted)
    text = _suggestion_text(comment, hours_text)
    if not proposed and not text:
        raise NothingChanged()
    _mark_used(session, opened.request, ConfirmationOutcome.CORRECTED, now)
    record = opened.record
    suggestion = ChangeSuggestion(
        location_id=record.id if isinstance(record, Location) else None,
        contact_person_id=record.id if isinstance(record, ContactPerson) else None,
        country_code=record.country_code,
        kind=SuggestionKind.CORRECTION,
        via=SuggestionVia.CONFIRMATION,
        confirmation_id=opened.request.id,
        proposed=proposed,
        text=text,
        language=language if language in LANGUAGES else opened.request.language,
        created_at=now,
    )
    session.add(suggestion)
    session.flush()
    return suggestion


class NothingChanged(Exception):
    """A correction that changes no field and says nothing."""


def proposal(record: Record, submitted: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """The fields of ``submitted`` whose values differ from the record's, as the model
    stores them; and the hours, when they were changed but are not in the hours syntax
    (they go into the suggestion's text for the moderator to read).

    A location's hours arrive as text (``hours``): written in the syntax the form shows
    (``Mo-Fr 08:00-16:00``) they are proposed as ``opening_hours``; otherwise as text."""
    fields = CONTACT_FIELDS if isinstance(record, ContactPerson) else LOCATION_FIELDS
    proposed: dict[str, Any] = {}
    for name in fields:
        if name not in submitted:
            continue
        value = _normalized(submitted[name])
        if value != _normalized(getattr(record, name)):
            proposed[name] = value
    hours_text = ""
    if isinstance(record, Location) and HOURS_FIELD in submitted:
        text = str(submitted[HOURS_FIELD] or "").strip()
        if text != hours_as_text(record.opening_hours):
            try:
                hours = parse(text)
            except OpeningHoursError:
                hours_text = text
            else:
                if hours != record.opening_hours:
                    proposed["opening_hours"] = hours
    return proposed, hours_text


def _normalized(value: Any) -> Any:
    """Empty text is ``None``; lists keep their order, without empty items."""
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    if isinstance(value, str):
        return value.strip() or None
    return value


def _suggestion_text(comment: str, hours_text: str) -> str:
    parts = []
    if hours_text:
        parts.append(f"Hours: {hours_text}")
    if comment.strip():
        parts.append(comment.strip())
    return "\n\n".join(parts)[:TEXT_MAX_LENGTH]


def hours_as_text(hours: Mapping[str, Any] | None) -> str:
    """Stored hours in the syntax ``parse`` reads (``Mo-Fr 08:00-16:00; Sa 09:00-13:00``),
    so the correction form can show them and an unchanged text reads back the same."""
    if not hours:
        return ""
    if hours.get("always"):
        return "24/7"
    groups: list[tuple[list[str], str]] = []
    for day in DAYS:
        ranges = ",".join(f"{start}-{end}" for start, end in hours.get(day, []))
        if not ranges:
            continue
        previous = groups[-1] if groups else None
        if (
            previous
            and previous[1] == ranges
            and DAYS.index(previous[0][-1]) + 1 == DAYS.index(day)
        ):
            previous[0].append(day)
        else:
            groups.append(([day], ranges))
    rules = []
    for days, ranges in groups:
        first, last = days[0].title(), days[-1].title()
        rules.append(f"{first}-{last} {ranges}" if len(days) > 1 else f"{first} {ranges}")
    return "; ".join(rules)


# --- in bulk, and the list of requests ----------------------------------------------------


def _no_open_request(column: Any, record_id: Any, now: dt.datetime) -> Any:
    return ~exists().where(
        column == record_id,
        ConfirmationRequest.used_at.is_(None),
        ConfirmationRequest.expires_at > now,
    )


def _stale_contacts(country_code: str, today: dt.date, limit: dt.date) -> Select:
    """Current contact persons of the country not confirmed since ``limit`` (or never)."""
    return select(ContactPerson).where(
        ContactPerson.country_code == country_code,
        ContactPerson.archived_at.is_(None),
        ContactPerson.valid_from <= today,
        or_(ContactPerson.valid_to.is_(None), ContactPerson.valid_to >= today),
        or_(ContactPerson.last_confirmed_at.is_(None), ContactPerson.last_confirmed_at < limit),
    )


def _stale_locations(country_code: str, limit: dt.date) -> Select:
    """Non-archived places of the country not verified since ``limit`` (or never)."""
    return (
        select(Location)
        .join(Organization, Organization.id == Location.organization_id)
        .where(
            Location.country_code == country_code,
            Location.archived_at.is_(None),
            or_(Location.verified_at.is_(None), Location.verified_at < limit),
        )
    )


def _has_text(column: Any) -> Any:
    return func.coalesce(func.trim(column), "") != ""


def _limits(now: dt.datetime, older_than_days: int) -> tuple[dt.date, dt.date]:
    today = now.astimezone(dt.UTC).date()
    return today, today - dt.timedelta(days=older_than_days)


def requests_for_stale(
    session: Session,
    country_code: str,
    older_than_days: int,
    *,
    now: dt.datetime | None = None,
) -> list[Record]:
    """Every record of the country that should get a request: current contact persons and
    non-archived locations not confirmed for ``older_than_days`` (or never), with an
    e-mail address, and without an unused, unexpired request already."""
    now = now or utcnow()
    today, limit = _limits(now, older_than_days)
    contacts = session.scalars(
        _stale_contacts(country_code, today, limit)
        .where(
            _has_text(ContactPerson.email),
            _no_open_request(ConfirmationRequest.contact_person_id, ContactPerson.id, now),
        )
        .order_by(ContactPerson.id)
    ).all()
    locations = session.scalars(
        _stale_locations(country_code, limit)
        .options(joinedload(Location.organization))
        .where(
            or_(_has_text(Location.email), _has_text(Organization.email)),
            _no_open_request(ConfirmationRequest.location_id, Location.id, now),
        )
        .order_by(Location.id)
    ).all()
    return [*contacts, *locations]


def stale_without_email(
    session: Session,
    country_code: str,
    older_than_days: int,
    *,
    now: dt.datetime | None = None,
) -> int:
    """How many records of the country are as stale as ``requests_for_stale`` asks but
    have no e-mail address (a place: neither its own nor its organization's), so no
    request can reach them: the secretariat has to phone them or find an address."""
    today, limit = _limits(now or utcnow(), older_than_days)
    contacts = _stale_contacts(country_code, today, limit).where(~_has_text(ContactPerson.email))
    locations = _stale_locations(country_code, limit).where(
        ~_has_text(Location.email), ~_has_text(Organization.email)
    )
    return sum(
        session.scalar(select(func.count()).select_from(query.subquery())) or 0
        for query in (contacts, locations)
    )


def state_of(request: ConfirmationRequest, now: dt.datetime | None = None) -> RequestState:
    if request.outcome == ConfirmationOutcome.CONFIRMED:
        return RequestState.CONFIRMED
    if request.outcome == ConfirmationOutcome.CORRECTED:
        return RequestState.CORRECTED
    if request.expires_at <= (now or utcnow()):
        return RequestState.EXPIRED
    return RequestState.WAITING


@dataclass(frozen=True, slots=True)
class RequestRow:
    """A request as the workspace lists it."""

    request: ConfirmationRequest
    record: Record | None
    state: RequestState


def recent_requests(
    session: Session, countries: Sequence[str] | None, *, limit: int = 100
) -> list[RequestRow]:
    """The latest requests (``countries`` None: every country), newest first."""
    statement = select(ConfirmationRequest).order_by(
        ConfirmationRequest.sent_at.desc(), ConfirmationRequest.id.desc()
    )
    if countries is not None:
        statement = statement.where(ConfirmationRequest.country_code.in_(list(countries)))
    now = utcnow()
    rows = []
    for request in session.scalars(statement.limit(limit)):
        rows.append(RequestRow(request, record_of(session, request), state_of(request, now)))
    return rows
