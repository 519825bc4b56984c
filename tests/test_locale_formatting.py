"""Numbers, distances, dates and times in the reader's language (issue 11, item 4).

Expected texts are CLDR's (through Babel) for es/en/fr, and our catalog's for Haitian
Creole, where CLDR has no month or language names.
"""

from __future__ import annotations

import datetime as dt

import pytest

from directory.i18n import formatting


@pytest.fixture
def reading(app):
    """``reading("ht")``: a request context whose reader chose that language."""

    def enter(language: str):
        context = app.test_request_context(f"/near?lang={language}")
        context.push()
        entered.append(context)

    entered: list = []
    yield enter
    for context in reversed(entered):
        context.pop()


@pytest.mark.parametrize(
    ("language", "distance", "date", "time"),
    [
        ("es", "1,2\u00a0km", "3 de marzo de 2026", "18:00"),
        ("en", "1.2\u00a0km", "March 3, 2026", "6:00\u202fPM"),
        ("fr", "1,2\u00a0km", "3 mars 2026", "18:00"),
        ("ht", "1,2\u00a0km", "3 mas 2026", "18:00"),
    ],
)
def test_distances_dates_and_times_follow_the_language(reading, language, distance, date, time):
    reading(language)
    assert formatting.km(1.2) == distance
    assert formatting.long_date(dt.date(2026, 3, 3)) == date
    assert formatting.time_of_day("18:00") == time


@pytest.mark.parametrize(
    ("language", "weeks", "months", "years"),
    [
        ("es", "hace 2 semanas", "hace 9 meses", "hace 2 años"),
        ("en", "2 weeks ago", "9 months ago", "2 years ago"),
        ("ht", "sa gen 14 jou", "sa gen 9 mwa", "sa gen 2 an"),
    ],
)
def test_how_long_ago(reading, language, weeks, months, years):
    reading(language)
    today = dt.date(2026, 11, 27)
    assert formatting.relative_age(dt.date(2026, 11, 13), today) == weeks
    assert formatting.relative_age(dt.date(2026, 3, 1), today) == months
    assert formatting.relative_age(dt.date(2024, 11, 20), today) == years
    # Today, and a date a fast clock puts in the future, are "today", never "in 2 days".
    assert formatting.relative_age(today, today) == formatting.relative_age(
        today + dt.timedelta(days=2), today
    )


def test_language_names_in_haitian_creole_come_from_our_catalog(reading):
    reading("ht")
    assert formatting.language_name("es") == "panyòl"
    assert formatting.language_name("pt") == "portugais"  # CLDR French, the nearest
    reading("es")
    assert formatting.language_name("ht") == "criollo haitiano"
