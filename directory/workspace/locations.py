"""Editing locations (issue 12, point 3): the list, the edit form, the history, archive and
restore.

Every view asks ``access.require`` first (403, audited). Which fields a user may change is
decided by ``permissions.can`` too: whoever may edit the location's organization may edit
all of the location; whoever may edit only the location (an organization's own editor) gets
the short form of ``editing.LIMITED_FIELDS`` (status, hours, capacity, phones), and a post
that carries any other field is refused (403, audited), as the service would refuse it.

Saving goes through ``places.editing.save_location`` (``records.apply_edit``: the version
the editor started from, one audit entry). A consular office that moved has its districts
recomputed in the same request: a group takes tens of milliseconds on the demo data.

What a referral needs (issue 15) is edited here too: who the site admits and what to bring,
a text per language with the language it was written in (as an organization's description),
and a consular office's 24/7 protection line, shown only for a consular office's places (or
where one is recorded by mistake, with a message beside it until it is emptied).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from directory.accounts.models import User
from directory.db import LOCALES, Cost, OperationalStatus, PositionPrecision, db
from directory.i18n.formatting import language_name
from directory.i18n.selection import current_language
from directory.imports.provenance import provenance
from directory.places import editing
from directory.places.models import Country, Location, Organization, ServiceCategory
from directory.records import StaleEdit, history, stale_fields
from directory.tiles.service import MAX_ZOOM as TILE_MAX_ZOOM
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, refuse, require
from directory.workspace.location_forms import (
    DAY_NAMES,
    FIELD_NAMES,
    FORM_FIELDS,
    PROBLEMS,
    LocationForm,
    phone_list,
    split_codes,
    text_field,
)
from directory.workspace.permissions import Action, can
from geo.coordinates import LonLat

LIST_LIMIT = 100

FIELD_LABELS = {
    "name": _l("Name of the site"),
    "address": _l("Address"),
    "city": _l("Town or city"),
    "admin_area": _l("State, department or province"),
    "country_code": _l("Country"),
    "point": _l("Point"),
    "position_precision": _l("How exact is the point?"),
    "timezone": _l("Time zone"),
    "phones": _l("Phones"),
    "whatsapp": _l("WhatsApp"),
    "email": _l("E-mail"),
    "capacity": _l("Capacity (people)"),
    "cost": _l("Cost"),
    "languages": _l("Languages spoken"),
    "populations": _l("Serves in particular"),
    "categories": _l("Services"),
    "status": _l("Status"),
    "status_until": _l("Status until"),
    "hours_confirmed": _l("Hours confirmed by the organization"),
    "opening_hours": _l("Opening hours"),
    "archived_at": _l("Archived"),
    "notes": _l("Notes"),
    "notes_language": _l("Notes: language they were written in"),
    "protection_phone": _l("24/7 protection line"),
    "admission_rules": _l("Who is admitted"),
    "admission_rules_language": _l("Who is admitted: language it was written in"),
    "what_to_bring": _l("What to bring"),
    "what_to_bring_language": _l("What to bring: language it was written in"),
}

# Fields kept per language ("notes.es" in a history), and those naming a language.
PER_LANGUAGE = frozenset({"notes", *editing.LOCALIZED_TEXTS})
LANGUAGE_FIELDS = frozenset({"notes_language", *editing.LOCALIZED_TEXTS.values()})


def field_label(name: str) -> str:
    """A history field's name for people ("opening_hours.mo" → "Opening hours: Monday",
    "admission_rules.fr" → "Who is admitted (French)")."""
    base, _dot, key = name.partition(".")
    label = str(FIELD_LABELS.get(base, base.replace("_", " ")))
    if key and base in PER_LANGUAGE:  # before the days: "fr" is French here, not Friday
        return f"{label} ({language_name(key)})"
    if key in DAY_NAMES:
        return f"{label}: {DAY_NAMES[key]}"
    if key == "always":
        return f"{label}: {_('24 hours, every day')}"
    return label


def shown(value: Any, field: str | None = None) -> str:
    """A value from a snapshot as text ("—" for none); ``field`` (its name in the snapshot)
    names languages as people call them ("es" → "español")."""
    if value is None or value == [] or value == "" or value == {}:
        return "—"
    base = (field or "").partition(".")[0]
    if base in LANGUAGE_FIELDS and isinstance(value, str):
        return language_name(value)
    if base in PER_LANGUAGE and isinstance(value, dict):
        return "; ".join(f"{language_name(key)}: {shown(item)}" for key, item in value.items())
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        if value and all(isinstance(item, list) for item in value):
            return ", ".join("–".join(str(part) for part in item) for item in value)
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {shown(item)}" for key, item in value.items())
    if isinstance(value, str) and len(value) > 18 and value[10:11] == "T":
        try:
            return format_datetime(dt.datetime.fromisoformat(value), "medium")
        except ValueError:
            return value
    return str(value)


def _location_or_404(location_id: int) -> Location:
    # A plain get, no joinedload: apply_edit re-reads the row with SELECT … FOR UPDATE and
    # a refresh keeps the load's options (an outer join cannot be locked).
    location = db.session.get(Location, location_id)
    if location is None:
        abort(404)
    return location


def allowed_fields(user: User | None, location: Location) -> frozenset[str]:
    """All of a location for whoever may edit its organization; else the short list."""
    if can(user, Action.EDIT, location.organization):
        return editing.EDITABLE_FIELDS
    return editing.LIMITED_FIELDS


def _map_config(location: Location) -> dict[str, Any]:
    tiles = None
    if current_app.config["TILE_URL"]:
        sample = url_for("tiles.tile", z=0, x=0, y=0)
        tiles = sample.removesuffix("/0/0/0.png") + "/{z}/{x}/{y}.png"
    position = location.position
    return {
        "tiles": tiles,
        "attribution": current_app.config["TILE_ATTRIBUTION"] if tiles else None,
        "maxZoom": TILE_MAX_ZOOM,
        "outlinesUrl": url_for("api.country_outlines"),
        "lat": position.lat,
        "lon": position.lon,
    }


def _choices(form: LocationForm) -> None:
    language = current_language()
    if "country" in form:
        countries = db.session.scalars(select(Country)).all()
        names = sorted(
            ((country.code, country.name(language)) for country in countries),
            key=lambda pair: pair[1],
        )
        form.country.choices = [SelectChoice(code, name) for code, name in names]
    if "categories" in form:
        categories = db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.position))
        form.categories.choices = [SelectChoice(c.code, c.name(language)) for c in categories]


def _language_choices(form: LocationForm, location: Location) -> None:
    """The "written in" choices: our four languages, and the record's own original when it
    is another one (a text from an import), so saving keeps it."""
    for language_field in editing.LOCALIZED_TEXTS.values():
        if language_field not in form:
            continue
        languages = list(LOCALES)
        original = getattr(location, language_field)
        if original and original not in languages:
            languages.append(original)
        form[language_field].choices = [
            SelectChoice("", "—"),
            *(SelectChoice(code, language_name(code)) for code in languages),
        ]


def _kept_texts(location: Location, texts_field: str) -> dict[str, str]:
    """The record's texts in languages the form does not show: kept as they are."""
    texts = getattr(location, texts_field) or {}
    return {code: text for code, text in texts.items() if code not in LOCALES}


