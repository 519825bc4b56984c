"""The contact-person form (issue 12, point 3): what a country names for a network, checked
on the server with a message beside each field (the database's rules too: an end date
not before the start). The view fills in the choices and checks for a duplicate.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from directory.accounts.models import ContactRole
from directory.workspace.forms import REQUIRED
from directory.workspace.organization_forms import EMAIL_PATTERN, NOT_EMAIL, strip

# Digits with the usual separators, an optional leading "+" and an extension.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()./-]{5,30}(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$", re.I)
NOT_A_DATE = _l("Give a date (year-month-day).")
NOT_A_CHOICE = _l("Choose from the list.")
NOT_PHONE = _l("Digits, with + and the country code: +52 55 1234 5678")


def _optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value) if str(value).isdigit() else -1  # -1: not a choice, said beside it


class ContactForm(FlaskForm):
    """A contact person: network and role, who, how to reach them, since when and until
    when, and when somebody last confirmed it."""

    version = HiddenField()
    network = SelectField(_l("Network"), coerce=_optional_int, validators=[DataRequired(REQUIRED)])
    role = SelectField(_l("Role"), validators=[DataRequired(REQUIRED)])
    name = StringField(
        _l("Name"), validators=[DataRequired(REQUIRED), Length(max=300)], filters=[strip]
    )
    position = StringField(
        _l("Position"), validators=[Optional(), Length(max=300)], filters=[strip]
    )
    organization = SelectField(_l("Institution"), coerce=_optional_int, validators=[Optional()])
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=320), Regexp(EMAIL_PATTERN, message=NOT_EMAIL)],
        filters=[strip],
    )
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(
                PHONE_PATTERN, message=_l("Digits, with + for the country code: +52 55 1234 5678")
            ),
        ],
        filters=[strip],
    )
    languages = SelectMultipleField(_l("Languages"), validators=[Optional()])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired(REQUIRED)])
    valid_to = DateField(_l("Valid to"), validators=[Optional()])
    last_confirmed_at = DateField(_l("Last confirmed"), validators=[Optional()])
    last_confirmed_by = StringField(
        _l("Confirmed by"), validators=[Optional(), Length(max=200)], filters=[strip]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for select in (self.network, self.role, self.organization, self.languages):
            select.validate_choice = False  # checked in ``validate``, in our words

    # "Today" for the checks (set by the view: the day in UTC, as the contact pages use).
    today: dt.date = dt.date.min

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        # A date that cannot be read, and a choice not in the list, are said in our words
        # (WTForms' own messages have no Haitian Creole).
        for date_field in (self.valid_from, self.valid_to, self.last_confirmed_at):
            if date_field.raw_data and date_field.raw_data[0] and date_field.data is None:
                date_field.errors = [str(NOT_A_DATE)]
                valid = False
        for select in (self.network, self.role, self.organization):
            allowed = {select.coerce(value) for value, _label in select.choices}  # type: ignore[union-attr]
            if select.data not in allowed and not select.errors:
                select.errors = [str(NOT_A_CHOICE)]
                valid = False
        known = {value for value, _label in self.languages.choices}  # type: ignore[union-attr]
        if any(code not in known for code in self.languages.data or []):
            self.languages.errors = [str(NOT_A_CHOICE)]
            valid = False
        start, end = self.valid_from.data, self.valid_to.data
        if start and end and end < start:
            self.valid_to.errors = [
                *self.valid_to.errors,
                str(_l("The end comes before the start.")),
            ]
            valid = False
        confirmed = self.last_confirmed_at.data
        if confirmed and confirmed > self.today:
            self.last_confirmed_at.errors = [
                *self.last_confirmed_at.errors,
                str(_l("This date has not come yet.")),
            ]
            valid = False
        if self.last_confirmed_by.data and not confirmed:
            self.last_confirmed_at.errors = [
                *self.last_confirmed_at.errors,
                str(_l("Give the date it was confirmed.")),
            ]
            valid = False
        return valid

    def changes(self) -> dict[str, Any]:
        """What ``create_record`` or ``apply_edit`` writes."""
        return {
            "network_id": self.network.data,
            "role": ContactRole(self.role.data),
            "name": self.name.data,
            "position": self.position.data or None,
            "organization_id": self.organization.data,
            "email": self.email.data or None,
            "phone": self.phone.data or None,
            "languages": list(self.languages.data or []),
            "valid_from": self.valid_from.data,
            "valid_to": self.valid_to.data,
            "last_confirmed_at": self.last_confirmed_at.data,
            "last_confirmed_by": self.last_confirmed_by.data or None,
        }
