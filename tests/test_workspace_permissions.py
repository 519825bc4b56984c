"""Permissions: `can` across roles × actions × targets (own and other country, own and
other organization), and their enforcement on the users pages: 403 and an audit entry for
a refused action, the sign-in page for an anonymous visitor."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from directory.accounts.models import AuditEntry, ContactPerson, User, UserRole
from directory.places.models import Location, Organization
from directory.workspace.permissions import Action, can
from tests import factories
from tests.workspace_helpers import make_user, post_form, sign_in

OWN_ORG_ID, OTHER_ORG_ID = 1, 2

# Records built in memory: `can` reads their attributes only.
TARGETS = {
    "workspace": None,
    "own country (code)": "GT",
    "other country (code)": "MX",
    "location, own country, own organization": Location(
        country_code="GT", organization_id=OWN_ORG_ID
    ),
    "location, own country, other organization": Location(
        country_code="GT", organization_id=OTHER_ORG_ID
    ),
    "location, other country, own organization": Location(
        country_code="MX", organization_id=OWN_ORG_ID
    ),
    "location, other country, other organization": Location(
        country_code="MX", organization_id=OTHER_ORG_ID
    ),
    "organization working in own country": Organization(
        id=OWN_ORG_ID, locations=[Location(country_code="GT")]
    ),
    "organization working in other country": Organization(
        id=OTHER_ORG_ID, locations=[Location(country_code="MX")]
    ),
    "consulate of own country abroad": Organization(
        sending_country_code="GT", locations=[Location(country_code="MX")]
    ),
    "contact person, own country": ContactPerson(country_code="GT"),
    "contact person, other country": ContactPerson(country_code="MX"),
}
OWN_COUNTRY = {
    "own country (code)",
    "location, own country, own organization",
    "location, own country, other organization",
    "organization working in own country",
    "consulate of own country abroad",
    "contact person, own country",
}
WRITES = (Action.EDIT, Action.CREATE, Action.ARCHIVE)
# Issue 13: what a focal point does for its own country, from pages that list the country's.
COUNTRY_QUEUES = (Action.MODERATE, Action.REQUEST_CONFIRMATION, Action.IMPORT)


def _user(role: UserRole, active: bool = True) -> User:
    return User(
        role=role,
        country_code="GT" if role == UserRole.FOCAL_POINT else None,
        organization_id=OWN_ORG_ID if role == UserRole.ORGANIZATION_EDITOR else None,
        active=active,
    )


def expected(role: UserRole, action: Action, target_name: str) -> bool:
    """What each role may do, as the issue states it."""
    if role == UserRole.SECRETARIAT:
        return True
    if action == Action.READ:
        return True
    if action == Action.READ_CONTACTS:
        return role in (UserRole.FOCAL_POINT, UserRole.CONSULAR)
    if action == Action.MANAGE_USERS:
        return False
    if role == UserRole.FOCAL_POINT:
        if action in (Action.READ_OUTBOX, Action.REVIEW_DUPLICATES):
            return False  # the secretariat's
        if action in COUNTRY_QUEUES and target_name == "workspace":
            return True  # the pages; each record is asked again
        return target_name in OWN_COUNTRY
    if role == UserRole.ORGANIZATION_EDITOR:
        return (
            action == Action.EDIT
            and target_name.startswith("location,")
            and ("own organization" in target_name)
        )
    return False  # consular: reads only


CASES = [
    pytest.param(role, action, name, id=f"{role.value}-{action.value}-{name}")
    for role in UserRole
    for action in Action
    for name in TARGETS
]


@pytest.mark.parametrize(("role", "action", "target_name"), CASES)
def test_can(role, action, target_name):
    target = TARGETS[target_name]
    assert can(_user(role), action, target) is expected(role, action, target_name)
    # A deactivated account, and nobody, may do nothing.
    assert can(_user(role, active=False), action, target) is False
    assert can(None, action, target) is False


USER_PAGES = [
    ("GET", "/workspace/users"),
    ("GET", "/workspace/users/invite"),
    ("GET", "/workspace/users/{id}"),
    ("POST", "/workspace/users/invite"),
    ("POST", "/workspace/users/{id}"),
    ("POST", "/workspace/users/{id}/active"),
    ("POST", "/workspace/users/{id}/link"),
]


@pytest.fixture
def accounts(db_session):
    factories.country(db_session, "GT")
    organization = factories.organization(db_session)
    db_session.commit()
    return {
        UserRole.SECRETARIAT: make_user(db_session, UserRole.SECRETARIAT),
        UserRole.FOCAL_POINT: make_user(db_session, UserRole.FOCAL_POINT, country_code="GT"),
        UserRole.ORGANIZATION_EDITOR: make_user(
            db_session, UserRole.ORGANIZATION_EDITOR, organization_id=organization.id
        ),
        UserRole.CONSULAR: make_user(db_session, UserRole.CONSULAR),
    }


def _request(client, method: str, path: str):
    if method == "GET":
        return client.get(path)
    return post_form(client, path, {"active": "0"}, form_page="/workspace/password")


@pytest.mark.parametrize(("method", "path"), USER_PAGES)
def test_anonymous_visitors_of_the_users_pages_are_sent_to_sign_in(client, accounts, method, path):
    target = accounts[UserRole.CONSULAR]
    response = client.get(path.format(id=target.id)) if method == "GET" else None
    if response is None:  # a POST without a session has no valid token: refused as such
        response = client.post(path.format(id=target.id), data={})
        assert response.status_code in (302, 400)
        assert target.active
        return
    assert response.status_code == 302
    assert response.location.startswith("/workspace/sign-in?next=")


@pytest.mark.parametrize(
    "role", [UserRole.FOCAL_POINT, UserRole.ORGANIZATION_EDITOR, UserRole.CONSULAR]
)
@pytest.mark.parametrize(("method", "path"), USER_PAGES)
def test_the_users_pages_are_refused_to_other_roles_and_audited(
    client, db_session, accounts, role, method, path
):
    user = accounts[role]
    target = accounts[UserRole.CONSULAR if role != UserRole.CONSULAR else UserRole.FOCAL_POINT]
    sign_in(client, user)
    stamp = target.security_stamp
    response = _request(client, method, path.format(id=target.id))
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "refused").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.user_id == user.id
    assert entry.after == {"action": "manage_users", "path": path.format(id=target.id)}
    db_session.refresh(target)
    assert target.active
    assert target.security_stamp == stamp


def test_the_secretariat_manages_users(client, db_session, accounts):
    secretariat = accounts[UserRole.SECRETARIAT]
    consular = accounts[UserRole.CONSULAR]
    sign_in(client, secretariat)
    page = client.get("/workspace/users").get_data(as_text=True)
    assert consular.email in page
    assert "Users" in page

    invited = post_form(
        client,
        "/workspace/users/invite",
        {"email": "Nueva@example.org", "name": "Nueva", "role": "focal_point", "country": ""},
    )
    assert invited.status_code == 400
    assert "A focal point needs its country." in invited.get_data(as_text=True)
    invited = post_form(
        client,
        "/workspace/users/invite",
        {"email": "nueva@example.org", "name": "Nueva", "role": "focal_point", "country": "GT"},
    )
    assert invited.status_code == 200
    assert "http://127.0.0.1:5000/workspace/set-password/" in invited.get_data(as_text=True)
    new = db_session.scalar(select(User).where(User.email == "nueva@example.org"))
    assert new.role == UserRole.FOCAL_POINT
    assert new.password_hash is None

    changed = post_form(
        client,
        f"/workspace/users/{consular.id}",
        {"name": consular.name, "role": "focal_point", "country": "GT", "organization": ""},
    )
    assert changed.status_code == 302
    db_session.refresh(consular)
    assert consular.role == UserRole.FOCAL_POINT
    assert consular.country_code == "GT"


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(app, client, db_session, accounts):
    secretariat = accounts[UserRole.SECRETARIAT]
    consular = accounts[UserRole.CONSULAR]
    theirs = app.test_client()
    sign_in(theirs, consular)
    assert theirs.get("/workspace/").status_code == 200
    sign_in(client, secretariat)
    response = post_form(
        client,
        f"/workspace/users/{consular.id}/active",
        {"active": "0"},
        form_page=f"/workspace/users/{consular.id}",
    )
    assert response.status_code == 302
    assert theirs.get("/workspace/").status_code == 302
    assert sign_in(theirs, consular).status_code == 400
    assert db_session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "deactivate", AuditEntry.user_id == secretariat.id
        )
    )


def test_the_last_secretariat_cannot_be_demoted_or_deactivated(client, db_session, accounts):
    secretariat = accounts[UserRole.SECRETARIAT]
    sign_in(client, secretariat)
    page = f"/workspace/users/{secretariat.id}"
    demoted = post_form(client, page, {"name": "x", "role": "consular", "country": ""})
    assert demoted.status_code == 400
    assert "last active secretariat account" in demoted.get_data(as_text=True)
    post_form(client, f"{page}/active", {"active": "0"}, form_page=page)
    db_session.refresh(secretariat)
    assert secretariat.active
    assert secretariat.role == UserRole.SECRETARIAT
