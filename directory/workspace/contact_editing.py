"""Adding and editing contact persons (issue 12, point 3): the form, "confirm as it is",
the history (personal data: only for ``Action.READ_CONTACTS``), archive and restore.

One current primary and one current alternate per country and network: a new or changed
contact whose period overlaps another one's in the same country, network and role is
refused beside the role field. There is no database constraint for it (the rule depends
on the dates), so ``find_duplicate`` checks under a transaction-level advisory lock on
(country, network, role): two people saving at the same moment are serialized, and the
second sees the first's contact.

Every write goes through ``access.require`` and ``directory.records`` (versions, audit).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from directory import records
from directory.accounts.models import ContactPerson, ContactRole
from directory.contacts.services import all_networks, find_country, fold
from directory.db import LOCALES, db
from directory.i18n.formatting import language_name
from directory.i18n.selection import current_language
from directory.imports.provenance import provenance
from directory.places.models import Location, Organization
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.contact_forms import ContactForm
from directory.workspace.organizations import conflicts, history_helpers, history_page
from directory.workspace.permissions import Action

# The languages offered as checkboxes (a contact's other languages are kept and offered).
CONTACT_LANGUAGES = (*LOCALES, "pt")


# --- the rule (no Flask) ----------------------------------------------------------------


def find_duplicate(
    session: Session,
    *,
    country_code: str,
    network_id: int,
    role: ContactRole,
    valid_from: dt.date,
    valid_to: dt.date | None,
    other_than: int | None = None,
) -> ContactPerson | None:
    """Another contact (not archived) for the same country, network and role whose period
    overlaps ``valid_from``–``valid_to`` (both days included; no end: still in office).

    Takes a lock on (country, network, role) until the transaction ends, so the check and
    the write that follows it cannot be interleaved with another editor's."""
    key = f"contact:{country_code}:{network_id}:{role.value}"
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    query = select(ContactPerson).where(
        ContactPerson.country_code == country_code,
        ContactPerson.network_id == network_id,
        ContactPerson.role == role,
        ContactPerson.archived_at.is_(None),
        or_(ContactPerson.valid_to.is_(None), ContactPerson.valid_to >= valid_from),
    )
    if valid_to is not None:
        query = query.where(ContactPerson.valid_from <= valid_to)
    if other_than is not None:
        query = query.where(ContactPerson.id != other_than)
    return session.scalars(query.order_by(ContactPerson.valid_from).limit(1)).first()


# --- the pages ----------------------------------------------------------------------------


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _contact_or_404(contact_id: int) -> ContactPerson:
    contact = db.session.get(ContactPerson, contact_id)
    if contact is None:
        abort(404)
    return contact


def _choices(form: ContactForm, country_code: str, contact: ContactPerson | None) -> None:
    language = current_language()
    networks = sorted(all_networks(db.session), key=lambda n: fold(n.name(language)))
    form.network.choices = [("", "—"), *((str(n.id), n.name(language)) for n in networks)]
    form.role.choices = [
        (ContactRole.PRIMARY.value, _("Primary")),
        (ContactRole.ALTERNATE.value, _("Alternate")),
    ]
    related = or_(
        Organization.sending_country_code == country_code,
        Organization.locations.any(Location.country_code == country_code),
    )
    offered = and_(related, Organization.archived_at.is_(None))
    if contact is not None and contact.organization_id is not None:
        offered = or_(offered, Organization.id == contact.organization_id)  # even archived
    organizations = db.session.execute(
        select(Organization.id, Organization.name)
        .where(offered)
        .order_by(func.lower(Organization.name))
    ).all()
    form.organization.choices = [("", "—"), *((str(o.id), o.name) for o in organizations)]
    codes = list(CONTACT_LANGUAGES)
    for code in contact.languages if contact is not None else []:
        if code not in codes:
            codes.append(code)
    form.languages.choices = [(code, language_name(code)) for code in codes]
    form.today = _today()


def _fill(form: ContactForm, contact: ContactPerson) -> None:
    form.version.data = str(contact.version)
    form.network.data = contact.network_id
    form.role.data = contact.role.value
    form.name.data = contact.name
    form.position.data = contact.position or ""
    form.organization.data = contact.organization_id
    form.email.data = contact.email or ""
    form.phone.data = contact.phone or ""
    form.languages.data = list(contact.languages)
    form.valid_from.data = contact.valid_from
    form.valid_to.data = contact.valid_to
    form.last_confirmed_at.data = contact.last_confirmed_at
    form.last_confirmed_by.data = contact.last_confirmed_by or ""


def _refuse_duplicate(form: ContactForm, country_code: str, other_than: int | None) -> bool:
    """Say beside the role field that the country has this contact already (True)."""
    changes = form.changes()
    duplicate = find_duplicate(
        db.session,
        country_code=country_code,
        network_id=changes["network_id"],
        role=changes["role"],
        valid_from=changes["valid_from"],
        valid_to=changes["valid_to"],
        other_than=other_than,
    )
    if duplicate is None:
        return False
    if duplicate.role == ContactRole.PRIMARY:
        message = _(
            "%(name)s is already the primary contact for this country and network in this "
            "period. Give that contact an end date first, or choose “alternate”.",
            name=duplicate.name,
        )
    else:
        message = _(
            "%(name)s is already the alternate contact for this country and network in this "
            "period. Give that contact an end date first, or choose “primary”.",
            name=duplicate.name,
        )
    form.role.errors = [*form.role.errors, message]
    return True


