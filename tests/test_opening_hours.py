import pytest

from directory.places.opening_hours import OpeningHoursError, parse, week_lines


def test_empty_means_unknown():
    assert parse("  ") is None


def test_always_open():
    assert parse("24/7") == {"always": True}


def test_day_ranges_lists_and_several_rules():
    assert parse("Mo-Fr 08:00-16:00; Sa 09:00-13:00") == {
        "mo": [["08:00", "16:00"]],
        "tu": [["08:00", "16:00"]],
        "we": [["08:00", "16:00"]],
        "th": [["08:00", "16:00"]],
        "fr": [["08:00", "16:00"]],
        "sa": [["09:00", "13:00"]],
    }
    assert parse("Mo,We 09:00-12:00,14:00-17:00") == {
        "mo": [["09:00", "12:00"], ["14:00", "17:00"]],
        "we": [["09:00", "12:00"], ["14:00", "17:00"]],
    }


def test_wrapping_day_range_and_overnight_hours():
    assert parse("Sa-Mo 20:00-02:00") == {
        "mo": [["20:00", "02:00"]],
        "sa": [["20:00", "02:00"]],
        "su": [["20:00", "02:00"]],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mx 08:00-16:00", "unknown day"),
        ("Mo-Fr", "no times"),
        ("Mo 8-16", "bad time range"),
        ("Mo 25:00-26:00", "bad time range"),
        ("Mo 09:00-09:00", "empty time range"),
    ],
)
def test_bad_hours_say_what_is_wrong(text, message):
    with pytest.raises(OpeningHoursError, match=message):
        parse(text)


def test_a_week_reads_from_monday_with_equal_days_together():
    lines = week_lines(parse("Sa 09:00-13:00; Mo-Fr 08:00-14:00"))
    assert [(line.first, line.last, line.ranges) for line in lines] == [
        ("mo", "fr", (("08:00", "14:00"),)),
        ("sa", "sa", (("09:00", "13:00"),)),
        ("su", "su", ()),
    ]
    assert week_lines({"always": True}) == []
    assert week_lines(None) == []
