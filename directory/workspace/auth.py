"""Who is signed in: Flask-Login, CSRF on every form, and the session cookie's rules.

* The session keeps the user's id and security stamp (``User.get_id``): a new password, a
  used set-password link or a deactivation signs every other session out at its next
  request.
* Sessions are permanent with a short lifetime refreshed by each request, so they end
  after ``PERMANENT_SESSION_LIFETIME`` without a request (Flask refuses an older cookie
  even when a browser kept it).
* The cookie is HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS
  (behind a proxy: ``TRUSTED_PROXIES`` makes its ``X-Forwarded-Proto`` count).
* Every workspace page but sign-in and the set-password link needs a signed-in user; a
  role that requires a second factor can do nothing else until it is set up.
* CSRF tokens on every form (Flask-WTF), except the public JSON API, which has no cookie
  to protect and takes POST /api/v1/corridor from anyone.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from directory.accounts.models import User
from directory.db import db

login_manager = LoginManager()
csrf = CSRFProtect()

# Workspace pages a visitor who is not signed in may open.
OPEN_ENDPOINTS = frozenset({"workspace.sign_in", "workspace.set_password", "workspace.two_factor"})
# What a signed-in user whose role requires a second factor may open before setting it up.
SETUP_ENDPOINTS = frozenset({"workspace.two_factor_setup", "workspace.sign_out"})


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure for a request that came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = bool(app.config["SESSION_COOKIE_SECURE"])
        return forced or (has_request_context() and request.is_secure)


def load_user(session_id: str) -> User | None:
    """The user of a session (``"<id>:<stamp>"``), if the account is active and its stamp
    has not changed since the session began."""
    user_id, _sep, stamp = session_id.partition(":")
    if not user_id.isdigit() or not stamp:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.security_stamp.encode(), stamp.encode()):
        return None
    return user


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/workspace/…``), else None: a ``next``
    parameter must never send a person to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def guard() -> Response | None:
    """Before every workspace view: signed in (else to sign-in, coming back here after), and
    the second factor set up where the role requires it."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("workspace.sign_in", next=back))
    user: User = current_user  # type: ignore[assignment]
    if user.needs_two_factor and not user.totp_enabled and request.endpoint not in SETUP_ENDPOINTS:
        return redirect(url_for("workspace.two_factor_setup"))
    return None


def workspace_headers(response: Response) -> Response:
    # Our own forms send a Referer to our own origin (Flask-WTF checks it on HTTPS); the
    # site's no-referrer still holds for every other destination.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _csrf_refused(error: CSRFError):
    text = _(
        "The form could not be accepted: it expired or did not come from this site. "
        "Open the page again and resend it."
    )
    return render_template("error.html", status=400, title=_("Bad Request"), text=text), 400


def _forget_previous_request() -> None:
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def install(app: Flask, *, exempt: Blueprint) -> None:
    """Sign-in, sessions and CSRF for ``app``; ``exempt`` (the JSON API) takes no tokens.
    (The workspace blueprint runs ``guard`` and ``workspace_headers``: directory/workspace/
    views.py.)"""
    app.session_interface = SessionInterface()
    # First of all (before CSRFProtect's own check): nothing cached on ``g`` by an earlier
    # request is trusted. An app context can outlive a request (tests hold one), and
    # Flask-Login keeps the user there, Flask-WTF the form token.
    app.before_request(_forget_previous_request)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    csrf.exempt(exempt)
    app.register_error_handler(CSRFError, _csrf_refused)