def _render(form: ContactForm, country: Any, contact: ContactPerson | None, **extra: Any):
    status = extra.pop("status", 200)
    country_name = country.name(current_language())
    if contact is None:
        heading = _("Add a contact person in %(country)s", country=country_name)
    else:
        heading = _("Edit %(name)s", name=contact.name)
    page = render_template(
        "workspace/contact_edit.html",
        heading=heading,
        form=form,
        country=country,
        country_name=country_name,
        contact=contact,
        **extra,
    )
    return page, status


@workspace.route("/contacts/<country_code>/new", methods=["GET", "POST"])
@policy(SEARCH)
def contact_new(country_code: str):
    country = find_country(db.session, country_code.upper())
    if country is None:
        abort(404)
    require(Action.CREATE, country.code)
    form = ContactForm()
    _choices(form, country.code, None)
    if request.method == "GET":
        form.valid_from.data = _today()
        return _render(form, country, None)
    if not form.validate_on_submit() or _refuse_duplicate(form, country.code, None):
        db.session.rollback()  # releases the advisory lock
        return _render(form, country, None, status=400)
    contact = ContactPerson(
        external_id=f"workspace:{uuid.uuid4().hex}", country_code=country.code, **form.changes()
    )
    records.create_record(db.session, contact, acting_user().id)  # type: ignore[union-attr]
    db.session.commit()
    flash(_("%(name)s is added.", name=contact.name), "info")
    return redirect(url_for("workspace.contacts_country", country_code=country.code))


@workspace.route("/contacts/person/<int:contact_id>/edit", methods=["GET", "POST"])
@policy(SEARCH)
def contact_edit(contact_id: int):
    contact = _contact_or_404(contact_id)
    require(Action.EDIT, contact)
    form = ContactForm()
    _choices(form, contact.country_code, contact)
    if request.method == "GET":
        _fill(form, contact)
        return _render(form, contact.country, contact)
    version = form.version.data or ""
    if (
        not form.validate_on_submit()
        or not version.isdigit()
        or _refuse_duplicate(form, contact.country_code, contact.id)
    ):
        db.session.rollback()
        contact = _contact_or_404(contact_id)
        return _render(form, contact.country, contact, status=400)
    return _save(form, contact, form.changes(), int(version))


def _save(form: ContactForm, contact: ContactPerson, changes: dict[str, Any], version: int):
    contact_id = contact.id
    try:
        records.apply_edit(
            db.session,
            contact,
            changes,
            expected_version=version,
            user_id=acting_user().id,  # type: ignore[union-attr]
        )
    except records.StaleEdit as error:
        db.session.rollback()
        contact = _contact_or_404(contact_id)
        form.version.data = str(error.version)
        stale = conflicts(error, changes)
        return _render(form, contact.country, contact, stale=stale, status=409)
    db.session.commit()
    flash(_("%(name)s is saved.", name=contact.name), "info")
    return redirect(url_for("workspace.contacts_country", country_code=contact.country_code))


@workspace.post("/contacts/person/<int:contact_id>/confirm")
@policy(SEARCH)
def contact_confirm(contact_id: int):
    """ "Confirm as it is": the contact is still right today, confirmed by the signed-in
    user; nothing else changes."""
    contact = _contact_or_404(contact_id)
    require(Action.EDIT, contact)
    version = request.form.get("version", "")  # (CSRFProtect checked the token already)
    if not version.isdigit():
        abort(400)
    form = ContactForm(formdata=None)
    _choices(form, contact.country_code, contact)
    _fill(form, contact)
    user = acting_user()
    changes = {"last_confirmed_at": _today(), "last_confirmed_by": user.name}  # type: ignore[union-attr]
    return _save(form, contact, changes, int(version))


def _archive_or_restore(contact_id: int, archiving: bool):
    contact = _contact_or_404(contact_id)
    require(Action.ARCHIVE, contact)
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400)
    back = url_for("workspace.contact_edit", contact_id=contact_id)
    if not archiving and (
        duplicate := find_duplicate(
            db.session,
            country_code=contact.country_code,
            network_id=contact.network_id,
            role=contact.role,
            valid_from=contact.valid_from,
            valid_to=contact.valid_to,
            other_than=contact.id,
        )
    ):
        db.session.rollback()
        flash(
            _(
                "%(name)s holds this role for this country and network now: give that "
                "contact an end date, or change this one's dates, before restoring it.",
                name=duplicate.name,
            ),
            "error",
        )
        return redirect(back)
    change = records.archive if archiving else records.restore
    try:
        change(db.session, contact, int(version), acting_user().id)  # type: ignore[union-attr]
    except records.StaleEdit:
        db.session.rollback()
        flash(
            _("Someone else changed this contact meanwhile: look at it again, then retry."), "error"
        )
        return redirect(back)
    db.session.commit()
    if archiving:
        flash(_("%(name)s is archived.", name=contact.name), "info")
    else:
        flash(_("%(name)s is restored.", name=contact.name), "info")
    return redirect(back)


@workspace.post("/contacts/person/<int:contact_id>/archive")
@policy(SEARCH)
def contact_archive(contact_id: int):
    return _archive_or_restore(contact_id, archiving=True)


@workspace.post("/contacts/person/<int:contact_id>/restore")
@policy(SEARCH)
def contact_restore(contact_id: int):
    return _archive_or_restore(contact_id, archiving=False)


@workspace.get("/contacts/person/<int:contact_id>/history")
@policy(SEARCH)
def contact_history(contact_id: int):
    """Every change of one contact person: personal data, so ``READ_CONTACTS`` only."""
    require(Action.READ_CONTACTS)
    contact = _contact_or_404(contact_id)
    return render_template(
        "workspace/contact_history.html",
        contact=contact,
        origin=provenance(db.session, contact),
        entries=history_page(ContactPerson, contact),
        **history_helpers(),
    )
