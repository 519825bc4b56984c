"""Which language a request is answered in, and how the choice travels.

The order: the ``lang`` parameter of the URL (a shared link opens in the language it was
sent in), then the ``lang`` cookie (the person's last choice, and nothing else), then the
browser's ``Accept-Language``, then Spanish. A code we do not have is ignored, never an
error; werkzeug's parser skips a malformed ``Accept-Language``.

Why a parameter and not a path prefix (``/ht/near``): one set of routes, and the API, the
static files and the map tiles keep a single address each (a prefix would split the
browser's cache of tiles and scripts four ways, or need exceptions). Every link to a page
carries ``lang`` once a choice was made (``url_for`` adds it), the GET forms carry it in a
hidden field, the switcher links to the same page with the parameters it understands
(``switch_url`` in ``directory/public/pages.py``), and answers chosen by header or cookie
say ``Vary: Accept-Language, Cookie`` so that no cache hands one language to another reader.
"""

from __future__ import annotations

import flask_babel
from flask import Flask, Response, has_request_context, request
from markupsafe import Markup, escape

from directory.i18n import DEFAULT_LANGUAGE, LANGUAGES, script_strings

LANG_PARAM = "lang"
LANG_COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Endpoints whose links carry the choice: the pages. The API answers in the
# ``Accept-Language`` of the request; static files and tiles have no language.
PAGE_BLUEPRINTS = ("public.", "workspace.")
# Pages for people that live under /api/ (the API reference).
PAGES_UNDER_API = frozenset({"api.reference"})
# Per request, not on ``g``: an app context may outlive one request (tests hold one).
_CACHE_KEY = "directory.language"


def known_language(value: str | None) -> str | None:
    """``"ht"``, ``"HT"`` and ``"es-MX"`` name languages we have; anything else is None."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return code if code in LANGUAGES else None


def _is_page(endpoint: str | None) -> bool:
    return (endpoint or "").startswith(PAGE_BLUEPRINTS) or endpoint in PAGES_UNDER_API


def _is_api() -> bool:
    if _is_page(request.endpoint):
        return False
    return (request.endpoint or "").startswith("api.") or request.path.startswith("/api/")


def chosen_language() -> str | None:
    """The language the person chose: in the URL, else in the cookie, else None. The API
    reads neither: it answers in the request's ``Accept-Language`` (our scripts send the
    page's language in that header)."""
    cache = request.environ.setdefault(_CACHE_KEY, {})
    if "chosen" not in cache:
        cache["chosen"] = (
            None
            if _is_api()
            else known_language(request.args.get(LANG_PARAM))
            or known_language(request.cookies.get(LANG_COOKIE))
        )
    return cache["chosen"]


def select_language() -> str:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return (
        chosen_language()
        or request.accept_languages.best_match(list(LANGUAGES))
        or DEFAULT_LANGUAGE
    )


def current_language() -> str:
    """The language of this answer (a template global: ``<html lang>``)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    cache = request.environ.setdefault(_CACHE_KEY, {})
    if "language" not in cache:
        cache["language"] = select_language()
    return cache["language"]


def _carry_choice(endpoint: str, values: dict) -> None:
    """``url_for`` to a page adds ``lang`` when the person chose one."""
    if LANG_PARAM in values or not _is_page(endpoint):
        return
    if has_request_context() and (choice := chosen_language()):
        values[LANG_PARAM] = choice


def language_field() -> Markup:
    """The hidden field that keeps the choice when a GET form replaces the query string."""
    choice = chosen_language()
    if not choice:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(LANG_PARAM, escape(choice))


def _remember_and_vary(response: Response) -> Response:
    """Keep a choice made in the URL in the cookie; say what the answer depends on."""
    if request.endpoint in (None, "static") or (request.endpoint or "").startswith("tiles."):
        return response
    response.vary.add("Accept-Language")
    if _is_api():
        return response
    response.vary.add("Cookie")
    in_url = known_language(request.args.get(LANG_PARAM))
    if in_url and in_url != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE,
            in_url,
            max_age=COOKIE_MAX_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


def install(app: Flask) -> None:
    # Flask-Babel keeps the locale on ``g``; a fresh request must choose again even where an
    # app context outlives a request (tests hold one across several requests).
    app.before_request(flask_babel.refresh)
    app.url_defaults(_carry_choice)
    app.after_request(_remember_and_vary)
    app.add_template_global(current_language)
    app.add_template_global(language_field)
    app.add_template_global(LANGUAGES, "languages")
    app.add_template_global(script_strings.for_scripts, "script_strings")
