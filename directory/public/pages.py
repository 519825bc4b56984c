"""What every public page shares: the map's base settings, and forms that show their errors.

A page with a form reads its query string like the API does (``directory.web``); a bad
value is shown beside the form with status 400 instead of the JSON error shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, render_template, url_for

from directory.web.errors import ApiError


def map_base(**extra: Any) -> dict[str, Any]:
    """What the page scripts need for any map: tiles (or none: then no attribution either,
    so the page names no third-party host) and the outlines layer."""
    tiles = current_app.config["TILE_URL"] or None
    return {
        "tiles": tiles,
        "attribution": current_app.config["TILE_ATTRIBUTION"] if tiles else None,
        "outlinesUrl": url_for("api.country_outlines"),
        **extra,
    }


def form_page(template: str, blank: Callable[..., dict[str, Any]]):
    """Render ``template`` with ``blank(**view_args)`` and the message, status 400, when the
    view raises a 400 ``ApiError`` (a parameter the person can fix)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**view_args: Any) -> Any:
            try:
                return view(**view_args)
            except ApiError as error:
                if error.status != 400:
                    raise
                context = {**blank(**view_args), "error": error.message}
                return render_template(template, **context), 400

        return wrapper

    return decorate
