"""Security headers on every response: what a browser may load, send and show.

The pages hold no inline script or style attribute, so the Content-Security-Policy allows
scripts, styles and images from our own origin only (and ``data:`` images): even the base
map's tiles come from us (``/tiles/…``, directory/tiles), so no third party learns where a
person looks. Searchers' pages must not leak where they were to another site
(``Referrer-Policy: no-referrer``) or be framed by one. Geolocation is allowed for our own
pages only.
"""

from __future__ import annotations

from flask import Flask, Response, request

HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"


def content_security_policy() -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
# On every answer, static files included (WhiteNoise adds them: directory/web/static.py),
# since an SVG opened on its own could otherwise run script. HSTS (below) is left to the
# pages and the API, which know whether the request came over HTTPS.
HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _add_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in HEADERS:
        headers.setdefault(name, value)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register(app: Flask) -> None:
    app.after_request(_add_headers)