def _fill(form: LocationForm, location: Location) -> None:
    """The form as the record is now (GET, or after a stale edit's reload)."""
    position = location.position
    values: dict[str, Any] = {
        "name": location.name or "",
        "address": location.address or "",
        "city": location.city,
        "admin_area": location.admin_area or "",
        "country": location.country_code,
        "lat": repr(position.lat),
        "lon": repr(position.lon),
        "position_precision": location.position_precision.value,
        "phones": "\n".join(location.phones),
        "whatsapp": location.whatsapp or "",
        "email": location.email or "",
        "capacity": location.capacity,
        "cost": location.cost.value if location.cost else "",
        "languages": ", ".join(location.languages),
        "populations": list(location.populations),
        "categories": [category.code for category in location.categories],
        "status": location.status.value,
        "hours_confirmed": location.hours_confirmed,
        "protection_phone": location.protection_phone or "",
    }
    for texts_field, language_field in editing.LOCALIZED_TEXTS.items():
        texts = getattr(location, texts_field) or {}
        for language in LOCALES:
            values[text_field(texts_field, language)] = texts.get(language, "")
        values[language_field] = getattr(location, language_field) or ""
    for name, value in values.items():
        if name in form:
            getattr(form, name).data = value
    if "until_date" in form:
        if location.status_until is not None:
            local = location.status_until.astimezone(ZoneInfo(location.timezone))
            if local.time() == dt.time(0, 0):  # "until the end of the day before"
                form.until_date.data = local.date() - dt.timedelta(days=1)
                form.until_time.data = None
            else:
                form.until_date.data = local.date()
                form.until_time.data = local.time().replace(second=0, microsecond=0)
        else:
            form.until_date.data = form.until_time.data = None
    if "hours" in form:
        form.hours.form.fill(editing.week_from_hours(location.opening_hours))
    form.version.data = str(location.version)


