"""Contact persons' pages (issue 12, point 2): the directory with search and filters, one
page per member country, the printable list and the CSV export.

Personal data: the workspace's guard sends a visitor who is not signed in to the sign-in
page (``auth.guard``), then every view requires ``Action.READ_CONTACTS`` (``access.require``:
403, audited, when ``permissions.can`` refuses); the answers are ``private, no-store``, and
the search terms are never logged. The views parse the query, call ``directory.contacts``
and render.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _

from directory.accounts.models import ContactRole
from directory.contacts import export, services
from directory.contacts.services import ContactFilters
from directory.db import db
from directory.i18n.selection import current_language
from directory.web import http
from directory.workspace import workspace
from directory.workspace.access import require
from directory.workspace.permissions import Action


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class FilterForm:
    """The directory's GET form as typed, the filters it means, and a message per field
    that could not be understood (then no search is made)."""

    q: str = ""
    country: str = ""
    network: str = ""
    role: str = ""
    unconfirmed: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def filters(self) -> ContactFilters:
        return ContactFilters(
            query=self.q,
            country=self.country or None,
            network=self.network or None,
            role=ContactRole(self.role) if self.role else None,
            unconfirmed=self.unconfirmed,
        )

    def query(self) -> dict[str, str]:
        """The parameters to repeat in the print and CSV links."""
        values = {"q": self.q.strip(), "country": self.country, "network": self.network}
        values |= {"role": self.role, "unconfirmed": "1" if self.unconfirmed else ""}
        return {name: value for name, value in values.items() if value}


def _read_form() -> FilterForm:
    args = request.args
    form = FilterForm(
        q=args.get("q", "")[: services.MAX_QUERY_LENGTH],
        country=args.get("country", "").strip().upper(),
        network=args.get("network", "").strip(),
        role=args.get("role", "").strip(),
        unconfirmed=args.get("unconfirmed", "") not in ("", "0"),
    )
    if form.country and services.find_country(db.session, form.country) is None:
        form.errors["country"] = _("Choose a country from the list.")
    if form.network and services.find_network(db.session, form.network) is None:
        form.errors["network"] = _("Choose a network from the list.")
    if form.role and form.role not in {role.value for role in ContactRole}:
        form.errors["role"] = _("Choose primary, alternate, or both.")
    return form


def _common(today: dt.date) -> dict[str, Any]:
    return {
        "today": today,
        "is_unconfirmed": lambda contact: services.is_unconfirmed(contact, today),
    }


@workspace.get("/contacts")
@http.policy(http.SEARCH)
def contacts():
    """Every current contact person, searched and filtered, grouped by country."""
    require(Action.READ_CONTACTS)
    today, language = _today(), current_language()
    form = _read_form()
    filters = form.filters() if not form.errors else ContactFilters()
    results = [] if form.errors else services.search_contacts(db.session, filters, today, language)
    return render_template(
        "workspace/contacts.html",
        form=form,
        errors=form.errors,
        filters=filters,
        query=form.query(),
        results=results,
        groups=services.group_by_country(results, language),
        countries=services.filter_countries(db.session, today, language),
        networks=sorted(
            services.all_networks(db.session),
            key=lambda network: services.fold(network.name(language)),
        ),
        **_common(today),
    )


@workspace.get("/contacts/<country_code>")
@http.policy(http.SEARCH)
def contacts_country(country_code: str):
    """One country's contacts under every network, with the gaps said out loud."""
    require(Action.READ_CONTACTS)
    today, language = _today(), current_language()
    country = services.listed_country(db.session, country_code, today)
    if country is None:
        abort(404)
    page = services.country_contacts(db.session, country, today, language)
    stale = [contact for contact in page.contacts if services.is_unconfirmed(contact, today)]
    return render_template(
        "workspace/contacts_country.html",
        page=page,
        country_name=country.name(language),
        stale_count=len(stale),
        **_common(today),
    )


def _filtered_contacts(today: dt.date, language: str) -> list[Any]:
    form = _read_form()
    if form.errors:
        abort(400, description=" ".join(form.errors.values()))
    return services.search_contacts(db.session, form.filters(), today, language)


@workspace.get("/contacts/print")
@http.policy(http.SEARCH)
def contacts_print():
    """The list (the directory's filters apply) by country, one country per printed page."""
    require(Action.READ_CONTACTS)
    today, language = _today(), current_language()
    contacts = _filtered_contacts(today, language)
    return render_template(
        "workspace/contacts_print.html",
        groups=services.group_by_country(contacts, language),
        **_common(today),
    )


@workspace.get("/contacts.csv")
@http.policy(http.SEARCH)
def contacts_csv():
    """The list (the directory's filters apply) as a spreadsheet file."""
    require(Action.READ_CONTACTS)
    today, language = _today(), current_language()
    body = export.contacts_csv(_filtered_contacts(today, language), language)
    response = current_app.response_class(body, content_type="text/csv; charset=utf-8")
    filename = export.export_filename(today)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
