"""Security headers on every response: what a browser may load, send and show.

The pages hold no inline script or style attribute, so the Content-Security-Policy allows
scripts and styles from our own origin only; images also from the configured tile server
(the one third-party host a page may contact, and only when configured). Searchers'
pages must not leak where they were to another site (``Referrer-Policy: no-referrer``) or
be framed by one. Geolocation is allowed for our own pages only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"


def tile_source(tile_url: str) -> str | None:
    """The CSP source of a tile URL template: ``https://{s}.tile.x.org/…`` →
    ``https://*.tile.x.org``; ``None`` without tiles."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.hostname or ""
    if "{s}" in tile_url:
        host = "*." + host.split(".", 1)[1]
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(tile_url: str) -> str:
    images = " ".join(filter(None, ("'self'", "data:", tile_source(tile_url))))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy", content_security_policy(current_app.config["TILE_URL"])
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register(app: Flask) -> None:
    app.after_request(_add_headers)
