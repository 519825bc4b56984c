"""The public "suggest a correction" form of a place (issue 13, point 2).

No account and nothing about the sender: the form sends what is wrong and a free text;
``suggestions.services`` keeps those and the page's language, nothing else (no address,
no position, no browser). Nothing here logs the text either.

Abuse is kept small without a third party: the app-wide CSRF token (Flask-WTF), a field
people never see (``website``: a bot that fills it is thanked and nothing is stored), a
length limit (400 with the message beside the field), and a budget of suggestions per
client and window (``SUGGESTION_RATE_LIMIT``, counted against a salted hash of the
address like every other limit: ``directory.web.limits``). The page is light: no map, no
script; it works as a plain form.
"""

from __future__ import annotations

import time
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse

from directory.db import db
from directory.i18n.selection import current_language
from directory.places.models import Location
from directory.places.records import public_location
from directory.public import public
from directory.suggestions import services
from directory.suggestions.models import TEXT_MAX_LENGTH, SuggestionKind
from directory.web import http
from directory.web.limits import client_key

# The field people never see; whoever fills it is a bot.
HONEYPOT = "website"

KIND_LABELS = {
    SuggestionKind.CLOSED: _l("It is closed"),
    SuggestionKind.MOVED: _l("It has moved"),
    SuggestionKind.PHONE: _l("The phone number is wrong"),
    SuggestionKind.HOURS: _l("The opening hours are wrong"),
    SuggestionKind.OTHER: _l("Something else"),
}

PROBLEMS = {
    services.Problem.KIND_UNKNOWN: _l("Choose what is wrong."),
    services.Problem.TEXT_MISSING: _l("Say in a few words what is wrong."),
    services.Problem.TEXT_TOO_LONG: _l(
        "This text is too long: at most %(count)s characters.", count=TEXT_MAX_LENGTH
    ),
}


def _retry_after() -> int | None:
    """Count this suggestion against the client's budget: None when it may go on, else
    the seconds until it may try again. Every attempt counts, accepted or not."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return None
    item = parse(config["SUGGESTION_RATE_LIMIT"])
    key = client_key()
    waits = []
    for limiter in current_app.extensions.get("limiter", ()):
        strategy = limiter.limiter
        if not strategy.hit(item, "suggestion", key):
            reset_at = strategy.get_window_stats(item, "suggestion", key).reset_time
            waits.append(max(1, int(reset_at - time.time()) + 1))
    return max(waits) if waits else None


def _page(location: Location, status: int = 200, **extra: Any):
    context = {
        "location": location,
        "kind_choices": [(kind.value, KIND_LABELS[kind]) for kind in services.PUBLIC_KINDS],
        "kind_labels": KIND_LABELS,
        "chosen": "",
        "text": "",
        "errors": {},
        "problem": None,
        "text_max": TEXT_MAX_LENGTH,
        "honeypot": HONEYPOT,
        **extra,
    }
    response = current_app.make_response((render_template("suggest.html", **context), status))
    return _same_origin_referrer(response)


def _same_origin_referrer(response: Any) -> Any:
    """The site sends no Referer anywhere; this form must send one to our own origin, since
    Flask-WTF checks it on HTTPS (as the workspace's forms do)."""
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@public.route("/places/<int:location_id>/suggest", methods=["GET", "POST"])
@http.policy(http.SEARCH)  # a form with this browser's token; what it sends is private
def suggest(location_id: int):
    location = public_location(db.session, location_id)
    if location is None:
        abort(404)
    if request.method == "GET":
        if request.args.get("sent"):
            return render_template("suggest_thanks.html", location=location)
        return _page(location)

    chosen = request.form.get("kind", "")
    text = request.form.get("text", "")
    wait = _retry_after()
    if wait is not None:
        response = _page(
            location,
            429,
            chosen=chosen,
            text=text[: TEXT_MAX_LENGTH * 2],
            problem=_(
                "Too many suggestions from this device. Please try again in %(minutes)s minutes.",
                minutes=max(1, round(wait / 60)),
            ),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    thanked = redirect(url_for("public.suggest", location_id=location.id, sent=1), 303)
    if request.form.get(HONEYPOT, "").strip():
        return thanked  # a bot: as if thanked, and nothing stored
    try:
        services.submit_public(
            db.session, location, kind=chosen, text=text, language=current_language()
        )
    except services.InvalidSuggestion as invalid:
        errors = {field: str(PROBLEMS[problem]) for field, problem in invalid.problems.items()}
        # A text far too long is not sent back whole: the person has it in their own copy.
        shown = text if len(text) <= TEXT_MAX_LENGTH * 2 else text[: TEXT_MAX_LENGTH * 2]
        return _page(location, 400, chosen=chosen, text=shown, errors=errors)
    db.session.commit()
    return thanked
