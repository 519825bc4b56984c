"""The forms of the confirmation page: "yes, it is right" (only its CSRF token) and the
correction of a contact person or of a location, prefilled with the record, checked on the
server with the message beside the field, every text with a maximum length."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from directory.accounts.models import ContactPerson
from directory.confirmations.services import hours_as_text
from directory.i18n.formatting import language_name
from directory.places.models import Location

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()./-]{5,30}(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$", re.I)
NOT_EMAIL = _l("This is not an e-mail address.")
NOT_PHONE = _l("Digits, with + and the country code: +52 55 1234 5678")
REQUIRED = _l("This field is required.")
# The languages a contact person may be reached in (the site's, and Portuguese).
CONTACT_LANGUAGES = ("es", "en", "fr", "ht", "pt")
COMMENT_MAX_LENGTH = 1500
HOURS_MAX_LENGTH = 300


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def phone_lines(text: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[\n;]", text or "") if part.strip()]


def _phones(_form: Any, field: Field) -> None:
    for phone in phone_lines(field.data):
        if not PHONE_PATTERN.match(phone):
            raise ValidationError(str(NOT_PHONE))


def _email_field() -> StringField:
    return StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=320), Regexp(EMAIL_PATTERN, message=NOT_EMAIL)],
        filters=[strip],
    )


def _comment_field() -> TextAreaField:
    return TextAreaField(
        _l("Anything else we should know (optional)"),
        validators=[Optional(), Length(max=COMMENT_MAX_LENGTH)],
        filters=[strip],
    )


class AnswerForm(FlaskForm):
    """ "Yes, it is right": nothing but the CSRF token."""


class ContactCorrectionForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(REQUIRED), Length(max=300)], filters=[strip]
    )
    position = StringField(
        lazy_pgettext("job", "Position"), validators=[Optional(), Length(max=300)], filters=[strip]
    )
    email = _email_field()
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=40), Regexp(PHONE_PATTERN, message=NOT_PHONE)],
        filters=[strip],
    )
    languages = SelectMultipleField(_l("Languages you can be reached in"), validators=[Optional()])
    comment = _comment_field()

    def prepare(self, contact: ContactPerson, *, fill: bool) -> None:
        """The language choices (the record's own codes kept), and the record's values when
        the form is shown the first time."""
        codes = list(CONTACT_LANGUAGES)
        codes.extend(code for code in contact.languages if code not in codes)
        self.languages.choices = [(code, language_name(code)) for code in codes]
        if fill:
            self.name.data = contact.name
            self.position.data = contact.position or ""
            self.email.data = contact.email or ""
            self.phone.data = contact.phone or ""
            self.languages.data = list(contact.languages)

    def submitted(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "position": self.position.data,
            "email": self.email.data,
            "phone": self.phone.data,
            "languages": list(self.languages.data or []),
        }


class LocationCorrectionForm(FlaskForm):
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)], filters=[strip])
    phones = TextAreaField(
        _l("Phones (one a line)"), validators=[Optional(), Length(max=500), _phones]
    )
    whatsapp = StringField(
        _l("WhatsApp"),
        validators=[Optional(), Length(max=40), Regexp(PHONE_PATTERN, message=NOT_PHONE)],
        filters=[strip],
    )
    email = _email_field()
    hours = TextAreaField(
        _l("Opening hours"),
        validators=[Optional(), Length(max=HOURS_MAX_LENGTH)],
        filters=[strip],
    )
    comment = _comment_field()

    def prepare(self, location: Location, *, fill: bool) -> None:
        if fill:
            self.address.data = location.address or ""
            self.phones.data = "\n".join(location.phones)
            self.whatsapp.data = location.whatsapp or ""
            self.email.data = location.email or ""
            self.hours.data = hours_as_text(location.opening_hours)

    def submitted(self) -> dict[str, Any]:
        return {
            "address": self.address.data,
            "phones": phone_lines(self.phones.data),
            "whatsapp": self.whatsapp.data,
            "email": self.email.data,
            "hours": self.hours.data,
        }
