"""Editing organizations (issue 12, point 3): the list of those the user may edit, the edit
form, the history, archive and restore.

Every write goes through ``access.require`` first (403, audited, when ``permissions.can``
refuses) and through ``directory.records`` (the version the editor started from travels
with the form; a stale edit is refused with the current values; an audit entry in the same
transaction). Archiving an organization takes its places out of every public search.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from directory import records
from directory.contacts.services import MAX_QUERY_LENGTH, all_networks, fold
from directory.db import CONSULAR_KINDS, LOCALES, db
from directory.i18n.formatting import language_name
from directory.i18n.selection import current_language
from directory.imports.provenance import provenance
from directory.places.kinds import KINDS
from directory.places.models import Country, Location, Network, Organization
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.organization_forms import OrganizationForm, description_field
from directory.workspace.permissions import Action, can

# How many organizations the list shows at most (a search narrows it).
LIST_LIMIT = 100

# How a history or a conflict names each field (both records' fields).
FIELD_NAMES = {
    "name": _l("Name"),
    "kind": _l("Kind"),
    "sending_country_code": _l("Sending country"),
    "website": _l("Website"),
    "email": _l("E-mail"),
    "networks": _l("Networks"),
    "also_serves": _l("Also serves"),
    "descriptions": _l("Description"),
    "description_language": _l("Language the description was written in"),
    "archived_at": _l("Archived"),
    "slug": _l("Address name"),
    "network_id": _l("Network"),
    "organization_id": _l("Institution"),
    "country_code": _l("Country"),
    "role": _l("Role"),
    "position": _l("Position"),
    "phone": _l("Phone"),
    "languages": _l("Languages"),
    "valid_from": _l("Valid from"),
    "valid_to": _l("Valid to"),
    "last_confirmed_at": _l("Last confirmed"),
    "last_confirmed_by": _l("Confirmed by"),
    "external_id": _l("Reference"),
}

# Fields that hold a day (a snapshot has them as ISO text).
DATE_FIELDS = frozenset({"valid_from", "valid_to", "last_confirmed_at"})

ACTION_NAMES = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "archive": _l("Archived"),
    "restore": _l("Restored"),
    "import": _l("Imported"),
}


def field_name(field: str) -> str:
    """A field as people call it; "descriptions.fr" is "Description (French)"."""
    base, _dot, key = field.partition(".")
    name = str(FIELD_NAMES.get(base, base))
    return f"{name} ({language_name(key)})" if key else name


def shown_value(field: str, value: Any) -> str:
    """A snapshot's value as a person reads it: a kind's label, a country's or a network's
    name, a language's name, a list joined; "—" for nothing."""
    base = field.partition(".")[0]
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(shown_value(base, item) for item in value)
    if base == "kind" and value in KINDS:
        return str(KINDS[value].label)
    if base in ("sending_country_code", "country_code", "also_serves"):
        country = db.session.get(Country, value)
        return country.name(current_language()) if country else str(value)
    if base in ("description_language", "languages"):
        return language_name(str(value))
    if base in ("networks", "network_id"):
        column = Network.code if isinstance(value, str) else Network.id
        network = db.session.scalar(select(Network).where(column == value))
        return network.name(current_language()) if network else str(value)
    if base == "organization_id":
        organization = db.session.get(Organization, value)
        return organization.name if organization else str(value)
    if base in DATE_FIELDS and isinstance(value, str):
        try:
            return format_date(dt.date.fromisoformat(value[:10]), "medium")
        except ValueError:
            return value
    if base == "role":
        return str(_l("Primary")) if value == "primary" else str(_l("Alternate"))
    if isinstance(value, dict):
        return "; ".join(f"{language_name(key)}: {text}" for key, text in value.items())
    return str(value)


