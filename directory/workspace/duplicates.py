"""The likely-duplicates report (issue 13, point 5): pairs of places that are probably the
same, side by side with where each came from, for the secretariat to keep one and archive
the other (``directory.records.duplicates``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from directory.db import db
from directory.imports.provenance import provenance
from directory.places.models import Country, Location
from directory.records import StaleEdit
from directory.records.duplicates import NAME_SIMILARITY, WITHIN_METRES, likely_duplicates, merge
from directory.web.http import SEARCH, policy
from directory.workspace import workspace
from directory.workspace.access import acting_user, require
from directory.workspace.permissions import Action


@workspace.get("/duplicates")
@policy(SEARCH)
def duplicates():
    require(Action.REVIEW_DUPLICATES)
    country = request.args.get("country", "").strip().upper()[:2] or None
    pairs = likely_duplicates(db.session, country)
    origins = {
        location.id: provenance(db.session, location)
        for pair in pairs
        for location in (pair.first, pair.second)
    }
    countries = db.session.scalars(select(Country.code).order_by(Country.code)).all()
    return render_template(
        "workspace/duplicates.html",
        pairs=pairs,
        origins=origins,
        country=country or "",
        countries=countries,
        within=int(WITHIN_METRES),
        similarity=NAME_SIMILARITY,
    )


def _location_or_404(value: str) -> Location:
    if not value.isdigit():
        abort(400)
    location = db.session.get(Location, int(value))
    if location is None:
        abort(404)
    return location


@workspace.post("/duplicates/merge")
@policy(SEARCH)
def duplicates_merge():
    """Keep one place of a pair and archive the other (audited; a restore undoes it)."""
    require(Action.REVIEW_DUPLICATES)
    keep = _location_or_404(request.form.get("keep", ""))
    duplicate = _location_or_404(request.form.get("archive", ""))
    version = request.form.get("version", "")
    if not version.isdigit() or keep.id == duplicate.id:
        abort(400)
    require(Action.ARCHIVE, duplicate)
    user = acting_user()
    try:
        merge(
            db.session,
            keep,
            duplicate,
            duplicate_version=int(version),
            user_id=user.id if user else None,
        )
    except StaleEdit:
        db.session.rollback()
        flash(
            _("Someone else saved this place meanwhile; nothing was changed. Look and try again."),
            "error",
        )
        return redirect(url_for("workspace.duplicates"))
    db.session.commit()
    flash(
        _(
            "%(archived)s was archived; %(kept)s is kept. A restore on its page undoes this.",
            archived=duplicate.display_name,
            kept=keep.display_name,
        ),
        "info",
    )
    return redirect(url_for("workspace.duplicates", country=request.form.get("country") or None))
