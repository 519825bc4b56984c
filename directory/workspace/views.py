"""Signing in and out, the set-password link, the password page and the home page."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from directory.accounts import tokens, users
from directory.accounts.models import ContactPerson, User
from directory.contacts.services import fold
from directory.db import db
from directory.i18n.selection import current_language
from directory.places.models import Country
from directory.records import attention
from directory.web.http import SEARCH, policy
from directory.web.limits import sign_in_attempt
from directory.workspace import auth, workspace
from directory.workspace.common import link_max_age
from directory.workspace.forms import (
    ChangePasswordForm,
    SetPasswordForm,
    SignInForm,
    add_problems,
)
from directory.workspace.permissions import Action, can

workspace.before_request(auth.guard)
workspace.after_request(auth.workspace_headers)

# Between a right password and the second-factor code (seconds).
PENDING_SECONDS = 600
PENDING_KEY = "pending_sign_in"


def too_many_attempts(wait: int):
    """429 with ``Retry-After``, and a page that says so in the reader's language."""
    minutes = max(1, (wait + 59) // 60)
    page = render_template("workspace/too_many.html", minutes=minutes)
    return page, 429, {"Retry-After": str(wait)}


def complete_sign_in(user: User, next_path: str | None):
    """Start the user's session (it lasts while requests keep coming)."""
    session.clear()  # nothing of the anonymous session carries over (fixation)
    session.permanent = True
    login_user(user)
    users.record_sign_in(user)
    db.session.commit()
    return redirect(auth.local_path(next_path) or url_for("workspace.home"))


def begin_second_factor(user: User, next_path: str | None):
    """The password was right; the code comes next (the user is not signed in yet)."""
    session.clear()
    session.permanent = True
    session[PENDING_KEY] = {"id": user.get_id(), "at": time.time(), "next": next_path}
    return redirect(url_for("workspace.two_factor"))


def pending_user() -> tuple[User | None, str | None]:
    """The user half-way through signing in (password right, code to come), if any."""
    pending: dict[str, Any] | None = session.get(PENDING_KEY)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        return None, None
    return auth.load_user(str(pending.get("id", ""))), pending.get("next")


@workspace.route("/sign-in", methods=["GET", "POST"])
@policy(SEARCH)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("workspace.home"))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = auth.local_path(request.args.get("next"))
    wrong = None
    if form.validate_on_submit():
        email = users.normalize_email(form.email.data or "")
        if (wait := sign_in_attempt(email)) is not None:
            return too_many_attempts(wait)
        user = users.authenticate(db.session, email, form.password.data or "")
        if user is None:
            wrong = _("Wrong e-mail or password.")
        elif user.totp_enabled:
            return begin_second_factor(user, form.next.data)
        else:
            return complete_sign_in(user, form.next.data)
    status = 400 if request.method == "POST" else 200
    return render_template("workspace/sign_in.html", form=form, wrong=wrong), status


@workspace.post("/sign-out")
@policy(SEARCH)
def sign_out():
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("workspace.sign_in"))


@workspace.route("/set-password/<token>", methods=["GET", "POST"])
@policy(SEARCH)
def set_password(token: str):
    config = current_app.config
    check = tokens.check_set_password_token(
        db.session, config["SECRET_KEY"], token, link_max_age(config)
    )
    if check.user is None:
        page = render_template("workspace/set_password.html", problem=check.problem, form=None)
        return page, 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            users.set_password(db.session, check.user, form.password.data or "")
        except users.UserError as error:
            add_problems(form, error.problems)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your password is set. Sign in with it."), "info")
            return redirect(url_for("workspace.sign_in"))
    status = 400 if request.method == "POST" else 200
    page = render_template("workspace/set_password.html", form=form, user=check.user)
    return page, status


# What each concern asks a person to do: the link's words (see ``fix_url``).
FIX_LABELS = {
    attention.Concern.STATUS_EXPIRED: _l("Check the status"),
    attention.Concern.NOT_VERIFIED: _l("Verify"),
    attention.Concern.NOT_CONFIRMED: _l("Confirm"),
}


def fix_url(item: attention.Item) -> str:
    """Where a listed record is put right: a location's edit page; a contact person's
    country's contacts page."""
    record = item.record
    if isinstance(record, ContactPerson):
        return url_for("workspace.contacts_country", country_code=record.country_code)
    return url_for("workspace.location_edit", location_id=record.id)


def attention_scope(user: User) -> attention.Scope:
    """What ``user`` looks after, from the account's own fields (a country is stored only
    for a focal point, an organization only for an organization's editor; neither: every
    country); contact persons only where ``can`` lets the user read them."""
    return attention.Scope(
        country_code=user.country_code,
        organization_id=user.organization_id,
        contacts=can(user, Action.READ_CONTACTS),
    )


@workspace.get("/")
@policy(SEARCH)
def home():
    """The user's links, and what needs attention in what the user looks after, by country;
    ``?country=XX`` shows all of one country's records (the "show all" links)."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    scope = attention_scope(user)
    chosen = request.args.get("country", "").strip().upper()
    if chosen:
        if scope.country_code not in (None, chosen) or not re.fullmatch(r"[A-Z]{2}", chosen):
            abort(404)
        if db.session.get(Country, chosen) is None:
            abort(404)
        scope = replace(scope, country_code=chosen)
    found = attention.needs_attention(
        db.session,
        scope,
        dt.datetime.now(dt.UTC),
        limit=None if chosen else attention.DEFAULT_LIMIT,
    )
    language = current_language()
    where = db.session.get(Country, scope.country_code) if scope.country_code else None
    return render_template(
        "workspace/home.html",
        attention=found,
        countries=sorted(found.countries, key=lambda c: fold(c.country.name(language))),
        Concern=attention.Concern,
        chosen=chosen,
        where_name=where.name(language) if where else None,
        organization=user.organization if scope.organization_id is not None else None,
        fix_url=fix_url,
        fix_label=lambda item: str(FIX_LABELS[item.concern]),
    )


@workspace.route("/password", methods=["GET", "POST"])
@policy(SEARCH)
def password():
    form = ChangePasswordForm()
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if form.validate_on_submit():
        try:
            users.change_password(
                db.session, user, form.current.data or "", form.password.data or ""
            )
        except users.UserError as error:
            add_problems(form, error.problems)
        else:
            db.session.commit()
            # The stamp changed: this session goes on with the new one, the others end.
            login_user(user)
            flash(_("Your password is changed. Other sessions are signed out."), "info")
            return redirect(url_for("workspace.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("workspace/password.html", form=form), status
