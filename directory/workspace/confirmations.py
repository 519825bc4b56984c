"""Confirmation requests in the workspace (issue 13, point 1): the "Send a confirmation
request" buttons of a contact person and of a location, the bulk page ("everything not
confirmed for N months in my country"), the list of recent requests and their state, and
the outbox (the e-mails kept when no SMTP server is configured; secretariat only).

Links are made on the address this request came to (behind a proxy, ``TRUSTED_PROXIES``
makes it the public one), so the recipient opens the site the sender was using.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from directory.accounts.models import ContactPerson
from directory.confirmations.sending import mail_settings, send_request
from directory.confirmations.services import (
    NoEmail,
    Record,
    RequestState,
    recent_requests,
    requests_for_stale,
    stale_without_email,
)
from directory.db import db
from directory.i18n.selection import current_language
from directory.mail import MailError, body_text, outbox, read_outbox
from directory.places.models import Country, Location
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.permissions import Action, can

# Requests one POST of the bulk page sends at most (the rest: press the button again, or
# `flask confirm send` on the command line).
BULK_LIMIT = 200
DEFAULT_MONTHS = 12
STATE_NAMES = {
    RequestState.WAITING: _l("Waiting"),
    RequestState.CONFIRMED: _l("Confirmed"),
    RequestState.CORRECTED: _l("Corrected"),
    RequestState.EXPIRED: _l("Expired"),
}


def _base_url() -> str:
    return request.url_root


def _send_one(record: Record, back: str):
    """Send ``record`` a request, flash what happened, and go back to its page."""
    try:
        sent = send_request(db.session, record, sender=acting_user(), base_url=_base_url())
    except NoEmail:
        db.session.rollback()
        flash(_("No request was sent: this record has no e-mail address. Add one first."), "error")
        return redirect(back)
    except MailError:
        db.session.rollback()
        flash(
            _("No request was sent: the mail server refused the message. Try again later."), "error"
        )
        return redirect(back)
    db.session.commit()
    flash(
        _(
            "A confirmation request was sent to %(email)s. The link is valid for 14 days.",
            email=sent.request.email,
        )
    )
    return redirect(back)


@workspace.post("/contacts/<int:contact_id>/confirmation-request")
@policy(SEARCH)
def contact_confirmation_request(contact_id: int):
    contact = db.session.get(ContactPerson, contact_id)
    if contact is None or contact.archived_at is not None:
        abort(404)
    require(Action.REQUEST_CONFIRMATION, contact)
    return _send_one(contact, url_for("workspace.contact_edit", contact_id=contact.id))


@workspace.post("/locations/<int:location_id>/confirmation-request")
@policy(SEARCH)
def location_confirmation_request(location_id: int):
    location = db.session.get(Location, location_id)
    if location is None or location.archived_at is not None:
        abort(404)
    require(Action.REQUEST_CONFIRMATION, location)
    return _send_one(location, url_for("workspace.location_edit", location_id=location.id))


def _countries() -> list[Country]:
    """The countries the user may send requests in (a focal point: its own)."""
    user = acting_user()
    language = current_language()
    countries = db.session.scalars(select(Country)).all()
    allowed = [c for c in countries if can(user, Action.REQUEST_CONFIRMATION, c.code)]
    return sorted(allowed, key=lambda c: c.name(language))


def _months() -> int:
    raw = request.values.get("months", str(DEFAULT_MONTHS)).strip()
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 120 else DEFAULT_MONTHS


@workspace.route("/confirmation-requests", methods=["GET", "POST"])
@policy(SEARCH)
def confirmation_requests():
    """Choose a country and an age, see how many records that is, send them requests;
    below, the latest requests and their state."""
    require(Action.REQUEST_CONFIRMATION)
    countries = _countries()
    codes = [c.code for c in countries]
    chosen = request.values.get("country", "").strip().upper()[:2]
    if chosen and chosen not in codes:
        require(Action.REQUEST_CONFIRMATION, chosen)  # a country not one's own: 403
        abort(404)  # (a country that does not exist)
    months = _months()
    days = round(months * 365 / 12)
    if request.method == "POST":
        if not chosen:
            flash(_("Choose a country."), "error")
            return redirect(url_for("workspace.confirmation_requests", months=months))
        records = requests_for_stale(db.session, chosen, days)
        sent = 0
        settings = mail_settings()
        for record in records[:BULK_LIMIT]:
            try:
                send_request(
                    db.session,
                    record,
                    sender=acting_user(),
                    base_url=_base_url(),
                    settings=settings,
                )
            except MailError:
                db.session.rollback()
                flash(
                    _("The mail server refused a message: nothing was sent. Try again later."),
                    "error",
                )
                return redirect(url_for("workspace.confirmation_requests", country=chosen))
            sent += 1
        db.session.commit()
        left = max(0, len(records) - BULK_LIMIT)
        message = _("%(count)s confirmation requests were sent.", count=sent)
        if left:
            message += " " + _("%(count)s more are waiting: send again.", count=left)
        flash(message)
        return redirect(url_for("workspace.confirmation_requests", country=chosen, months=months))
    preview = len(requests_for_stale(db.session, chosen, days)) if chosen else None
    unreachable = stale_without_email(db.session, chosen, days) if chosen else 0
    user = acting_user()
    scope = None if user is not None and user.country_code is None else codes
    return render_template(
        "workspace/confirm_requests.html",
        countries=countries,
        chosen=chosen,
        chosen_name=next((c.name(current_language()) for c in countries if c.code == chosen), ""),
        months=months,
        preview=preview,
        unreachable=unreachable,
        bulk_limit=BULK_LIMIT,
        rows=recent_requests(db.session, scope),
        state_names=STATE_NAMES,
        uses_smtp=mail_settings().uses_smtp,
        language=current_language(),
    )


@workspace.get("/outbox")
@policy(SEARCH)
def outbox_list():
    """The e-mails kept in the outbox, newest first (or a note that SMTP is used)."""
    require(Action.READ_OUTBOX)
    settings = mail_settings()
    entries = [] if settings.uses_smtp else outbox(settings.outbox_dir)
    return render_template(
        "workspace/outbox.html",
        uses_smtp=settings.uses_smtp,
        where=settings.describe(),
        entries=entries,
    )


@workspace.get("/outbox/<name>")
@policy(SEARCH)
def outbox_message(name: str):
    require(Action.READ_OUTBOX)
    settings = mail_settings()
    message = read_outbox(settings.outbox_dir, name)
    if message is None:
        abort(404)
    return render_template(
        "workspace/outbox_message.html",
        name=name,
        headers=[
            (header, str(message.get(header, ""))) for header in ("From", "To", "Subject", "Date")
        ],
        body=body_text(message),
    )
