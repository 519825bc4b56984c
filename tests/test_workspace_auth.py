"""Signing in to the workspace: passwords, CSRF, rate limits, set-password links, sessions
(stamp, inactivity), two-step sign-in and the `flask users` commands."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from directory.accounts.models import AuditEntry, User, UserRole
from tests import factories
from tests.conftest import _rolled_back_session, make_test_app
from tests.workspace_helpers import (
    PASSWORD,
    SIGN_IN,
    TWO_FACTOR,
    csrf_token,
    make_user,
    post_form,
    sign_in,
    sign_out,
    totp_code,
)

HOME = "/workspace/"


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, db_session):
    response = client.get("/workspace/users?x=1")
    assert response.status_code == 302
    assert response.location.startswith(SIGN_IN)
    assert "next=/workspace/users?x%3D1" in response.location or "next=%2Fworkspace" in (
        response.location
    )
    user = make_user(db_session, UserRole.CONSULAR)
    token = csrf_token(client, response.location)
    signed = client.post(
        SIGN_IN,
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "/workspace/password",
            "csrf_token": token,
        },
    )
    assert signed.status_code == 302
    assert signed.location == "/workspace/password"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_next_only_follows_a_local_path(client, db_session, target):
    user = make_user(db_session, UserRole.CONSULAR)
    token = csrf_token(client, SIGN_IN)
    signed = client.post(
        SIGN_IN,
        data={"email": user.email, "password": PASSWORD, "next": target, "csrf_token": token},
    )
    assert signed.status_code == 302
    assert signed.location == HOME


def test_sign_in_with_the_right_password(client, db_session):
    user = make_user(
        db_session, UserRole.FOCAL_POINT, country_code=factories.country(db_session, "GT").code
    )
    response = sign_in(client, user)
    assert response.status_code == 302
    assert response.location == HOME
    home = client.get(HOME)
    assert home.status_code == 200
    assert user.name in _text(home)
    assert "Country focal point" in _text(home)
    assert user.last_sign_in_at is not None
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_the_session_cookie_is_secure_under_https(app, db_session):
    client = app.test_client()
    user = make_user(db_session, UserRole.CONSULAR)
    page = client.get(SIGN_IN, base_url="https://localhost")
    token = csrf_token(client, SIGN_IN)
    assert page.status_code == 200
    response = client.post(
        SIGN_IN,
        base_url="https://localhost",
        headers={"Referer": "https://localhost/workspace/sign-in"},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("case", ["wrong password", "unknown account", "deactivated"])
def test_a_refused_sign_in_says_the_same_thing_whatever_the_cause(client, db_session, case):
    user = make_user(db_session, UserRole.CONSULAR, active=case != "deactivated")
    email = "nobody@example.org" if case == "unknown account" else user.email
    password = "not the password at all" if case == "wrong password" else PASSWORD
    started = time.perf_counter()
    response = post_form(client, SIGN_IN, {"email": email, "password": password})
    assert time.perf_counter() - started > 0.01  # a hash was computed either way
    assert response.status_code == 400
    assert "Wrong e-mail or password." in _text(response)
    assert client.get(HOME).status_code == 302


def test_the_e_mail_is_matched_whatever_its_case(client, db_session):
    user = make_user(db_session, UserRole.CONSULAR, email="ana@example.org")
    response = post_form(client, SIGN_IN, {"email": "  Ana@Example.ORG ", "password": PASSWORD})
    assert response.status_code == 302
    assert user.last_sign_in_at is not None


def test_every_form_refuses_a_post_without_its_csrf_token(client, db_session):
    user = make_user(db_session, UserRole.CONSULAR)
    refused = client.post(SIGN_IN, data={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert "did not come from this site" in _text(refused)
    sign_in(client, user)
    for path in ("/workspace/password", "/workspace/sign-out", "/workspace/two-factor/setup"):
        assert client.post(path, data={}).status_code == 400, path
    assert client.get(HOME).status_code == 200  # still signed in: the sign-out was refused


def test_the_public_api_takes_posts_without_a_token(client, db_session):
    response = client.post("/api/v1/corridor", json={})
    assert response.status_code != 400 or "csrf" not in _text(response).lower()
    assert "The form could not be accepted" not in _text(response)


def test_sign_out_ends_the_session(client, db_session):
    user = make_user(db_session, UserRole.CONSULAR)
    sign_in(client, user)
    response = sign_out(client)
    assert response.status_code == 302
    assert response.location.startswith(SIGN_IN)
    assert client.get(HOME).status_code == 302


def test_sign_in_is_rate_limited_per_account_and_per_address(test_database):
    app = make_test_app(
        test_database,
        RATELIMIT_ENABLED=True,
        SIGN_IN_RATE_LIMIT_ACCOUNT="3 per minute",
        SIGN_IN_RATE_LIMIT_ADDRESS="5 per minute",
    )
    with _rolled_back_session(app):
        client = app.test_client()
        one = {"REMOTE_ADDR": "192.0.2.40"}
        token = csrf_token(client, SIGN_IN)

        def attempt(email: str, where: dict[str, str]):
            data = {"email": email, "password": "wrong password!", "csrf_token": token}
            return client.post(SIGN_IN, data=data, environ_base=where)

        assert [attempt("a@example.org", one).status_code for _ in range(4)] == [
            400,
            400,
            400,
            429,
        ]
        refused = attempt("A@example.org", {"REMOTE_ADDR": "192.0.2.41"})  # same account
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert "Too many sign-in attempts" in _text(refused)
        # Another account from the first address: the address's budget (5) is spent.
        assert attempt("b@example.org", one).status_code == 400
        assert attempt("c@example.org", one).status_code == 429


def _set_password_link(runner, email: str, *args: str) -> str:
    result = runner.invoke(args=["users", "create", email, *args])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:5000/workspace/set-password/")
    return link.removeprefix("http://127.0.0.1:5000")


def _choose_password(client, path: str, password: str = PASSWORD):
    return post_form(client, path, {"password": password, "confirm": password})


def test_the_set_password_link_works_once(client, runner, db_session):
    path = _set_password_link(runner, "new@example.org", "--role", "consular")
    user = db_session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.password_hash is None
    assert client.get(path).status_code == 200
    too_short = post_form(client, path, {"password": "short", "confirm": "short"})
    assert too_short.status_code == 400
    assert "At least 12 characters." in _text(too_short)
    differ = post_form(client, path, {"password": PASSWORD, "confirm": PASSWORD + "x"})
    assert "The two passwords are not the same." in _text(differ)
    assert user.password_hash is None
    done = _choose_password(client, path)
    assert done.status_code == 302
    assert done.location.startswith(SIGN_IN)
    assert sign_in(client, user).location == HOME
    sign_out(client)
    again = client.get(path)
    assert again.status_code == 400
    assert "This link was used already" in _text(again)


def test_an_altered_or_expired_link_is_refused(client, runner, db_session, monkeypatch):
    path = _set_password_link(runner, "late@example.org", "--role", "consular")
    altered = client.get(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    assert altered.status_code == 400
    assert "This link is not valid" in _text(altered)
    # A link made 73 hours ago (they last 72).
    made = time.time() - 73 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(made))
    result = runner.invoke(args=["users", "link", "late@example.org"])
    monkeypatch.undo()
    old = result.output.strip().splitlines()[-1].removeprefix("http://127.0.0.1:5000")
    expired = client.get(old)
    assert expired.status_code == 400
    assert "This link has expired" in _text(expired)
    assert client.post(old, data={}).status_code in (400,)


def test_a_new_link_replaces_the_old_one(client, runner, db_session):
    first = _set_password_link(runner, "twice@example.org", "--role", "consular")
    result = runner.invoke(args=["users", "link", "twice@example.org"])
    second = result.output.strip().splitlines()[-1].removeprefix("http://127.0.0.1:5000")
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200


def test_a_new_password_signs_other_sessions_out(app, client, db_session):
    user = make_user(db_session, UserRole.CONSULAR)
    other = app.test_client()
    sign_in(other, user)
    sign_in(client, user)
    assert other.get(HOME).status_code == 200
    new = "another long password"
    changed = post_form(
        client, "/workspace/password", {"current": PASSWORD, "password": new, "confirm": new}
    )
    assert changed.status_code == 302
    assert client.get(HOME).status_code == 200  # this session goes on
    assert other.get(HOME).status_code == 302  # the other one is signed out
    wrong = post_form(
        client, "/workspace/password", {"current": PASSWORD, "password": new, "confirm": new}
    )
    assert "This is not your current password." in _text(wrong)


def test_a_session_ends_after_inactivity(test_database):
    app = make_test_app(test_database, PERMANENT_SESSION_LIFETIME=1)
    with _rolled_back_session(app) as session:
        client = app.test_client()
        user = make_user(session, UserRole.CONSULAR)
        sign_in(client, user)
        assert client.get(HOME).status_code == 200
        time.sleep(2.1)
        assert client.get(HOME).status_code == 302


def test_a_deactivated_user_is_signed_out_at_the_next_request(client, db_session):
    user = make_user(db_session, UserRole.CONSULAR)
    sign_in(client, user)
    user.active = False
    db_session.commit()
    assert client.get(HOME).status_code == 302


def test_the_secretariat_must_set_up_two_step_sign_in_first(client, db_session):
    user = make_user(db_session, UserRole.SECRETARIAT, two_factor=False)
    response = sign_in(client, user)
    assert response.location == HOME
    for path in (HOME, "/workspace/users", "/workspace/password"):
        blocked = client.get(path)
        assert blocked.status_code == 302
        assert blocked.location == "/workspace/two-factor/setup"
    setup = client.get("/workspace/two-factor/setup")
    page = _text(setup)
    assert 'src="data:image/svg+xml;base64,' in page
    assert user.totp_secret in page
    wrong = post_form(client, "/workspace/two-factor/setup", {"code": "000000"})
    assert wrong.status_code == 400
    assert not user.totp_enabled
    done = post_form(client, "/workspace/two-factor/setup", {"code": totp_code(user)})
    assert done.status_code == 200
    assert user.totp_enabled
    assert len(user.recovery_codes) == 10
    assert client.get("/workspace/users").status_code == 200


def test_with_two_step_sign_in_the_password_alone_opens_nothing(client, db_session):
    user = make_user(db_session, UserRole.SECRETARIAT)
    halfway = sign_in(client, user, second_factor=False)
    assert halfway.location == TWO_FACTOR
    assert client.get(HOME).status_code == 302
    wrong = post_form(client, TWO_FACTOR, {"code": "123456"})
    assert wrong.status_code == 400
    assert "This code is not right" in _text(wrong)
    code = totp_code(user)
    assert post_form(client, TWO_FACTOR, {"code": code}).location == HOME
    sign_out(client)
    # The same code is not accepted twice.
    sign_in(client, user, second_factor=False)
    assert post_form(client, TWO_FACTOR, {"code": code}).status_code == 400


def test_a_recovery_code_signs_in_once(client, db_session):
    from directory.accounts import totp

    user = make_user(db_session, UserRole.SECRETARIAT)
    codes = totp.new_recovery_codes(user)
    db_session.flush()
    sign_in(client, user, second_factor=False)
    assert post_form(client, TWO_FACTOR, {"code": codes[3].upper()}).location == HOME
    assert len(user.recovery_codes) == 9
    sign_out(client)
    sign_in(client, user, second_factor=False)
    assert post_form(client, TWO_FACTOR, {"code": codes[3]}).status_code == 400


def test_two_step_sign_in_is_offered_to_other_roles(client, db_session):
    user = make_user(db_session, UserRole.CONSULAR)
    sign_in(client, user)
    assert "/workspace/two-factor/setup" in _text(client.get(HOME))
    assert client.get("/workspace/password").status_code == 200  # not required


def test_flask_users_create_refuses_bad_options(runner, db_session):
    factories.country(db_session, "GT")
    organization = factories.organization(db_session)
    db_session.commit()  # the refused commands roll back what is not committed
    cases = [
        (["x@example.org", "--role", "king"], "Choose one of the roles."),
        (["x@example.org", "--role", "focal_point"], "A focal point needs its country."),
        (["x@example.org", "--role", "focal_point", "--country", "ZZ"], "not in the directory"),
        (["x@example.org", "--role", "organization_editor"], "needs its organization"),
        (
            ["x@example.org", "--role", "organization_editor", "--organization", "999999"],
            "This organization is not in the directory.",
        ),
        (["not-an-email", "--role", "consular"], "This is not an e-mail address."),
    ]
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)
    assert db_session.scalar(select(User).where(User.email == "x@example.org")) is None
    ok = runner.invoke(
        args=[
            "users",
            "create",
            "X@example.org",
            "--role",
            "organization_editor",
            "--organization",
            str(organization.id),
            "--name",
            "Equis",
        ]
    )
    assert ok.exit_code == 0, ok.output
    duplicate = runner.invoke(args=["users", "create", "x@example.org", "--role", "consular"])
    assert duplicate.exit_code == 1
    assert "exists already" in duplicate.output
    created = db_session.scalar(select(User).where(User.email == "x@example.org"))
    assert created.name == "Equis"
    assert created.organization_id == organization.id
    assert db_session.scalar(
        select(AuditEntry).where(AuditEntry.entity == "users", AuditEntry.action == "create")
    )


def test_flask_users_count(runner, db_session):
    assert runner.invoke(args=["users", "count"]).output.strip() == "0"
    make_user(db_session, UserRole.CONSULAR)
    assert runner.invoke(args=["users", "count"]).output.strip() == "1"
