"""The organization editing form (issue 12, point 3): every rule the database would refuse
is checked here first, so a person sees a message beside the field, never a 500.

The choices (kinds, countries, networks, languages) are filled in by the view; the form
says what is wrong and ``changes()`` gives what ``records.apply_edit`` is to write.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from directory.db import CONSULAR_KINDS, LOCALES, OrganizationKind
from directory.workspace.forms import REQUIRED

# The same loose rule as the accounts' e-mail addresses: something@somewhere.tld.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WEBSITE_PATTERN = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
NOT_EMAIL = _l("This is not an e-mail address.")
NOT_WEBSITE = _l("Give the whole address, starting with https:// (or http://).")
MAX_DESCRIPTION = 4000
DESCRIPTION_LENGTH = [Length(max=MAX_DESCRIPTION)]


def strip(value: Any) -> Any:
    """A text without the spaces around it (a form not posted has None)."""
    return value.strip() if isinstance(value, str) else value


def description_field(language: str) -> str:
    return f"description_{language}"


class OrganizationForm(FlaskForm):
    """Name, kind, sending country (consulates and embassies), website, e-mail, networks,
    and the description in each language with the language it was written in."""

    version = HiddenField(validators=[InputRequired()])
    name = StringField(
        _l("Name"), validators=[DataRequired(REQUIRED), Length(max=300)], filters=[strip]
    )
    kind = SelectField(_l("Kind"), validators=[DataRequired(REQUIRED)])
    sending_country = SelectField(_l("Sending country"), validators=[Optional()])
    website = StringField(
        _l("Website"),
        validators=[Optional(), Length(max=500), Regexp(WEBSITE_PATTERN, message=NOT_WEBSITE)],
        filters=[strip],
    )
    email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=320), Regexp(EMAIL_PATTERN, message=NOT_EMAIL)],
        filters=[strip],
    )
    networks = SelectMultipleField(_l("Networks"), coerce=int, validators=[Optional()])
    description_es = TextAreaField(_l("Description in Spanish"), validators=DESCRIPTION_LENGTH)
    description_en = TextAreaField(_l("Description in English"), validators=DESCRIPTION_LENGTH)
    description_fr = TextAreaField(_l("Description in French"), validators=DESCRIPTION_LENGTH)
    description_ht = TextAreaField(
        _l("Description in Haitian Creole"), validators=DESCRIPTION_LENGTH
    )
    description_language = SelectField(
        _l("Language the description was written in"), validators=[Optional()]
    )

    # Texts in languages this form does not show (set by the view): kept as they are, and
    # an original language among them stays valid.
    kept_descriptions: dict[str, str] = {}  # noqa: RUF012

    def description_fields(self) -> list[Any]:
        return [getattr(self, description_field(language)) for language in LOCALES]

    def texts(self) -> dict[str, str]:
        """The descriptions typed in, by language (empty ones left out)."""
        texts = {}
        for language in LOCALES:
            value = (getattr(self, description_field(language)).data or "").strip()
            if value:
                texts[language] = value
        return texts

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        kind = self.kind.data
        if kind in CONSULAR_KINDS and not self.sending_country.data:
            self.sending_country.errors.append(
                str(_l("A consulate or an embassy needs the country that runs it."))
            )
            valid = False
        elif kind and kind not in CONSULAR_KINDS and self.sending_country.data:
            self.sending_country.errors.append(
                str(_l("Only consulates and embassies have a sending country: leave it empty."))
            )
            valid = False
        return self._validate_original_language() and valid

    def _validate_original_language(self) -> bool:
        """The database keeps the language a description was written in only with a text
        in that language (``description_language_present``): say so beside the field."""
        texts = {**self.kept_descriptions, **self.texts()}
        language = self.description_language.data or ""
        if language and language not in texts:
            self.description_language.errors.append(
                str(
                    _l(
                        "There is no description in this language: write it, or choose the "
                        "language the description was written in."
                    )
                )
            )
            return False
        if texts and not language:
            self.description_language.errors.append(
                str(_l("Say which language the description was written in."))
            )
            return False
        return True

    def changes(self, networks: list[Any]) -> dict[str, Any]:
        """What ``apply_edit`` writes; ``networks`` are the chosen records."""
        kind = OrganizationKind(self.kind.data)
        return {
            "name": self.name.data,
            "kind": kind,
            "sending_country_code": self.sending_country.data if kind in CONSULAR_KINDS else None,
            "website": self.website.data or None,
            "email": self.email.data or None,
            "networks": networks,
            "descriptions": {**self.kept_descriptions, **self.texts()},
            "description_language": self.description_language.data or None,
        }
