"""The HTTP policy of every route, declared beside it, applied in one place.

Each view says how its responses may be cached::

    @api.get("/locations/nearest")
    @http.policy(http.SEARCH)
    def nearest_locations(): ...

A response of a route that declares nothing gets ``SEARCH``: ``private, no-store``, the
safe default, since a search carries a person's position or what they typed and must never
be kept by a shared cache or on a shared phone. ``Vary``, security headers and rate limits
attach here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, request

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """``Cache-Control`` for a route's responses.

    ``header`` is sent as it is, unless the request carries one of ``private_if`` (a
    position or a search term given to an otherwise public page): then ``SEARCH`` applies.
    """

    header: str
    private_if: tuple[str, ...] = ()

    def header_for(self, args: Any) -> str:
        if any(value.strip() for name in self.private_if for value in args.getlist(name)):
            return SEARCH.header
        return self.header


# Anything that takes a position or a search term.
SEARCH = CachePolicy("private, no-store")


def public(max_age: int, *, private_if: tuple[str, ...] = ()) -> CachePolicy:
    """Directory data, the same for everyone: shared caches may keep it ``max_age`` s."""
    return CachePolicy(f"public, max-age={max_age}", private_if)


def private(max_age: int) -> CachePolicy:
    """Hints at where somebody looks (a map's visible area): their browser only."""
    return CachePolicy(f"private, max-age={max_age}")


def policy(cache: CachePolicy) -> Callable[[F], F]:
    """Declare the cache policy of a view (put it under the route decorator)."""

    def declare(view: F) -> F:
        view.cache_policy = cache  # type: ignore[attr-defined]
        return view

    return declare


def declared_policy_of(app: Flask, endpoint: str | None) -> CachePolicy | None:
    """The policy the view of ``endpoint`` declared, if any."""
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "cache_policy", None)


def _apply(response: Response) -> Response:
    if request.endpoint == "static":
        return response  # Flask sets static files' max-age (SEND_FILE_MAX_AGE_DEFAULT)
    cache = declared_policy_of(current_app, request.endpoint) or SEARCH
    if response.status_code >= 400:
        cache = SEARCH  # an error is about this request: nobody else should be served it
    if "Set-Cookie" in response.headers:
        cache = SEARCH  # a cookie (the language chosen) is for this browser only
    header = cache.header_for(request.args)
    response.headers["Cache-Control"] = header
    if header.startswith("public") and response.status_code == 200:
        _conditional(response)
    return response


def _conditional(response: Response) -> None:
    """A weak ETag on public data, and 304 Not Modified when the client has it already.

    Weak: Flask-Compress leaves a weak validator as it is (it rewrites strong ones per
    encoding), and the compressed and plain bodies mean the same.
    """
    if request.method not in ("GET", "HEAD") or response.direct_passthrough:
        return
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32], weak=True)
    response.make_conditional(request)


def register(app: Flask) -> None:
    app.after_request(_apply)


GEOJSON = "application/geo+json"


def geojson(body: dict[str, Any] | str) -> Response:
    """A GeoJSON response: a dict to serialize, or text PostGIS already built."""
    if isinstance(body, str):
        return Response(body, mimetype=GEOJSON)
    response = jsonify(body)
    response.mimetype = GEOJSON
    return response
