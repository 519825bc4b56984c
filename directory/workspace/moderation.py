"""The moderation queue (issue 13, point 2): suggested corrections from the public and from
confirmation links, per country, waiting for a person.

A focal point sees and decides its own country's suggestions; the secretariat every
country's, with a filter. Each suggestion page shows the record's values now beside the
proposed ones in a form the moderator may change before accepting ("edit, then accept");
accepting applies them through the audited edit (``suggestions.services.accept``), and
rejecting changes nothing on the record. Every decision asks ``access.require`` first
(403, audited) with the suggestion's record as the target.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from directory.accounts.models import ContactPerson, User
from directory.db import OperationalStatus, db
from directory.i18n.selection import current_language
from directory.places.models import Country, Location
from directory.public.suggest import KIND_LABELS as PUBLIC_KIND_LABELS
from directory.records.audit import field_value
from directory.suggestions import services
from directory.suggestions.models import (
    ChangeSuggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionVia,
)
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.location_forms import STATUS_LABELS
from directory.workspace.locations import field_label as location_field_label
from directory.workspace.locations import shown
from directory.workspace.permissions import Action, can

KIND_LABELS = {
    **PUBLIC_KIND_LABELS,
    SuggestionKind.CORRECTION: _l("Corrected through a confirmation link"),
}
VIA_LABELS = {
    SuggestionVia.PUBLIC: _l("From the public page"),
    SuggestionVia.CONFIRMATION: _l("From a confirmation link"),
}
DECISION_LABELS = {
    SuggestionStatus.PENDING: _l("Waiting"),
    SuggestionStatus.ACCEPTED: _l("Accepted"),
    SuggestionStatus.REJECTED: _l("Rejected"),
}
CONTACT_FIELD_LABELS = {
    "name": _l("Name"),
    "position": _l("Position"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "languages": _l("Languages"),
}
PROBLEMS = {
    services.Problem.NOTE_TOO_LONG: _l(
        "This note is too long: at most %(count)s characters.", count=services.NOTE_MAX_LENGTH
    ),
    services.Problem.VALUE_REQUIRED: _l("This field is required."),
    services.Problem.VALUE_TOO_LONG: _l("This is too long."),
    services.Problem.STATUS_UNKNOWN: _l("Choose from the list."),
    services.Problem.NOT_A_NUMBER: _l("A whole number, or leave it empty."),
    services.Problem.NOT_LANGUAGE_CODES: _l(
        "Language codes of two or three letters, separated by commas: es, en, fr"
    ),
    services.Problem.NOT_HOURS: _l("These opening hours cannot be read."),
}
# Kinds whose change needs the record's own edit page (a new address and point, a week).
NEEDS_EDIT_PAGE = frozenset({SuggestionKind.MOVED, SuggestionKind.HOURS, SuggestionKind.OTHER})


def field_label(record: Any, name: str) -> str:
    if isinstance(record, ContactPerson):
        return str(CONTACT_FIELD_LABELS.get(name, name.replace("_", " ")))
    return location_field_label(name)


def _value_now(record: Any, name: str) -> Any:
    """A field's value now as a snapshot holds it (None for a name the record lacks)."""
    return field_value(record, name) if hasattr(record, name) else None


def record_name(record: Any) -> str:
    if isinstance(record, Location):
        return f"{record.display_name} ({record.city})"
    return str(record.name)


def _suggestion_or_404(suggestion_id: int) -> tuple[ChangeSuggestion, Location | ContactPerson]:
    suggestion = db.session.get(ChangeSuggestion, suggestion_id)
    if suggestion is None:
        abort(404)
    return suggestion, services.record_of(db.session, suggestion)


def _history_url(record: Location | ContactPerson) -> str:
    if isinstance(record, Location):
        return url_for("workspace.location_history", location_id=record.id)
    return url_for("workspace.contact_history", contact_id=record.id)


def _country_names() -> dict[str, str]:
    language = current_language()
    return {country.code: country.name(language) for country in db.session.scalars(select(Country))}


@workspace.context_processor
def moderation_globals() -> dict[str, Any]:
    """``pending_suggestions()`` for the home page: how many wait in what the user moderates
    (0 for whoever moderates nothing)."""

    def pending_suggestions() -> int:
        user = acting_user()
        if not can(user, Action.MODERATE):
            return 0
        assert user is not None
        counts = services.pending_counts(db.session, user.country_code)
        return sum(counts.values())

    return {"pending_suggestions": pending_suggestions}


@workspace.get("/suggestions")
@policy(SEARCH)
def suggestions():
    """The queue: pending suggestions oldest first, then the latest decisions."""
    require(Action.MODERATE)
    user = acting_user()
    assert user is not None
    chosen = request.args.get("country", "").strip().upper()[:2]
    country = user.country_code or (chosen if chosen.isalpha() and len(chosen) == 2 else None)
    waiting = services.pending(db.session, country)
    decided = services.recent_decisions(db.session, country)
    records = {item.id: services.record_of(db.session, item) for item in (*waiting, *decided)}
    names = _country_names()
    counts = services.pending_counts(db.session, user.country_code)
    return render_template(
        "workspace/moderation.html",
        waiting=waiting,
        decided=decided,
        records=records,
        record_name=record_name,
        record_field_label=field_label,
        record_value=_value_now,
        shown=shown,
        country=country,
        country_names=names,
        counts=counts,
        scoped=user.country_code is not None,
        kind_labels=KIND_LABELS,
        via_labels=VIA_LABELS,
        decision_labels=DECISION_LABELS,
        age_in_days=services.age_in_days,
    )


