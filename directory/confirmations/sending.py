"""Sending a confirmation request: the row, its link, the e-mail in the recipient's
language, handed to SMTP or the outbox. Shared by the workspace's buttons and
``flask confirm send``.

It needs an app context (the e-mail is a template rendered under the recipient's locale),
not a request: links are made on a base URL given by the caller (the request's own address
in the workspace, ``--base-url`` on the command line), since a command has no host.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson, User
from directory.confirmations.models import ConfirmationRequest
from directory.confirmations.services import Record, create_request, make_token
from directory.i18n.formatting import MONTHS, has_cldr_dates
from directory.mail import Delivery, MailSettings, build_message, send, settings_from

# The public page a link opens (directory/public/confirm.py).
CONFIRM_PATH = "/confirm/"


@dataclass(frozen=True, slots=True)
class Sent:
    request: ConfirmationRequest
    delivery: Delivery
    link: str


def mail_settings() -> MailSettings:
    """The app's mail settings (``SMTP_URL``, ``MAIL_FROM``, ``OUTBOX_DIR``)."""
    return settings_from(current_app.config, current_app.instance_path)


def link_for(base_url: str, token: str, language: str) -> str:
    """The absolute link of a request; it opens the page in the request's language."""
    return f"{base_url.rstrip('/')}{CONFIRM_PATH}{token}?lang={language}"


def send_request(
    session: Session,
    record: Record,
    *,
    sender: User | None,
    base_url: str,
    settings: MailSettings | None = None,
) -> Sent:
    """Make a request for ``record`` and send its e-mail (flushed; the caller commits).
    Raises ``NoEmail`` for a record without an address, ``MailError`` when the SMTP server
    refuses (the caller rolls back: the request was never sent)."""
    settings = settings or mail_settings()
    request = create_request(session, record, sent_by=sender.id if sender else None)
    token = make_token(current_app.config["SECRET_KEY"], request)
    link = link_for(base_url, token, request.language)
    with force_locale(request.language):
        subject = _("Is your entry in the Protection Directory still right?")
        body = render_template(
            "confirm/email.txt",
            record=record,
            is_contact=isinstance(record, ContactPerson),
            link=link,
            valid_until=_long_date(
                (request.expires_at - dt.timedelta(seconds=1)).date(), request.language
            ),
            sender=sender,
            language=request.language,
        )
    message = build_message(
        sender=settings.sender,
        to=request.email,
        subject=subject,
        body=body,
        language=request.language,
    )
    return Sent(request, send(message, settings), link)


def _long_date(value: dt.date, language: str) -> str:
    """A date as the recipient reads it (``long_date`` follows the page, not the e-mail)."""
    if has_cldr_dates(language):
        return format_date(value, "long", locale=language)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