def _refused_keys(form_data: Any, allowed: frozenset[str]) -> set[str]:
    """Posted fields the user may not change (none from a form we rendered)."""
    refused = set()
    for key in form_data:
        top = key.split("-", 1)[0]
        if top not in FIELD_NAMES:
            continue
        if not set(FORM_FIELDS.get(top, (top,))) <= allowed:
            refused.add(top)
    return refused


class Checked:
    """The changes a valid form asks for, or the problems that stop it (beside fields)."""

    def __init__(self) -> None:
        self.changes: dict[str, Any] = {}
        self.point_problem: str | None = None
        self.hours_problems: dict[str, list[str]] = {}
        self.timezone: str | None = None


def _check(form: LocationForm, location: Location, now: dt.datetime) -> Checked:
    """Turn a submitted form into model changes, with the checks that need the database."""
    checked = Checked()
    changes = checked.changes
    has = form.__contains__
    for name in ("name", "address", "admin_area", "whatsapp", "email"):
        if has(name):
            changes[name] = (getattr(form, name).data or "").strip() or None
    if has("city"):
        changes["city"] = (form.city.data or "").strip()
    if has("country"):
        changes["country_code"] = form.country.data
    if (
        has("lat")
        and form.lat.number is not None
        and form.lon.number is not None
        and (form.country.data in {choice.value for choice in form.country.choices or []})
    ):
        position = LonLat(form.lon.number, form.lat.number)
        result = editing.check_point(db.session, position, form.country.data or "")
        checked.timezone = result.timezone
        if result.problem == editing.Problem.POINT_OUTSIDE_COUNTRY:
            found = db.session.get(Country, result.found_country)
            chosen = db.session.get(Country, form.country.data)
            language = current_language()
            checked.point_problem = _(
                "This point lies in %(found)s, not in %(chosen)s: check the coordinates "
                "(latitude and longitude swapped?) or the country.",
                found=found.name(language) if found else result.found_country,
                chosen=chosen.name(language) if chosen else form.country.data,
            )
        elif result.problem is not None:
            checked.point_problem = str(PROBLEMS[result.problem])
        changes["point"] = position.to_wkt_element()
    if has("position_precision"):
        changes["position_precision"] = _enum(PositionPrecision, form.position_precision.data)
    if has("phones"):
        changes["phones"] = phone_list(form.phones.data)
    if has("capacity"):
        changes["capacity"] = form.capacity.data
    if has("cost"):
        changes["cost"] = _enum(Cost, form.cost.data)
    if has("languages"):
        changes["languages"] = list(dict.fromkeys(split_codes(form.languages.data)))
    if has("populations"):
        changes["populations"] = list(form.populations.data or [])
    if has("categories"):
        codes = set(form.categories.data or [])
        changes["categories"] = list(
            db.session.scalars(select(ServiceCategory).where(ServiceCategory.code.in_(codes)))
        )
    if has("status"):
        status = _enum(OperationalStatus, form.status.data) or OperationalStatus.OPEN
        changes["status"] = status
        changes["status_until"] = None
        if status != OperationalStatus.OPEN and form.until_date.data is not None:
            zone = checked.timezone or location.timezone
            until = editing.status_end(form.until_date.data, form.until_time.data, zone)
            # An end already on the record is kept as it is (the home page lists it when
            # it has passed); a new one must be to come.
            problem = editing.check_until(until, now) if until != location.status_until else None
            if problem is not None:
                form.until_date.errors = [*form.until_date.errors, str(PROBLEMS[problem])]
            changes["status_until"] = until
        elif status != OperationalStatus.OPEN and form.until_time.data is not None:
            form.until_date.errors = [*form.until_date.errors, _("Give the date too.")]
    if has("hours_confirmed"):
        changes["hours_confirmed"] = bool(form.hours_confirmed.data)
    if has("hours"):
        hours, problems = editing.hours_from_week(form.hours.form.value())
        checked.hours_problems = {
            day: [str(PROBLEMS[problem]) for problem in found] for day, found in problems.items()
        }
        changes["opening_hours"] = hours
    if has("protection_phone"):
        number = (form.protection_phone.data or "").strip() or None
        problem = editing.check_protection_phone(location.organization.kind, number)
        if problem is not None:
            _add_error(form, "protection_phone", problem)
        changes["protection_phone"] = number
    for texts_field, language_field in editing.LOCALIZED_TEXTS.items():
        if not has(language_field):
            continue
        texts = {**_kept_texts(location, texts_field), **form.texts(texts_field)}
        original, problem = editing.original_language(texts, form[language_field].data or None)
        if problem is not None:
            _add_error(form, language_field, problem)
        changes[texts_field] = texts
        changes[language_field] = original
    return checked


