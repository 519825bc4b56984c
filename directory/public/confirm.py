"""The page a confirmation link opens (issue 13, point 1): the record as it is, "Yes, it is
right" and "Correct it", without an account.

The token in the path is the only way in (no page links here), so:

* the answers are ``private, no-store`` and ``noindex``;
* ``Referrer-Policy: no-referrer``: the token never leaves in a ``Referer``, not even to
  our own origin. Flask-WTF's CSRF check on HTTPS insists on a same-origin ``Referer``, so
  these two POST views are exempt from ``CSRFProtect`` and check the form's CSRF token
  themselves (``_check_csrf``): the token is still required, only the Referer is not;
* a bad link is a page that says what happened and what to do: 400 for an altered link,
  410 for an expired or used one (or a record archived meanwhile); never a 500.

Contact persons' personal data is shown here: it is the holder's own record, and the link
went to their own address.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from directory.accounts.models import ContactPerson
from directory.confirmations.forms import (
    AnswerForm,
    ContactCorrectionForm,
    LocationCorrectionForm,
)
from directory.confirmations.services import (
    ConfirmationRefused,
    NothingChanged,
    Opened,
    Problem,
    confirm,
    correct,
    open_link,
)
from directory.db import db
from directory.i18n.selection import current_language
from directory.public import public
from directory.web.http import SEARCH, policy
from directory.workspace.auth import csrf

# The longest token we try to read (a real one is about 110 characters).
TOKEN_MAX_LENGTH = 512
STATUS = {Problem.ALTERED: 400, Problem.EXPIRED: 410, Problem.USED: 410, Problem.GONE: 410}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _private(make_response(render_template(template, **context), status))


def _refused(problem: Problem) -> Response:
    db.session.rollback()
    return _page("confirm/refused.html", STATUS[problem], problem=problem.value)


def _open(token: str) -> Opened:
    if len(token) > TOKEN_MAX_LENGTH:
        raise ConfirmationRefused(Problem.ALTERED)
    return open_link(db.session, current_app.config["SECRET_KEY"], token)


def _correction_form(
    opened: Opened, *, fill: bool
) -> ContactCorrectionForm | LocationCorrectionForm:
    record = opened.record
    form: ContactCorrectionForm | LocationCorrectionForm
    if isinstance(record, ContactPerson):
        form = ContactCorrectionForm(formdata=None if fill else request.form)
        form.prepare(record, fill=fill)
    else:
        form = LocationCorrectionForm(formdata=None if fill else request.form)
        form.prepare(record, fill=fill)
    return form


def _record_page(
    token: str, opened: Opened, form: Any, status: int = 200, **extra: Any
) -> Response:
    return _page(
        "confirm/page.html",
        status,
        token=token,
        record=opened.record,
        is_contact=isinstance(opened.record, ContactPerson),
        answer=AnswerForm(formdata=None),
        form=form,
        valid_until=opened.request.expires_at,
        **extra,
    )


def _check_csrf() -> None:
    """The form's CSRF token, without Flask-WTF's Referer check (see the module)."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError as error:
        raise CSRFError(error.args[0]) from None


@public.get("/confirm/<token>")
@policy(SEARCH)
def confirm_page(token: str) -> Response:
    """The record as it is, with the two answers."""
    try:
        opened = _open(token)
    except ConfirmationRefused as refused:
        return _refused(refused.problem)
    return _record_page(token, opened, _correction_form(opened, fill=True))


@public.post("/confirm/<token>")
@policy(SEARCH)
@csrf.exempt
def confirm_yes(token: str) -> Response:
    """ "Yes, it is right": the record is confirmed today (audited), the link used."""
    _check_csrf()
    if len(token) > TOKEN_MAX_LENGTH:
        return _refused(Problem.ALTERED)
    try:
        opened = confirm(db.session, current_app.config["SECRET_KEY"], token)
    except ConfirmationRefused as refused:
        return _refused(refused.problem)
    db.session.commit()
    return _page("confirm/done.html", outcome="confirmed", record=opened.record)


@public.post("/confirm/<token>/correct")
@policy(SEARCH)
@csrf.exempt
def confirm_correct(token: str) -> Response:
    """ "Correct it": the corrected values wait for a moderator; the record is unchanged."""
    _check_csrf()
    try:
        opened = _open(token)
    except ConfirmationRefused as refused:
        return _refused(refused.problem)
    form = _correction_form(opened, fill=False)
    if not form.validate():
        return _record_page(token, opened, form, 400, correcting=True)
    try:
        correct(
            db.session,
            current_app.config["SECRET_KEY"],
            token,
            form.submitted(),
            form.comment.data or "",
            language=current_language(),
        )
    except ConfirmationRefused as refused:
        return _refused(refused.problem)
    except NothingChanged:
        db.session.rollback()
        return _record_page(token, opened, form, 400, correcting=True, nothing_changed=True)
    db.session.commit()
    return _page("confirm/done.html", outcome="corrected", record=opened.record)