def conflicts(error: records.StaleEdit, submitted: dict[str, Any]) -> list[dict[str, str]]:
    """What someone else changed while this editor was at work, worded for the page:
    each field with its value now and the value this editor submitted."""
    listed = []
    for stale in records.stale_fields(error.current, submitted, changed=error.changed):
        listed.append(
            {
                "field": field_name(stale.field),
                "current": shown_value(stale.field, stale.current),
                "submitted": shown_value(stale.field, stale.submitted),
            }
        )
    if not listed:  # they changed fields this editor did not touch: name them
        for field, value in error.changed.items():
            listed.append(
                {
                    "field": field_name(field),
                    "current": shown_value(field, value),
                    "submitted": "",
                }
            )
    return listed


def history_page(entity: type[Any], record: Any) -> list[dict[str, Any]]:
    """The record's changes with the names of the people who made them."""
    from directory.accounts.models import User

    changes = records.history(db.session, entity, record.id)
    ids = {change.user_id for change in changes if change.user_id is not None}
    names = (
        {
            row.id: row.name
            for row in db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        }
        if ids
        else {}
    )
    return [
        {
            "change": change,
            "action": str(ACTION_NAMES.get(change.action, change.action)),
            "who": names.get(change.user_id) if change.user_id else None,
        }
        for change in reversed(changes)
    ]


def history_helpers() -> dict[str, Any]:
    return {"field_name": field_name, "shown_value": shown_value}


def _organization_or_404(organization_id: int) -> Organization:
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        abort(404)
    return organization


def _country_names() -> list[tuple[str, str]]:
    language = current_language()
    countries = db.session.scalars(select(Country)).all()
    return sorted(
        ((country.code, country.name(language)) for country in countries),
        key=lambda pair: fold(pair[1]),
    )


def _choices(form: OrganizationForm, organization: Organization) -> None:
    language = current_language()
    form.kind.choices = [(kind.value, str(entry.label)) for kind, entry in KINDS.items()]
    form.sending_country.choices = [("", "—"), *_country_names()]
    networks = sorted(all_networks(db.session), key=lambda n: fold(n.name(language)))
    form.networks.choices = [(network.id, network.name(language)) for network in networks]
    languages = list(LOCALES)
    original = organization.description_language
    if original and original not in languages:
        languages.append(original)
    form.description_language.choices = [
        ("", "—"),
        *((code, language_name(code)) for code in languages),
    ]
    form.kept_descriptions = {
        code: text
        for code, text in (organization.descriptions or {}).items()
        if code not in LOCALES
    }


def _fill(form: OrganizationForm, organization: Organization) -> None:
    form.version.data = str(organization.version)
    form.name.data = organization.name
    form.kind.data = organization.kind.value
    form.sending_country.data = organization.sending_country_code or ""
    form.website.data = organization.website or ""
    form.email.data = organization.email or ""
    form.networks.data = [network.id for network in organization.networks]
    for language in LOCALES:
        text = (organization.descriptions or {}).get(language, "")
        getattr(form, description_field(language)).data = text
    form.description_language.data = organization.description_language or ""


def _chosen_networks(form: OrganizationForm) -> list[Network]:
    ids = form.networks.data or []
    if not ids:
        return []
    return list(db.session.scalars(select(Network).where(Network.id.in_(ids))))


@workspace.get("/organizations")
@policy(SEARCH)
def organizations():
    """The organizations the user may edit (archived ones marked, with restore), searched
    by name and filtered by country (of its places, or the country running a consulate)."""
    require(Action.READ)
    user = acting_user()
    language = current_language()
    q = request.args.get("q", "")[:MAX_QUERY_LENGTH].strip()
    country = request.args.get("country", "").strip().upper()
    countries = _country_names()
    error = None
    if country and country not in dict(countries):
        error = _("Choose a country from the list.")
    query = (
        select(Organization)
        .options(selectinload(Organization.locations), selectinload(Organization.networks))
        .order_by(Organization.archived_at.is_not(None), func.lower(Organization.name))
    )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            func.immutable_unaccent(func.lower(Organization.name)).ilike(
                func.immutable_unaccent(func.lower(pattern))
            )
        )
    if country and not error:
        query = query.where(
            or_(
                Organization.sending_country_code == country,
                Organization.locations.any(Location.country_code == country),
            )
        )
    found = [] if error else [o for o in db.session.scalars(query) if can(user, Action.EDIT, o)]
    return render_template(
        "workspace/organization_list.html",
        organizations=found[:LIST_LIMIT],
        more=max(0, len(found) - LIST_LIMIT),
        q=q,
        country=country,
        countries=countries,
        error=error,
        kinds=KINDS,
        language=language,
        countries_of=lambda o: sorted(
            {location.country_code for location in o.locations}
            | ({o.sending_country_code} if o.sending_country_code else set())
        ),
    )