def _add_error(form: LocationForm, name: str, problem: editing.Problem) -> None:
    """The service's ``problem`` worded beside the field ``name``."""
    form[name].errors = [*form[name].errors, str(PROBLEMS[problem])]


def _enum(kind: Any, value: Any) -> Any:
    """``value`` as a member of the enum ``kind``, or None (empty or not one of them)."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _has_errors(form: LocationForm, checked: Checked) -> bool:
    return bool(
        checked.point_problem
        or checked.hours_problems
        or any(field.errors for field in form)
        or ("until_date" in form and form.until_date.errors)
    )


def _render(location: Location, form: LocationForm, status: int = 200, **extra: Any):
    context = {
        "location": location,
        "form": form,
        "map_config": _map_config(location),
        "point_problem": None,
        "hours_problems": {},
        "conflicts": [],
        "full_form": "name" in form,
        "consular": editing.is_consular_office(location),
        "field_label": field_label,
        "shown": shown,
        **extra,
    }
    return render_template("workspace/location_edit.html", **context), status


@workspace.route("/locations/<int:location_id>/edit", methods=["GET", "POST"])
@policy(SEARCH)
def location_edit(location_id: int):
    location = _location_or_404(location_id)
    user = acting_user()
    require(Action.EDIT, location)
    allowed = allowed_fields(user, location)
    form = LocationForm()
    form.restrict_to(allowed)
    _choices(form)
    _language_choices(form, location)
    if request.method == "GET":
        _fill(form, location)
        return _render(location, form)
    if _refused_keys(request.form, allowed):
        refuse(user, Action.EDIT, location)
    if not str(request.form.get("version", "")).isdigit():
        abort(400)  # not a form we rendered: it always carries the version
    valid = form.validate()
    checked = _check(form, location, dt.datetime.now(dt.UTC))
    if not valid or _has_errors(form, checked):
        return _render(
            location,
            form,
            400,
            point_problem=checked.point_problem,
            hours_problems=checked.hours_problems,
        )
    try:
        result = editing.save_location(
            db.session,
            location,
            checked.changes,
            expected_version=int(form.version.data),
            user_id=user.id if user else None,
            allowed=allowed,
        )
    except StaleEdit as stale:
        db.session.rollback()
        conflicts = stale_fields(stale.current, checked.changes, changed=stale.changed)
        location = _location_or_404(location_id)
        form.version.data = str(stale.version)
        return _render(location, form, 409, conflicts=conflicts, stale=stale)
    except editing.FieldsNotAllowed:
        refuse(user, Action.EDIT, location)
    except editing.ChangesRefused as refused:
        # _check words these before saving; this is the service's own guard (nothing written).
        db.session.rollback()
        for name, problem in refused.problems.items():
            if name in form:
                _add_error(form, name, problem)
        return _render(_location_or_404(location_id), form, 400)
    db.session.commit()
    public_url = url_for("public.place", location_id=location.id)
    flash(
        Markup('{} <a href="{}">{}</a>').format(_("Saved."), public_url, _("See the public page")),
        "info",
    )
    if result.recomputed:
        flash(
            _(
                "The consular districts of this office were recomputed (%(count)s groups).",
                count=len(result.recomputed),
            ),
            "info",
        )
    return redirect(url_for("workspace.location_edit", location_id=location.id))


@workspace.get("/locations/<int:location_id>/history")
@policy(SEARCH)
def location_history(location_id: int):
    location = _location_or_404(location_id)
    require(Action.READ, location)
    changes = list(reversed(history(db.session, Location, location.id)))
    user_ids = {change.user_id for change in changes if change.user_id is not None}
    users = {
        user.id: user.name for user in db.session.scalars(select(User).where(User.id.in_(user_ids)))
    }
    return render_template(
        "workspace/location_history.html",
        location=location,
        origin=provenance(db.session, location),
        changes=changes,
        users=users,
        field_label=field_label,
        shown=shown,
    )


def _archive_or_restore(location_id: int, archiving: bool):
    location = _location_or_404(location_id)
    user = acting_user()
    require(Action.ARCHIVE, location)
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400)
    act = editing.archive_location if archiving else editing.restore_location
    try:
        act(db.session, location, int(version), user.id if user else None)
    except StaleEdit:
        db.session.rollback()
        flash(
            _("Someone else saved this place meanwhile; nothing was changed. Look and try again."),
            "error",
        )
        return redirect(url_for("workspace.location_edit", location_id=location_id))
    db.session.commit()
    flash(_("Archived: the place left every public page.") if archiving else _("Restored."), "info")
    back = request.form.get("back", "")
    if back == "list":
        return redirect(url_for("workspace.locations_list"))
    return redirect(url_for("workspace.location_edit", location_id=location_id))


@workspace.post("/locations/<int:location_id>/archive")
@policy(SEARCH)
def location_archive(location_id: int):
    return _archive_or_restore(location_id, archiving=True)


@workspace.post("/locations/<int:location_id>/restore")
@policy(SEARCH)
def location_restore(location_id: int):
    return _archive_or_restore(location_id, archiving=False)


@workspace.get("/locations")
@policy(SEARCH)
def locations_list():
    """The locations in what the user looks after (a country, an organization, or all),
    searched by name or town; archived ones are listed, marked, with "restore"."""
    require(Action.READ)
    user = acting_user()
    language = current_language()
    query_text = request.args.get("q", "").strip()[:100]
    country = request.args.get("country", "").strip().upper()[:2]
    query = select(Location).join(Location.organization).options(joinedload(Location.organization))
    if user is not None and user.country_code:
        query = query.where(Location.country_code == user.country_code)
    if user is not None and user.organization_id:
        query = query.where(Location.organization_id == user.organization_id)
    if country:
        query = query.where(Location.country_code == country)
    if query_text:
        escaped = query_text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                Location.name.ilike(pattern),
                Organization.name.ilike(pattern),
                Location.city.ilike(pattern),
            )
        )
    query = query.order_by(Location.country_code, Location.city, Organization.name, Location.id)
    found = db.session.scalars(query.limit(LIST_LIMIT + 1)).unique().all()
    countries = db.session.scalars(select(Country)).all()
    country_choices = sorted(
        ((c.code, c.name(language)) for c in countries), key=lambda pair: pair[1]
    )
    return render_template(
        "workspace/location_list.html",
        locations=found[:LIST_LIMIT],
        more=len(found) > LIST_LIMIT,
        q=query_text,
        country=country,
        country_choices=country_choices,
        scoped=bool(user is not None and (user.country_code or user.organization_id)),
    )
