"""Two-step sign-in: the code after the password, and setting it up.

Required for the roles in ``ROLES_REQUIRING_TWO_FACTOR`` (the secretariat: ``auth.guard``
sends it here until it is on), offered to the others from the home page. The QR code is
drawn by our own server (an SVG in a data: URL) so the secret never leaves it.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from directory.accounts import totp
from directory.accounts.models import AuditEntry, User, new_security_stamp
from directory.db import db
from directory.web.http import SEARCH, policy
from directory.web.limits import sign_in_attempt
from directory.workspace import workspace
from directory.workspace.forms import CodeForm
from directory.workspace.views import (
    PENDING_KEY,
    complete_sign_in,
    pending_user,
    too_many_attempts,
)


def _audit(user: User, action: str) -> None:
    db.session.add(
        AuditEntry(user_id=user.id, action=action, entity="users", entity_id=str(user.id))
    )


def _accepts(user: User, code: str) -> bool:
    """A current code from the app, or one of the recovery codes (used up)."""
    compact = "".join(code.split())
    if compact.isdigit():
        return totp.accept_code(user, compact)
    return totp.use_recovery_code(user, compact)


@workspace.route("/two-factor", methods=["GET", "POST"])
@policy(SEARCH)
def two_factor():
    """After a right password: the code from the app, or a recovery code."""
    user, next_path = pending_user()
    if user is None or not user.totp_enabled:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("workspace.sign_in"))
    form = CodeForm()
    wrong = None
    if form.validate_on_submit():
        if (wait := sign_in_attempt(user.email)) is not None:
            return too_many_attempts(wait)
        if _accepts(user, form.code.data or ""):
            return complete_sign_in(user, next_path)
        db.session.rollback()
        wrong = _("This code is not right, or was used already.")
    status = 400 if request.method == "POST" else 200
    return render_template("workspace/two_factor.html", form=form, wrong=wrong), status


@workspace.route("/two-factor/setup", methods=["GET", "POST"])
@policy(SEARCH)
def two_factor_setup():
    """Scan, type a code to confirm, then read the recovery codes (shown once)."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = CodeForm()
    if user.totp_enabled:
        return _manage(user, form)
    if user.totp_secret is None:
        user.totp_secret = totp.new_secret()
        db.session.commit()
    wrong = None
    if form.validate_on_submit():
        if totp.accept_code(user, form.code.data or ""):
            user.totp_enabled = True
            codes = totp.new_recovery_codes(user)
            # Sessions that began with the password alone end; this one goes on.
            user.security_stamp = new_security_stamp()
            _audit(user, "two_factor_on")
            db.session.commit()
            login_user(user)
            return render_template("workspace/two_factor_codes.html", codes=codes)
        wrong = _("This code is not right. Check the time on your phone and type the newest code.")
    uri = totp.provisioning_uri(user, user.totp_secret)
    page = render_template(
        "workspace/two_factor_setup.html",
        form=form,
        wrong=wrong,
        qr=totp.qr_data_uri(uri),
        secret=user.totp_secret,
    )
    return page, 400 if request.method == "POST" else 200


def _manage(user: User, form: CodeForm):
    """Two-step sign-in is on: new recovery codes, confirmed with a current code."""
    wrong = None
    if form.validate_on_submit():
        if totp.accept_code(user, form.code.data or ""):
            codes = totp.new_recovery_codes(user)
            _audit(user, "recovery_codes")
            db.session.commit()
            flash(_("New recovery codes: the old ones no longer work."), "info")
            return render_template("workspace/two_factor_codes.html", codes=codes)
        wrong = _("This code is not right. Check the time on your phone and type the newest code.")
    page = render_template(
        "workspace/two_factor_on.html",
        form=form,
        wrong=wrong,
        remaining=len(user.recovery_codes),
    )
    return page, 400 if request.method == "POST" else 200
