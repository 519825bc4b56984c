"""The workspace's import pages (issue 13, point 3): upload a CSV file, read its dry run,
apply it or discard it.

``/workspace/imports`` takes the file (locations or contact persons, up to
``IMPORT_MAX_BYTES``), runs the dry run and keeps the file in its ``ImportBatch`` (status
``checked``), so the web server's disk holds nothing; the report page shows every problem
in the reader's language (the check runs again on the kept file, so the report is always
the database's answer now) and offers "Apply" only when the file is clean. Applying checks
the file once more and writes it in one transaction; the content is then dropped.

Who: ``Action.IMPORT`` (the secretariat, focal points), and for contact persons
``Action.READ_CONTACTS`` too. A focal point's file is limited to its country's rows, and a
focal point sees and applies its country's batches only (``ALL_COUNTRIES`` is the target
of a batch of every country, which only the secretariat may touch).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from directory.accounts.models import User
from directory.db import db
from directory.imports import batches, contacts_csv, locations_csv
from directory.imports.models import ImportBatch, ImportKind, ImportStatus
from directory.imports.report import ImportReport
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.forms import REQUIRED
from directory.workspace.permissions import Action, can

# The target of a batch of every country (the secretariat's): no focal point's country.
ALL_COUNTRIES = "*"
# The longest a statement of an import request may run (a large file's points against the
# boundaries); the web's usual limit is seconds.
STATEMENT_TIMEOUT_MS = 300_000

KIND_NAMES = {
    ImportKind.LOCATIONS: _l("Places (locations)"),
    ImportKind.CONTACTS: _l("Contact persons"),
    ImportKind.HSDS: _l("HSDS dataset"),
}
STATUS_NAMES = {
    ImportStatus.CHECKED: _l("Checked, not applied"),
    ImportStatus.APPLIED: _l("Applied"),
    ImportStatus.DISCARDED: _l("Discarded"),
}
REQUIRED_COLUMNS = {
    ImportKind.LOCATIONS: locations_csv.REQUIRED_COLUMNS,
    ImportKind.CONTACTS: contacts_csv.REQUIRED_COLUMNS,
}
NO_FILE = _l("Choose the CSV file to check.")
NOT_ALLOWED_KIND = _l("You cannot import contact persons.")


class UploadForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), validators=[DataRequired(REQUIRED)])
    source = StringField(
        _l("Source"),
        validators=[DataRequired(REQUIRED), Length(max=batches.MAX_SOURCE_LENGTH)],
    )
    file = FileField(_l("CSV file (UTF-8, comma-separated)"))


def _no_time_limit() -> None:
    db.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))


def _scope(user: User | None) -> str | None:
    """The country a user's files are limited to (None: every country)."""
    if can(user, Action.IMPORT, ALL_COUNTRIES):
        return None
    return user.country_code if user is not None else None


def _kinds(user: User | None) -> list[ImportKind]:
    kinds = [ImportKind.LOCATIONS]
    if can(user, Action.READ_CONTACTS):
        kinds.append(ImportKind.CONTACTS)
    return kinds


def _form(user: User | None) -> UploadForm:
    form = UploadForm()
    form.kind.choices = [(kind.value, str(KIND_NAMES[kind])) for kind in _kinds(user)]
    return form


@workspace.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The upload's size limit, set before anything reads the body (the CSRF check reads
    the form first): a larger file is answered 413, not read."""
    if endpoint == "workspace.imports_upload":
        request.max_content_length = int(current_app.config["IMPORT_MAX_BYTES"])


@workspace.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge):
    """A file over the limit: say what the limit is, in the workspace's frame."""
    megabytes = int(current_app.config["IMPORT_MAX_BYTES"]) / (1024 * 1024)
    return render_template("workspace/import_too_big.html", megabytes=f"{megabytes:g}"), 413


def _page(form: UploadForm, status: int = 200):
    user = acting_user()
    recent = batches.recent(db.session, _scope(user))
    recent = [batch for batch in recent if batch.kind in _kinds(user)]
    return render_template(
        "workspace/imports.html",
        form=form,
        recent=recent,
        kind_names=KIND_NAMES,
        status_names=STATUS_NAMES,
        country=_scope(user),
        required={
            kind: columns for kind, columns in REQUIRED_COLUMNS.items() if kind in _kinds(user)
        },
    ), status