def _render_edit(form: OrganizationForm, organization: Organization, **extra: Any):
    status = extra.pop("status", 200)
    page = render_template(
        "workspace/organization_edit.html",
        form=form,
        organization=organization,
        consular_kinds=[kind.value for kind in CONSULAR_KINDS],
        **extra,
    )
    return page, status


@workspace.route("/organizations/<int:organization_id>/edit", methods=["GET", "POST"])
@policy(SEARCH)
def organization_edit(organization_id: int):
    organization = _organization_or_404(organization_id)
    require(Action.EDIT, organization)
    form = OrganizationForm()
    _choices(form, organization)
    if request.method == "GET":
        _fill(form, organization)
        return _render_edit(form, organization)
    if not form.validate_on_submit() or not (form.version.data or "").isdigit():
        return _render_edit(form, organization, status=400)
    changes = form.changes(_chosen_networks(form))
    try:
        records.apply_edit(
            db.session,
            organization,
            changes,
            expected_version=int(form.version.data or 0),
            user_id=acting_user().id,  # type: ignore[union-attr]
        )
    except records.StaleEdit as error:
        db.session.rollback()
        organization = _organization_or_404(organization_id)
        form.version.data = str(error.version)
        return _render_edit(
            form, organization, stale=conflicts(error, changes), current=error.current, status=409
        )
    db.session.commit()
    flash(_("The organization is saved."), "info")
    return redirect(url_for("workspace.organization_edit", organization_id=organization.id))


def _archive_or_restore(organization_id: int, archiving: bool):
    organization = _organization_or_404(organization_id)
    require(Action.ARCHIVE, organization)
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400)
    change = records.archive if archiving else records.restore
    try:
        change(db.session, organization, int(version), acting_user().id)  # type: ignore[union-attr]
    except records.StaleEdit:
        db.session.rollback()
        flash(
            _("Someone else changed this organization meanwhile: look at it again, then retry."),
            "error",
        )
        return redirect(url_for("workspace.organization_edit", organization_id=organization_id))
    db.session.commit()
    if archiving:
        flash(
            _("%(name)s is archived: its places left the public searches.", name=organization.name),
            "info",
        )
    else:
        flash(_("%(name)s is restored.", name=organization.name), "info")
    back = request.form.get("back") == "list"
    if back:
        return redirect(url_for("workspace.organizations"))
    return redirect(url_for("workspace.organization_edit", organization_id=organization_id))


@workspace.post("/organizations/<int:organization_id>/archive")
@policy(SEARCH)
def organization_archive(organization_id: int):
    return _archive_or_restore(organization_id, archiving=True)


@workspace.post("/organizations/<int:organization_id>/restore")
@policy(SEARCH)
def organization_restore(organization_id: int):
    return _archive_or_restore(organization_id, archiving=False)


@workspace.get("/organizations/<int:organization_id>/history")
@policy(SEARCH)
def organization_history(organization_id: int):
    organization = _organization_or_404(organization_id)
    require(Action.READ, organization)
    return render_template(
        "workspace/organization_history.html",
        organization=organization,
        origin=provenance(db.session, organization),
        entries=history_page(Organization, organization),
        **history_helpers(),
    )
