"""Helpers for workspace tests: accounts of each role, forms posted with their CSRF token,
signing in (with the second factor when the account has it).

CSRF stays on in tests, as in production: a test fetches the page that holds a form, reads
its token, and posts it back, as a browser does::

    user = make_user(db_session, UserRole.FOCAL_POINT, country_code="GT")
    sign_in(client, user)
    response = post_form(client, "/workspace/password", {"current": PASSWORD, ...})

Accounts are built with the services' own rules (scrypt hash, fresh security stamp); a
``secretariat`` account has two-step sign-in on unless a test says otherwise, since the
role cannot use the workspace without it.
"""

from __future__ import annotations

import re
import time
from html import unescape
from typing import Any

import pyotp
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from directory.accounts import passwords, totp
from directory.accounts.models import User, UserRole, new_security_stamp

PASSWORD = "a long test password"
SIGN_IN = "/workspace/sign-in"
TWO_FACTOR = "/workspace/two-factor"

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_numbers = iter(range(1, 1_000_000))


def make_user(
    session: Session,
    role: UserRole | str = UserRole.SECRETARIAT,
    *,
    email: str | None = None,
    name: str | None = None,
    password: str | None = PASSWORD,
    country_code: str | None = None,
    organization_id: int | None = None,
    two_factor: bool | None = None,
    active: bool = True,
) -> User:
    """A committed account of ``role`` with ``password`` (None: invited, no password yet).

    ``two_factor`` (default: on for the roles that require it) sets a TOTP secret and
    turns it on; ``totp_code(user)`` then gives a code that will be accepted.
    """
    role = UserRole(role)
    number = next(_numbers)
    user = User(
        email=email or f"{role.value}-{number}@example.org",
        name=name or f"{role.value.replace('_', ' ').title()} {number}",
        password_hash=passwords.hash_password(password) if password else None,
        role=role,
        country_code=country_code,
        organization_id=organization_id,
        active=active,
        security_stamp=new_security_stamp(),
    )
    if two_factor if two_factor is not None else user.needs_two_factor:
        user.totp_secret = totp.new_secret()
        user.totp_enabled = True
    session.add(user)
    session.commit()  # in tests, a savepoint released: views that roll back keep it
    return user


def totp_code(user: User) -> str:
    """A code the account will accept now: the current time step's, or the next one when
    the current one was used already (a code is accepted once)."""
    assert user.totp_secret, "the account has no second factor"
    generator = pyotp.TOTP(user.totp_secret)
    now = generator.timecode(time.time())
    step = now if user.totp_last_step is None else max(now - 1, user.totp_last_step + 1)
    assert step <= now + 1, "no unused code left in this 90 s window"
    return generator.generate_otp(step)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path`` (fetched with GET)."""
    page = client.get(path)
    assert page.status_code == 200, f"GET {path}: {page.status_code}"
    match = _TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return unescape(match.group(1))


def post_form(
    client: FlaskClient,
    path: str,
    data: dict[str, Any] | None = None,
    *,
    form_page: str | None = None,
    **kwargs: Any,
) -> TestResponse:
    """POST ``data`` to ``path`` with the CSRF token of the form on ``form_page`` (default:
    ``path`` itself; a button's form on another page, e.g. the users page, names it)."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def sign_in(
    client: FlaskClient,
    user: User,
    password: str = PASSWORD,
    *,
    second_factor: bool = True,
) -> TestResponse:
    """Sign ``user`` in through the sign-in page, and the code page when the account has
    two-step sign-in (``second_factor=False`` stops there). The last answer is returned."""
    response = post_form(client, SIGN_IN, {"email": user.email, "password": password})
    if second_factor and response.status_code == 302 and response.location.endswith(TWO_FACTOR):
        response = post_form(client, TWO_FACTOR, {"code": totp_code(user)})
    return response


def sign_out(client: FlaskClient) -> TestResponse:
    return post_form(client, "/workspace/sign-out", form_page="/workspace/")
