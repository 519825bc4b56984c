"""The location form (issue 12, point 3): every field a person edits, opening hours as a
week to fill in (never JSON), and the messages in the reader's language.

Field-level checks live here (a number, a range, a date in the future, times in order);
the checks that need the database (the point in its country) are the service's
(``places.editing.check_point``), worded here too (``PROBLEMS``). So are the rules of what a
referral needs (issue 15: a protection line only for a consular office, the language a text
was written in), which the CSV import shares.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from directory.db import LOCALES, Cost, OperationalStatus, PositionPrecision
from directory.places.editing import (
    LOCALIZED_TEXTS,
    PHONE_PATTERN,
    TEXT_LIMIT,
    DayInput,
    DayState,
    HoursMode,
    Problem,
    WeekInput,
)
from directory.places.opening_hours import DAYS
from directory.places.populations import POPULATION_LABELS
from directory.workspace.forms import REQUIRED
from geo.coordinates import CoordinateError, coordinate

DAY_NAMES = {
    "mo": _l("Monday"),
    "tu": _l("Tuesday"),
    "we": _l("Wednesday"),
    "th": _l("Thursday"),
    "fr": _l("Friday"),
    "sa": _l("Saturday"),
    "su": _l("Sunday"),
}


STATUS_LABELS = {
    OperationalStatus.OPEN: _l("Open"),
    OperationalStatus.FULL: _l("Full"),
    OperationalStatus.TEMPORARILY_CLOSED: _l("Temporarily closed"),
}

PRECISION_LABELS = {
    PositionPrecision.EXACT: _l("The place itself (the door)"),
    PositionPrecision.STREET: _l("The street, not the door"),
    PositionPrecision.CITY: _l("Only the town (its centre)"),
}

COST_LABELS = {
    "": _l("Not known"),
    Cost.FREE: _l("Free"),
    Cost.LOW_COST: _l("Low cost"),
    Cost.FEE: _l("There is a fee"),
}

PROBLEMS = {
    Problem.POINT_AT_SEA: _l("This point lies outside every country of the directory."),
    Problem.TIME_ZONE_UNKNOWN: _l("No known time zone at this point."),
    Problem.TIME_INVALID: _l("Write times as HH:MM, from 00:00 to 24:00."),
    Problem.TIME_MISSING: _l("Give the opening and the closing time."),
    Problem.ENDS_BEFORE_START: _l(
        "A time range ends before it starts. For hours past midnight, close at 24:00 and "
        "open at 00:00 the next day."
    ),
    Problem.RANGES_OVERLAP: _l("The two time ranges overlap."),
    Problem.UNTIL_PAST: _l("This moment has passed: give a date to come."),
    Problem.PHONE_INVALID: _l(
        "This is not a phone number: one number, with the country code (+502 …)."
    ),
    Problem.NOT_CONSULAR: _l(
        "Only a consulate's or an embassy's places have a protection line: leave it empty."
    ),
    Problem.ORIGINAL_MISSING: _l(
        "There is no text in this language: write it, or choose the language it was written in."
    ),
    Problem.ORIGINAL_UNSAID: _l("Say which language it was written in."),
}

_PHONE = PHONE_PATTERN
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (each labelled), not a multi-select box."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CoordinateField(StringField):
    """A latitude or a longitude, typed; checked by ``geo.coordinates.coordinate``."""

    def __init__(self, label: Any, axis: str, **kwargs: Any) -> None:
        super().__init__(label, validators=[InputRequired(REQUIRED)], **kwargs)
        self.axis = axis
        self.number: float | None = None

    def pre_validate(self, form: Any) -> None:
        self.number = None

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        if validation_stopped:
            return
        try:
            self.number = coordinate(self.axis, (self.data or "").strip().replace(",", "."))
        except CoordinateError:
            if self.axis == "lat":
                message = _l("Give a latitude: a number from -90 to 90 (e.g. 14.6349).")
            else:
                message = _l("Give a longitude: a number from -180 to 180 (e.g. -90.5069).")
            self.errors.append(str(message))


class DayForm(Form):
    """One day: closed, open all day, or one or two time ranges."""

    state = RadioField(
        choices=[
            SelectChoice(DayState.CLOSED.value, _l("Closed")),
            SelectChoice(DayState.ALL_DAY.value, _l("Open 24 hours")),
            SelectChoice(DayState.HOURS.value, _l("Open from … to …")),
            SelectChoice(DayState.SAME_AS_MONDAY.value, _l("Same as Monday")),
        ],
        default=DayState.CLOSED.value,
        validate_choice=False,
    )
    opens1 = StringField(_l("Opens"), validators=[Optional(), Length(max=5)])
    closes1 = StringField(_l("Closes"), validators=[Optional(), Length(max=5)])
    opens2 = StringField(_l("Opens again"), validators=[Optional(), Length(max=5)])
    closes2 = StringField(_l("Closes again"), validators=[Optional(), Length(max=5)])

    def value(self) -> DayInput:
        state = self.state.data if self.state.data in set(DayState) else DayState.CLOSED
        ranges = [
            (self.opens1.data or "", self.closes1.data or ""),
            (self.opens2.data or "", self.closes2.data or ""),
        ]
        return DayInput(DayState(state), ranges)

    def fill(self, day: DayInput) -> None:
        self.state.data = day.state.value
        ranges = [*day.ranges, ("", ""), ("", "")]
        self.opens1.data, self.closes1.data = ranges[0]
        self.opens2.data, self.closes2.data = ranges[1]


class WeekForm(Form):
    mode = RadioField(
        _l("Opening hours"),
        choices=[
            SelectChoice(HoursMode.UNKNOWN.value, _l("Not known")),
            SelectChoice(HoursMode.ALWAYS.value, _l("24 hours, every day")),
            SelectChoice(HoursMode.WEEKLY.value, _l("Day by day")),
        ],
        default=HoursMode.UNKNOWN.value,
        validate_choice=False,
    )
    mo = FormField(DayForm)
    tu = FormField(DayForm)
    we = FormField(DayForm)
    th = FormField(DayForm)
    fr = FormField(DayForm)
    sa = FormField(DayForm)
    su = FormField(DayForm)

    def value(self) -> WeekInput:
        mode = self.mode.data if self.mode.data in set(HoursMode) else HoursMode.UNKNOWN
        return WeekInput(HoursMode(mode), {day: self[day].form.value() for day in DAYS})

    def fill(self, week: WeekInput) -> None:
        self.mode.data = week.mode.value
        for day in DAYS:
            self[day].form.fill(week.days.get(day, DayInput()))

    def day_fields(self) -> list[tuple[str, Any, Any]]:
        """(key, name, the day's form) from Monday to Sunday, for the template."""
        return [(day, DAY_NAMES[day], self[day].form) for day in DAYS]


def _split_lines(text: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[\n;]", text or "") if part.strip()]


def _phones(_form: Any, field: Field) -> None:
    for phone in _split_lines(field.data):
        if not _PHONE.match(phone):
            message = _l(
                "“%(phone)s” is not a phone number (digits, spaces, + - ( ) .).", phone=phone
            )
            raise ValidationError(str(message))


def _email(_form: Any, field: Field) -> None:
    if field.data and not _EMAIL.match(field.data.strip()):
        raise ValidationError(str(_l("This is not an e-mail address.")))


def _languages(_form: Any, field: Field) -> None:
    for code in split_codes(field.data):
        if not _LANGUAGE.match(code):
            raise ValidationError(
                str(_l("“%(code)s” is not a language code (two or three letters).", code=code))
            )


def split_codes(text: str | None) -> list[str]:
    return [part.strip().lower() for part in re.split(r"[,;\s]+", text or "") if part.strip()]


def phone_list(text: str | None) -> list[str]:
    return _split_lines(text)


TEXT_LENGTH = [Optional(), Length(max=TEXT_LIMIT)]


def text_field(texts_field: str, language: str) -> str:
    """The form field of one language of a per-language text ("admission_rules_es")."""
    return f"{texts_field}_{language}"


class LocationForm(FlaskForm):
    """Everything about a location a person edits; ``version`` is the one the editor
    started from. ``restrict_to(fields)`` drops what the acting user may not change."""

    version = HiddenField(validators=[InputRequired()])
    name = StringField(_l("Name of the site"), validators=[Optional(), Length(max=300)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    city = StringField(_l("Town or city"), validators=[DataRequired(REQUIRED), Length(max=200)])
    admin_area = StringField(
        _l("State, department or province"), validators=[Optional(), Length(max=200)]
    )
    country = SelectField(_l("Country"), validators=[DataRequired(REQUIRED)])
    lat = CoordinateField(_l("Latitude"), "lat")
    lon = CoordinateField(_l("Longitude"), "lon")
    position_precision = RadioField(
        _l("How exact is the point?"),
        choices=[SelectChoice(key.value, label) for key, label in PRECISION_LABELS.items()],
        validators=[InputRequired(REQUIRED)],
    )
    phones = TextAreaField(_l("Phones"), validators=[Optional(), _phones])
    whatsapp = StringField(_l("WhatsApp"), validators=[Optional(), Length(max=40)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=320), _email])
    capacity = IntegerField(
        _l("Capacity (people)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=100_000, message=_l("A number of 0 or more.")),
        ],
    )
    cost = RadioField(
        _l("Cost"),
        choices=[
            SelectChoice(str(getattr(key, "value", key)), label)
            for key, label in COST_LABELS.items()
        ],
        default="",
        validate_choice=True,
    )
    languages = StringField(_l("Languages spoken"), validators=[Optional(), _languages])
    populations = MultiCheckboxField(
        _l("Serves in particular"),
        choices=[SelectChoice(key.value, label) for key, label in POPULATION_LABELS.items()],
    )
    categories = MultiCheckboxField(_l("Services"))
    status = RadioField(
        _l("Status"),
        choices=[SelectChoice(key.value, label) for key, label in STATUS_LABELS.items()],
        validators=[InputRequired(REQUIRED)],
    )
    until_date = DateField(_l("Until (date)"), validators=[Optional()])
    until_time = TimeField(_l("At (time, optional)"), validators=[Optional()])
    hours_confirmed = BooleanField(_l("The organization itself gave or confirmed these hours"))
    hours = FormField(WeekForm, label=_l("Opening hours"))
    # Issue 15: what a referral needs. The protection line is checked against the office's
    # kind by the service (``editing.check_protection_phone``), which words nothing.
    protection_phone = StringField(
        _l("24/7 protection line"), validators=[Optional(), Length(max=40)]
    )
    admission_rules_es = TextAreaField(_l("Who is admitted, in Spanish"), validators=TEXT_LENGTH)
    admission_rules_en = TextAreaField(_l("Who is admitted, in English"), validators=TEXT_LENGTH)
    admission_rules_fr = TextAreaField(_l("Who is admitted, in French"), validators=TEXT_LENGTH)
    admission_rules_ht = TextAreaField(
        _l("Who is admitted, in Haitian Creole"), validators=TEXT_LENGTH
    )
    admission_rules_language = SelectField(
        _l("Language it was written in"), validators=[Optional()], validate_choice=False
    )
    what_to_bring_es = TextAreaField(_l("What to bring, in Spanish"), validators=TEXT_LENGTH)
    what_to_bring_en = TextAreaField(_l("What to bring, in English"), validators=TEXT_LENGTH)
    what_to_bring_fr = TextAreaField(_l("What to bring, in French"), validators=TEXT_LENGTH)
    what_to_bring_ht = TextAreaField(_l("What to bring, in Haitian Creole"), validators=TEXT_LENGTH)
    what_to_bring_language = SelectField(
        _l("Language it was written in"), validators=[Optional()], validate_choice=False
    )

    def restrict_to(self, fields: frozenset[str]) -> None:
        """Keep only the fields for the model attributes in ``fields`` (and the version)."""
        for name in list(self._fields):
            if name in ("version", "csrf_token"):
                continue
            if not set(FORM_FIELDS.get(name, (name,))) <= fields:
                delattr(self, name)

    def text_fields(self, texts_field: str) -> list[Any]:
        """The fields of ``texts_field`` ("admission_rules"), one per language, for the
        template."""
        return [self[text_field(texts_field, language)] for language in LOCALES]

    def texts(self, texts_field: str) -> dict[str, str]:
        """The texts typed in for ``texts_field``, by language (empty ones left out)."""
        typed = {}
        for language in LOCALES:
            # A browser sends a textarea's lines ended by CRLF: kept as the record has them.
            value = (self[text_field(texts_field, language)].data or "").replace("\r\n", "\n")
            value = value.strip()
            if value:
                typed[language] = value
        return typed


# Which model attributes each form field sets (a field not listed sets its namesake).
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "country": ("country_code",),
    "lat": ("point",),
    "lon": ("point",),
    "until_date": ("status_until",),
    "until_time": ("status_until",),
    "hours": ("opening_hours",),
    **{
        text_field(texts_field, language): (texts_field,)
        for texts_field in LOCALIZED_TEXTS
        for language in LOCALES
    },
}

# Every field of the full form, by name (a post may only carry those the user may change).
FIELD_NAMES = frozenset(
    {
        "name", "address", "city", "admin_area", "country", "lat", "lon",
        "position_precision", "phones", "whatsapp", "email", "capacity", "cost",
        "languages", "populations", "categories", "status", "until_date", "until_time",
        "hours_confirmed", "hours", "protection_phone",
        "admission_rules_language", "what_to_bring_language",
        *(text_field(texts, language) for texts in LOCALIZED_TEXTS for language in LOCALES),
    }
)  # fmt: skip