@workspace.get("/imports")
@policy(SEARCH)
def imports():
    """The upload form and the latest batches."""
    require(Action.IMPORT)
    form = _form(acting_user())
    form.kind.data = ImportKind.LOCATIONS.value
    return _page(form)


@workspace.post("/imports")
@policy(SEARCH)
def imports_upload():
    """Check an uploaded file (the dry run) and keep it, with its counts, as a batch."""
    require(Action.IMPORT)
    user = acting_user()
    form = _form(user)
    if not form.validate():
        return _page(form, 400)
    kind = ImportKind(form.kind.data)
    if kind == ImportKind.CONTACTS:
        require(Action.READ_CONTACTS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [str(NO_FILE)]
        return _page(form, 400)
    content = upload.read()
    _no_time_limit()
    batch, _report = batches.check(
        db.session,
        kind,
        content,
        source=form.source.data.strip(),
        filename=upload.filename,
        user_id=user.id if user is not None else None,
        country_code=_scope(user),
        keep_content=True,
    )
    db.session.commit()
    return redirect(url_for("workspace.import_report", batch_id=batch.id), 303)


def _batch(batch_id: int) -> ImportBatch:
    """The batch, if the user may see it (403, audited, when not)."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.kind not in (ImportKind.LOCATIONS, ImportKind.CONTACTS):
        abort(404)
    require(Action.IMPORT, batch.country_code or ALL_COUNTRIES)
    if batch.kind == ImportKind.CONTACTS:
        require(Action.READ_CONTACTS)
    return batch


def _report(batch: ImportBatch) -> ImportReport | None:
    """The report of a checked batch's dry run, as the batch kept it (None once it is
    applied or discarded). The file is checked again only by the apply step."""
    if batch.status != ImportStatus.CHECKED:
        return None
    return batches.kept_report(batch)


@workspace.get("/imports/<int:batch_id>")
@policy(SEARCH)
def import_report(batch_id: int):
    """The dry run's report: every problem, the counts, and Apply when the file is clean."""
    batch = _batch(batch_id)
    report = _report(batch)
    return render_template(
        "workspace/import_report.html",
        batch=batch,
        report=report,
        counts=batches.counts_text(batch.counts if report is None else report.counts()),
        kind_names=KIND_NAMES,
        status_names=STATUS_NAMES,
    )


@workspace.post("/imports/<int:batch_id>/apply")
@policy(SEARCH)
def import_apply(batch_id: int):
    """Check the kept file again and apply it in one transaction."""
    batch = _batch(batch_id)
    report_url = url_for("workspace.import_report", batch_id=batch.id)
    if batch.status != ImportStatus.CHECKED:
        flash(_("This file was applied or discarded already."), "error")
        return redirect(report_url, 303)
    content = batches.stored_content(db.session, batch)
    if content is None:
        abort(404)
    user = acting_user()
    _no_time_limit()
    report = batches.apply(db.session, batch, content, user_id=user.id if user else None)
    if not report.applied:
        db.session.rollback()
        flash(_("The file has problems now: nothing was applied."), "error")
        return redirect(report_url, 303)
    db.session.commit()
    flash(
        ngettext(
            "Applied %(num)s row: %(added)s added, %(updated)s updated, %(unchanged)s left as "
            "they were.",
            "Applied %(num)s rows: %(added)s added, %(updated)s updated, %(unchanged)s left "
            "as they were.",
            report.rows,
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
        ),
        "success",
    )
    if districts := report.districts_text():
        flash(districts, "info")
    return redirect(report_url, 303)


@workspace.post("/imports/<int:batch_id>/discard")
@policy(SEARCH)
def import_discard(batch_id: int):
    """Forget a checked file (the batch stays on record, without its content)."""
    batch = _batch(batch_id)
    if batch.status == ImportStatus.CHECKED:
        batches.discard(db.session, batch)
        db.session.commit()
        flash(_("The file was discarded: nothing was applied."), "success")
    return redirect(url_for("workspace.imports"), 303)
