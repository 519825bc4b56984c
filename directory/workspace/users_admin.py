"""The secretariat's users page: the accounts, inviting somebody (the set-password link to
hand over: no mail is sent), changing a role, deactivating and reactivating."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from directory.accounts import users
from directory.accounts.models import User, UserRole
from directory.db import db, localized
from directory.places.models import Country, Organization
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.common import role_name, set_password_link
from directory.workspace.forms import InviteForm, UserScopeForm, add_problems
from directory.workspace.permissions import Action


def _choices(form: UserScopeForm) -> None:
    """The roles, the countries and the organizations to choose from, by name."""
    language = str(get_locale() or "es")
    form.role.choices = [(role.value, role_name(role)) for role in UserRole]
    countries = db.session.scalars(select(Country)).all()
    country_choices = sorted(
        ((country.code, localized(country.names, language)) for country in countries),
        key=lambda pair: pair[1],
    )
    form.country.choices = [("", "—"), *country_choices]
    organizations = db.session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.archived_at.is_(None))
        .order_by(Organization.name)
    ).all()
    form.organization.choices = [("", "—"), *((str(o.id), o.name) for o in organizations)]
    for field in (form.role, form.country, form.organization):
        field.validate_choice = False  # the service says what is wrong, beside the field


def _scope(form: UserScopeForm) -> users.Scope:
    organization = form.organization.data
    return users.Scope(
        role=form.role.data or "",
        country_code=form.country.data or None,
        organization_id=int(organization) if organization and str(organization).isdigit() else None,
    )


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@workspace.get("/users")
@policy(SEARCH)
def users_list():
    require(Action.MANAGE_USERS)
    accounts = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("workspace/users.html", accounts=accounts)


@workspace.route("/users/invite", methods=["GET", "POST"])
@policy(SEARCH)
def users_invite():
    require(Action.MANAGE_USERS)
    form = InviteForm()
    _choices(form)
    if form.validate_on_submit():
        try:
            user = users.create_user(
                db.session,
                email=form.email.data or "",
                scope=_scope(form),
                name=form.name.data,
                acting=acting_user(),
            )
        except users.UserError as error:
            db.session.rollback()
            add_problems(form, error.problems)
        else:
            db.session.commit()
            link = set_password_link(current_app.config, user)
            return render_template("workspace/users_link.html", account=user, link=link)
    status = 400 if request.method == "POST" else 200
    return render_template("workspace/users_invite.html", form=form), status


@workspace.route("/users/<int:user_id>", methods=["GET", "POST"])
@policy(SEARCH)
def users_edit(user_id: int):
    require(Action.MANAGE_USERS)
    account = _user_or_404(user_id)
    form = UserScopeForm(obj=None)
    _choices(form)
    if request.method == "GET":
        form.name.data = account.name
        form.role.data = account.role.value
        form.country.data = account.country_code or ""
        form.organization.data = str(account.organization_id or "")
    elif form.validate_on_submit():
        try:
            users.update_user(
                db.session, account, scope=_scope(form), name=form.name.data, acting=acting_user()
            )
        except users.UserError as error:
            db.session.rollback()
            add_problems(form, error.problems)
        else:
            db.session.commit()
            flash(_("The account is saved."), "info")
            return redirect(url_for("workspace.users_list"))
    status = 400 if request.method == "POST" else 200
    return render_template("workspace/users_edit.html", form=form, account=account), status


@workspace.post("/users/<int:user_id>/active")
@policy(SEARCH)
def users_active(user_id: int):
    """Deactivate (signed out at its next request) or reactivate an account."""
    require(Action.MANAGE_USERS)
    account = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        users.set_active(db.session, account, active, acting=acting_user())
    except users.UserError:
        db.session.rollback()
        flash(_("This is the last active secretariat account: make another one first."), "error")
        return redirect(url_for("workspace.users_edit", user_id=user_id))
    db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=account.name), "info")
    else:
        flash(_("%(name)s is deactivated and signed out.", name=account.name), "info")
    return redirect(url_for("workspace.users_list"))


@workspace.post("/users/<int:user_id>/link")
@policy(SEARCH)
def users_link(user_id: int):
    """A fresh set-password link (a forgotten password): earlier links stop working."""
    require(Action.MANAGE_USERS)
    account = _user_or_404(user_id)
    users.reissue_link(db.session, account, acting=acting_user())
    db.session.commit()
    link = set_password_link(current_app.config, account)
    return render_template("workspace/users_link.html", account=account, link=link)
