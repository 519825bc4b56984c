"""The workspace's forms (Flask-WTF: each carries its CSRF token). Every message is in the
reader's language; a service's ``Problem`` is worded here too (``PROBLEMS``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from directory.accounts.passwords import MIN_LENGTH
from directory.accounts.users import Problem

REQUIRED = _l("Fill in this field.")
PASSWORD_LENGTH = _l("At least %(count)s characters.", count=MIN_LENGTH)
PASSWORDS_DIFFER = _l("The two passwords are not the same.")

PROBLEMS = {
    Problem.EMAIL_INVALID: _l("This is not an e-mail address."),
    Problem.EMAIL_TAKEN: _l("An account with this e-mail address exists already."),
    Problem.ROLE_UNKNOWN: _l("Choose one of the roles."),
    Problem.COUNTRY_REQUIRED: _l("A focal point needs its country."),
    Problem.COUNTRY_UNKNOWN: _l("This country is not in the directory."),
    Problem.ORGANIZATION_REQUIRED: _l("An organization editor needs its organization."),
    Problem.ORGANIZATION_UNKNOWN: _l("This organization is not in the directory."),
    Problem.PASSWORD_TOO_SHORT: PASSWORD_LENGTH,
    Problem.PASSWORD_WRONG: _l("This is not your current password."),
    Problem.LAST_SECRETARIAT: _l(
        "This is the last active secretariat account: make another one first."
    ),
}


def add_problems(form: FlaskForm, problems: dict[str, list[Problem]]) -> None:
    """Put a service's problems beside the fields they are about."""
    for name, found in problems.items():
        field: Field | None = getattr(form, name, None)
        if field is None:
            continue
        field.errors = [*field.errors, *(str(PROBLEMS[problem]) for problem in found)]


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class SignInForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])
    next = HiddenField()


class CodeForm(FlaskForm):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=32)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), Length(min=MIN_LENGTH, message=PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        _l("The new password again"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=PASSWORDS_DIFFER)],
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])


class UserScopeForm(FlaskForm):
    """A role and what it is scoped to (the choices are filled in by the view)."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), validators=[DataRequired(REQUIRED)])
    country = SelectField(_l("Country (focal points)"), validators=[Optional()])
    organization = SelectField(
        _l("Organization (organization editors)"), coerce=_optional_int, validators=[Optional()]
    )


class InviteForm(UserScopeForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=320)])
