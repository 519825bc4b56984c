"""``GET /tiles/<z>/<x>/<y>.png``: the base map's tiles, from our own origin.

The view parses, asks the cache (``service``), responds. Tiles are the same for everyone,
so shared caches may keep them a day (``http.public``). Errors have the one error shape and
are never cached: 400 for coordinates no tile has, 404 when there is no base map or the
upstream has no such tile, 503 with ``Retry-After`` when the upstream cannot answer now
(the page still shows our own layers).

Rate limit: a map view loads about twenty tiles at once and a person panning and zooming
loads hundreds a minute, many people may share one address (a shelter's Wi-Fi), and a tile
from the cache costs us a file read. So only the tiles fetched from the upstream count, per
client, against ``TILE_RATE_LIMIT`` (300 a minute): browsing is never stopped, while one
client cannot turn us into a bulk downloader of the upstream's tiles.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app
from werkzeug.exceptions import HTTPException, MethodNotAllowed, TooManyRequests

from directory.config import DEFAULT_TILE_USER_AGENT
from directory.tiles.service import (
    InvalidTile,
    TileCache,
    TileNotFound,
    TileSettings,
    TileUnavailable,
)
from directory.web import http
from directory.web.errors import ApiError, error_response, invalid_parameter

tiles = Blueprint("tiles", __name__)

BROWSER_MAX_AGE = 24 * 3600
CACHE_STATUS_HEADER = "X-Tile-Cache"  # hit, miss (fetched now) or stale


@tiles.get("/tiles/<int:z>/<int:x>/<int:y>.png")
@http.policy(http.public(BROWSER_MAX_AGE))
def tile(z: int, x: int, y: int) -> Response:
    """One tile of the base map, from our cache or fetched for it."""
    try:
        found = current_app.extensions["tiles"].get(z, x, y)
    except InvalidTile as error:
        raise invalid_parameter(error.name, error.message) from None
    except TileNotFound:
        raise ApiError("not_found", "There is no such map tile.", status=404) from None
    except TileUnavailable as error:
        response, status = error_response(
            "unavailable", "The map's base layer cannot be fetched right now.", 503
        )
        response.headers["Retry-After"] = str(error.retry_after)
        response.status_code = status
        return response
    response = current_app.response_class(found.body, mimetype=found.content_type)
    response.headers[CACHE_STATUS_HEADER] = found.source
    return response


@tiles.get("/tiles/<path:rest>")
@http.policy(http.SEARCH)  # only ever an error
def not_a_tile(rest: str) -> Response:
    """Any other path under /tiles/: the error shape, not the HTML error page."""
    raise ApiError("not_found", "There is no such map tile.", status=404)


@tiles.errorhandler(MethodNotAllowed)
@tiles.errorhandler(TooManyRequests)
def tile_request_refused(error: HTTPException):
    """Past the budget (429, with the limiter's Retry-After) or not a GET: the error shape,
    as for every other tile error (the app renders HTML pages for paths outside /api/)."""
    code = (error.name or "error").lower().replace(" ", "_")
    return error_response(code, error.description or error.name, error.code or 400)


def _fetched_upstream(response: Response) -> bool:
    return response.headers.get(CACHE_STATUS_HEADER) == "miss"


def settings_of(app: Flask) -> TileSettings:
    config = app.config
    cache_dir = config["TILE_CACHE_DIR"] or str(Path(app.instance_path) / "tiles")
    return TileSettings(
        upstream=config["TILE_URL"],
        cache_dir=Path(cache_dir),
        user_agent=config["TILE_USER_AGENT"],
        max_age=int(config["TILE_CACHE_MAX_AGE"]),
        timeout=float(config["TILE_UPSTREAM_TIMEOUT"]),
        concurrency=int(config["TILE_UPSTREAM_CONCURRENCY"]),
    )


def install(app: Flask) -> None:
    """The tile cache of this process, its route, its rate limit and its log filter.
    Called after the rate limiter is installed (``directory.web.limits``)."""
    app.extensions["tiles"] = TileCache(settings_of(app))
    app.register_blueprint(tiles)
    for limiter in app.extensions.get("limiter", ()):
        limiter.limit(
            lambda: app.config["TILE_RATE_LIMIT"],
            scope="tiles",
            deduct_when=_fetched_upstream,
        )(tiles)
    if (
        app.config["TILE_URL"]
        and app.config["TILE_USER_AGENT"] == DEFAULT_TILE_USER_AGENT
        and app.config.get("DIRECTORY_ENV") == "production"
        and not app.config.get("TESTING")
    ):
        logging.getLogger(__name__).warning(
            "TILE_USER_AGENT is not set: tile servers ask for a User-Agent naming the site "
            "and a contact (e.g. 'protection-directory (https://example.org; ops@example.org)')"
        )
