"""A consulate's partners as rows people read, in the reader's language (issue 15).

``directory/consular/partner_table.py`` says which columns the partner exports have and
gives each partner's values as data; this module words them: hours as week lines ("Monday
to Friday: 08:00–16:00; Saturday and Sunday: closed (Tapachula time)"), the open state as
the office page says it, "Full until 3 March 2026", category, population and language
names, and "Not known" in a column written for people when the directory does not know
(the choice, and why numbers stay empty, is in ``partner_table``'s docstring).

Every sentence is one the pages already say (the same messages), so the exports and the
pages never disagree and the catalogs translate both at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from flask import get_template_attribute
from flask_babel import gettext as _
from markupsafe import Markup

from directory.consular.partner_table import COLUMNS, PEOPLE_COLUMNS, partner_values
from directory.consular.referrals import Referral
from directory.db import LocalizedText
from directory.i18n import formatting
from directory.i18n.selection import current_language
from directory.places.opening_hours import OpenState, week_lines
from directory.places.populations import POPULATION_LABELS

# The rows' list cells, joined as the directory's CSV files join them (``split_list``).
LIST_SEPARATOR = "; "


def _day_names() -> dict[str, str]:
    return {
        "mo": _("Monday"),
        "tu": _("Tuesday"),
        "we": _("Wednesday"),
        "th": _("Thursday"),
        "fr": _("Friday"),
        "sa": _("Saturday"),
        "su": _("Sunday"),
    }


NEXT_DAY = {"mo": "tu", "tu": "we", "we": "th", "th": "fr", "fr": "sa", "sa": "su"}


def hours_lines(hours: dict[str, Any] | None) -> list[str]:
    """The weekly hours as lines of text, Monday first, as the place page writes them (the
    same messages): "Monday to Friday: 08:00–16:00". Empty when the hours are not known."""
    if hours is None:
        return []
    if hours.get("always"):
        return [_("24 hours, every day")]
    names = _day_names()
    lines = []
    for line in week_lines(hours):
        first, last = names[line.first], names[line.last]
        if line.last == NEXT_DAY.get(line.first):
            days = _("%(first)s and %(last)s:", first=first, last=last)
        elif line.last != line.first:
            days = _("%(first)s to %(last)s:", first=first, last=last)
        else:
            days = _("%(day)s:", day=first)
        if line.ranges:
            times = ", ".join(
                _(
                    "%(opens)s–%(closes)s",
                    opens=formatting.time_of_day(start),
                    closes=formatting.time_of_day(end),
                )
                for start, end in line.ranges
            )
        else:
            times = _("closed")
        lines.append(f"{days} {times}")
    return lines


def hours_text(hours: dict[str, Any] | None, timezone: str) -> str | None:
    """A weekly schedule in one line, in the place's own time (``hours_lines`` and the
    zone, as the place page writes it); ``None`` when the hours are not known."""
    if hours is None:
        return None
    if hours.get("always"):
        return _("24 hours, every day")
    zone = _("%(city)s time", city=_zone_city(timezone))
    return f"{LIST_SEPARATOR.join(hours_lines(hours))} ({zone})"


def _zone_city(timezone: str) -> str:
    """An IANA zone as the city people know it by (the pages' ``timezone_city``)."""
    return get_timezone_location(timezone, locale=current_language(), return_city=True)


def open_state_text(state: OpenState) -> str:
    """The state as the office page's badge says it ("Usually open at this time · hours not
    confirmed, call first"): the ``status`` macro of ``templates/_places.html``, as text."""
    badge = get_template_attribute("_places.html", "status")(state)
    return Markup(badge).striptags()


def status_text(status: str, until: dt.datetime | None) -> str:
    """The operational status that holds now: "Full until 3 March 2026", "Temporarily
    closed". A place nobody reported full or closed gets just that, not "Not known": the
    directory does know what was reported, and "Open" would promise room it cannot vouch for."""
    if status == "full":
        if until is not None:
            return _("Full until %(date)s", date=formatting.long_date(until))
        return _("Full")
    if status == "temporarily_closed":
        if until is not None:
            return _("Temporarily closed until %(date)s", date=formatting.long_date(until))
        return _("Temporarily closed")
    # Translators: the status column of a partner export, for a place nobody has reported
    # full or temporarily closed.
    return _("Not reported full or closed")


def _written(text: LocalizedText) -> str | None:
    """A text a person wrote, with "(Written in English)" when not in the reader's
    language."""
    if not text:
        return None
    if text.is_fallback:
        note = _("Written in %(language)s", language=formatting.language_name(text.language))
        return f"{text.text} ({note})"
    return text.text


def _population(code: str) -> str:
    labels = {population.value: label for population, label in POPULATION_LABELS.items()}
    return str(labels.get(code) or code.replace("_", " "))


def _joined(items: list[str]) -> str | None:
    return LIST_SEPARATOR.join(items) if items else None


def partner_cells(referral: Referral, language: str) -> list[Any]:
    """One partner as spreadsheet cells in ``COLUMNS`` order: texts in ``language``,
    numbers as numbers (``None``: an empty cell), ``verified_at`` a date, ``status_until``
    an ISO 8601 time in the place's own zone. Not formula-safe yet: the writers make it so.
    """
    location = referral.location
    values = partner_values(referral, language)
    names = {category.code: category.name(language) for category in location.categories}
    until = values["status_until"]
    worded: dict[str, Any] = {
        **values,
        "networks": LIST_SEPARATOR.join(values["networks"]),
        "categories": _joined([names[code] for code in values["categories"]]),
        "phones": _joined(values["phones"]),
        "hours": hours_text(values["hours"], location.timezone),
        "open_now": "true" if values["open_now"] else "false",
        "open_state": open_state_text(referral.state),
        "languages": _joined([formatting.language_name(code) for code in values["languages"]]),
        "populations": _joined([_population(code) for code in values["populations"]]),
        "admission_rules": _written(values["admission_rules"]),
        "what_to_bring": _written(values["what_to_bring"]),
        "status": status_text(values["status"], until),
        "status_until": (
            None
            if until is None
            else until.astimezone(ZoneInfo(location.timezone)).isoformat(timespec="minutes")
        ),
        "admin_area": values["admin_area"] or "",
    }
    not_known = _("Not known")
    return [
        not_known if name in PEOPLE_COLUMNS and worded[name] in (None, "") else worded[name]
        for name in COLUMNS
    ]


def csv_cell(value: Any) -> Any:
    """A cell as the CSV writes it: a date in ISO 8601, nothing for ``None``."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
