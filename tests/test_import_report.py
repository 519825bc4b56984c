"""A batch keeps its dry run's report (issue 13, point 3): the report page shows it without
checking a 100,000-row file again, and its messages stay translatable."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from directory.imports.report import KEPT_PROBLEMS, ImportReport, Problem


def test_a_kept_report_reads_back_with_its_messages_still_translatable(app):
    message = _l("There is no country %(value)s in the directory.", value="XX")
    report = ImportReport(
        rows=3,
        added=1,
        problems=[Problem(4, "country_code", message), Problem(None, None, "plain text")],
        notes=[Problem(None, "extra", _l("This column is not one we read: it is left out."))],
    )
    kept = ImportReport.from_json(report.counts(), report.to_json())
    assert (kept.rows, kept.added, kept.updated) == (3, 1, 0)
    assert [(p.line, p.column) for p in kept.problems] == [(4, "country_code"), (None, None)]
    with app.test_request_context(), force_locale("en"):
        assert str(kept.problems[0].message) == "There is no country XX in the directory."
        assert str(kept.problems[1].message) == "plain text"
        assert str(kept.notes[0].message) == str(report.notes[0].message)
    assert kept.problems[0].to_json() == report.problems[0].to_json()


def test_a_report_keeps_at_most_so_many_problems_but_counts_them_all():
    report = ImportReport(problems=[Problem(n, None, "bad") for n in range(KEPT_PROBLEMS + 5)])
    assert len(report.to_json()["problems"]) == KEPT_PROBLEMS
    assert report.counts()["errors"] == KEPT_PROBLEMS + 5