def _render(
    suggestion: ChangeSuggestion,
    record: Location | ContactPerson,
    status: int = 200,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    note: str = "",
    note_error: str | None = None,
    problem: str | None = None,
):
    proposal = services.starting_proposal(suggestion)
    fields = services.field_views(record, proposal)
    starts = {
        view.name: services.form_text(view.kind, view.proposed)
        for view in fields
        if view.in_form and view.kind is not None
    }
    decider = db.session.get(User, suggestion.decided_by) if suggestion.decided_by else None
    history_url = _history_url(record)
    edit_url = (
        url_for("workspace.location_edit", location_id=record.id)
        if isinstance(record, Location)
        else url_for("workspace.contact_edit", contact_id=record.id)
    )
    context = {
        "suggestion": suggestion,
        "record": record,
        "is_location": isinstance(record, Location),
        "record_name": record_name(record),
        "fields": fields,
        "starts": starts,
        "values": values or starts,
        "errors": errors or {},
        "note": note,
        "note_error": note_error,
        "problem": problem,
        "decider": decider,
        "history_url": history_url,
        "edit_url": edit_url,
        "needs_edit_page": suggestion.kind in NEEDS_EDIT_PAGE,
        "field_label": lambda name: field_label(record, name),
        "shown": shown,
        "FieldKind": services.FieldKind,
        "status_choices": [(key.value, label) for key, label in STATUS_LABELS.items()],
        "status_labels": {key.value: label for key, label in STATUS_LABELS.items()},
        "kind_labels": KIND_LABELS,
        "via_labels": VIA_LABELS,
        "decision_labels": DECISION_LABELS,
        "age_in_days": services.age_in_days,
        "note_max": services.NOTE_MAX_LENGTH,
        "OperationalStatus": OperationalStatus,
    }
    return render_template("workspace/moderation_suggestion.html", **context), status


@workspace.get("/suggestions/<int:suggestion_id>")
@policy(SEARCH)
def suggestion(suggestion_id: int):
    item, record = _suggestion_or_404(suggestion_id)
    require(Action.MODERATE, record)
    return _render(item, record)


def _already_decided(item: ChangeSuggestion, record: Location | ContactPerson):
    db.session.rollback()
    item, record = _suggestion_or_404(item.id)
    return _render(
        item,
        record,
        409,
        problem=_("This suggestion was decided already; nothing was changed."),
    )


@workspace.post("/suggestions/<int:suggestion_id>/accept")
@policy(SEARCH)
def suggestion_accept(suggestion_id: int):
    item, record = _suggestion_or_404(suggestion_id)
    require(Action.MODERATE, record)
    user = acting_user()
    assert user is not None
    note = request.form.get("note", "")
    values = {
        name.removeprefix("field-"): value
        for name, value in request.form.items()
        if name.startswith("field-")
    }
    if item.status != SuggestionStatus.PENDING:
        return _already_decided(item, record)
    try:
        changes = services.changes_from_form(item, record, request.form)
        services.accept(db.session, item, user, changes, note=note)
    except services.InvalidSuggestion as invalid:
        db.session.rollback()
        item, record = _suggestion_or_404(suggestion_id)
        errors = {name: str(PROBLEMS[problem]) for name, problem in invalid.problems.items()}
        note_error = errors.pop("note", None)
        return _render(
            item,
            record,
            400,
            values=values,
            errors=errors,
            note=note[: services.NOTE_MAX_LENGTH * 2],
            note_error=note_error,
        )
    except services.AlreadyDecided:
        return _already_decided(item, record)
    db.session.commit()
    flash(
        Markup('{} <a href="{}">{}</a>').format(
            _("Accepted: the change is applied."),
            _history_url(record),
            _("See the record's history"),
        ),
        "info",
    )
    return redirect(url_for("workspace.suggestions"))


@workspace.post("/suggestions/<int:suggestion_id>/reject")
@policy(SEARCH)
def suggestion_reject(suggestion_id: int):
    item, record = _suggestion_or_404(suggestion_id)
    require(Action.MODERATE, record)
    user = acting_user()
    assert user is not None
    note = request.form.get("note", "")
    if item.status != SuggestionStatus.PENDING:
        return _already_decided(item, record)
    try:
        services.reject(db.session, item, user, note=note)
    except services.InvalidSuggestion as invalid:
        db.session.rollback()
        item, record = _suggestion_or_404(suggestion_id)
        return _render(
            item,
            record,
            400,
            note=note[: services.NOTE_MAX_LENGTH * 2],
            note_error=str(PROBLEMS[invalid.problems["note"]]),
        )
    except services.AlreadyDecided:
        return _already_decided(item, record)
    db.session.commit()
    flash(_("Rejected: the record was not changed."), "info")
    return redirect(url_for("workspace.suggestions"))
