"""What every public page shares: the map's base settings, and forms that show their errors.

A page with a form reads its query string like the API does (``directory.web``); a bad
value is shown beside the form with status 400 instead of the JSON error shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import current_app, render_template, request, url_for
from marshmallow import Schema

from directory.i18n.selection import LANG_PARAM, chosen_language
from directory.public import public
from directory.tiles.service import MAX_ZOOM as TILE_MAX_ZOOM
from directory.web.errors import ApiError
from directory.web.schemas import ConsulatePageArgs, FinderArgs, NearPageArgs, RoutePageArgs


def tile_template(*, external: bool = False) -> str | None:
    """Our own tile endpoint as a ``{z}/{x}/{y}`` template, or ``None`` without a base map
    (``TILE_URL`` empty). Pages never see ``TILE_URL``: only our server asks it."""
    if not current_app.config["TILE_URL"]:
        return None
    sample = url_for("tiles.tile", z=0, x=0, y=0, _external=external)
    return sample.removesuffix("/0/0/0.png") + "/{z}/{x}/{y}.png"


def map_base(**extra: Any) -> dict[str, Any]:
    """What the page scripts need for any map: tiles from our own origin (or none: then no
    attribution either) and the outlines layer."""
    tiles = tile_template()
    return {
        "tiles": tiles,
        "attribution": current_app.config["TILE_ATTRIBUTION"] if tiles else None,
        "maxZoom": TILE_MAX_ZOOM,
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


# The search pages a place page may lead back to, and the parameters each understands.
SEARCH_PAGES: dict[str, type[Schema]] = {
    "public.near": NearPageArgs,
    "public.route": RoutePageArgs,
    "public.consulate_finder": FinderArgs,
    "public.consulate": ConsulatePageArgs,
}


# The searches a place page may lead back to: our own pages only (never another site).
BACK_TO = ("/near", "/routes/", "/consulates")


def back_link(value: str | None) -> str | None:
    """The search a place was opened from, when it is one of our own search pages."""
    if not value or not value.startswith(BACK_TO) or "\\" in value:
        return None
    return value


def _wire_names(schema: type[Schema]) -> set[str]:
    return {field.data_key or name for name, field in schema().fields.items()}


def _understood_parameters() -> list[tuple[str, str]]:
    """This page's parameters that it understands, in order; a shared link's ``fbclid`` or
    ``utm_*``, or a ``back`` to another site, is left behind."""
    if request.endpoint == "public.place":
        back = back_link(request.args.get("back"))
        return [("back", back)] if back else []
    schema = SEARCH_PAGES.get(request.endpoint or "")
    names = _wire_names(schema) if schema else set()
    return [(key, value) for key, value in request.args.items(multi=True) if key in names]


@public.app_template_global("back_here")
def back_here() -> str:
    """This search page's address with the parameters it understands and the language, for
    the place pages it links to."""
    pairs = _understood_parameters()
    if choice := chosen_language():
        pairs.append((LANG_PARAM, choice))
    return request.path + ("?" + urlencode(pairs) if pairs else "")


@public.app_template_global("switch_url")
def switch_url(code: str) -> str:
    """This page in another language: the same path and understood parameters, ``lang``
    set (the language switcher and ``<link rel="alternate" hreflang>``)."""
    return request.path + "?" + urlencode([*_understood_parameters(), (LANG_PARAM, code)])
