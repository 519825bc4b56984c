"""Editing organizations in the workspace (issue 12, point 3): the form's checks beside
each field, permissions per role and country (403, audited), the stale edit, archive and
restore, the history and the audit entries."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import records
from directory.accounts.models import AuditEntry, User, UserRole
from directory.db import OrganizationKind
from directory.places.models import Network, Organization
from tests import factories
from tests.workspace_helpers import csrf_token, make_user, sign_in
from tests.workspace_helpers import post_form as post


@pytest.fixture
def places(db_session: Session) -> dict[str, Organization]:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    factories.country(db_session, "MX")
    home = factories.organization(db_session, name="Casa del Migrante GT")
    factories.location(db_session, home, -90.5, 14.6, "GT", "Guatemala")
    away = factories.organization(db_session, name="Casa HN")
    factories.location(db_session, away, -87.2, 14.1, "HN", "Tegucigalpa")
    for code in ("RNCOM", "CAMMINA"):
        db_session.add(Network(code=code, names={"en": code, "es": code}))
    db_session.commit()
    return {"home": home, "away": away}


def signed_in(client: FlaskClient, session: Session, role: UserRole, **scope: object) -> User:
    user = make_user(session, role, **scope)
    assert sign_in(client, user).status_code == 302
    return user


@pytest.fixture
def focal_point(client: FlaskClient, db_session: Session, places) -> User:
    return signed_in(client, db_session, UserRole.FOCAL_POINT, country_code="GT")


def edit_path(organization: Organization) -> str:
    return f"/workspace/organizations/{organization.id}/edit"


def form_data(organization: Organization, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "version": organization.version,
        "name": organization.name,
        "kind": organization.kind.value,
        "sending_country": organization.sending_country_code or "",
        "website": "",
        "email": "",
        "description_language": "",
    }
    data.update(changes)
    return data


def audit_entries(session: Session, organization: Organization, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == "organizations",
                AuditEntry.entity_id == str(organization.id),
                AuditEntry.action == action,
            )
            .order_by(AuditEntry.id)
        )
    )


def error_beside(page: str, field: str) -> str:
    """The error shown beside ``field``, checking the field points at it."""
    match = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', page)
    assert match, f"no error beside {field}"
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', page) or re.search(
        rf'aria-describedby="[^"]*{field}-error[^"]*"[^>]*id="{field}"', page
    ), f"{field} does not point at its error"
    return match.group(1)


def test_focal_point_edits_its_country_organization(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    home = places["home"]
    page = client.get(edit_path(home))
    assert page.status_code == 200
    assert 'name="version" type="hidden" value="1"' in page.get_data(as_text=True)
    rncom = db_session.scalar(select(Network).where(Network.code == "RNCOM"))
    response = post(
        client,
        edit_path(home),
        form_data(
            home,
            name="Casa del Migrante (Guatemala)",
            website="https://casa.example.org",
            networks=[str(rncom.id)],
            description_es="Albergue para personas migrantes.",
            description_en="A shelter for migrants.",
            description_language="es",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert home.name == "Casa del Migrante (Guatemala)"
    assert home.version == 2
    assert [network.code for network in home.networks] == ["RNCOM"]
    assert home.descriptions == {
        "es": "Albergue para personas migrantes.",
        "en": "A shelter for migrants.",
    }
    assert home.description_language == "es"
    (entry,) = audit_entries(db_session, home, "update")
    assert entry.user_id == focal_point.id
    assert entry.before["name"] == "Casa del Migrante GT"
    assert entry.after["name"] == "Casa del Migrante (Guatemala)"
    assert entry.before["networks"] == []
    assert entry.after["networks"] == ["RNCOM"]
    assert entry.after["website"] == "https://casa.example.org"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "Fill in this field."),
        ({"kind": "consulate"}, "sending_country", "needs the country that runs it"),
        ({"sending_country": "MX"}, "sending_country", "Only consulates and embassies"),
        ({"website": "casa.example.org"}, "website", "starting with https://"),
        ({"email": "not an address"}, "email", "not an e-mail address"),
        ({"description_fr": "Un refuge."}, "description_language", "Say which language"),
        (
            {"description_fr": "Un refuge.", "description_language": "es"},
            "description_language",
            "There is no description in this language",
        ),
        ({"description_language": "en"}, "description_language", "no description"),
        ({"kind": "palace"}, "kind", "Not a valid choice"),
    ],
)
def test_bad_input_is_said_beside_the_field_and_nothing_is_saved(
    client: FlaskClient,
    db_session: Session,
    places,
    focal_point: User,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    home = places["home"]
    response = post(client, edit_path(home), form_data(home, **changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in error_beside(page, field)
    assert "Nothing was saved" in page
    db_session.expire_all()
    assert home.version == 1
    assert home.name == "Casa del Migrante GT"
    assert audit_entries(db_session, home, "update") == []


def test_consulate_with_its_sending_country(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    home = places["home"]
    response = post(
        client, edit_path(home), form_data(home, kind="consulate", sending_country="MX")
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert home.kind == OrganizationKind.CONSULATE
    assert home.sending_country_code == "MX"


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (UserRole.FOCAL_POINT, {"country_code": "HN"}),
        (UserRole.CONSULAR, {}),
        (UserRole.ORGANIZATION_EDITOR, {"organization_id": None}),
    ],
)
def test_refused_roles_get_403_and_are_audited(
    client: FlaskClient, db_session: Session, places, role: UserRole, scope: dict
) -> None:
    home = places["home"]
    if "organization_id" in scope:
        scope = {"organization_id": home.id}  # even the organization's own editor
    user = signed_in(client, db_session, role, **scope)
    for path in (edit_path(home), f"/workspace/organizations/{home.id}/archive"):
        token = csrf_token(client, "/workspace/")
        if path.endswith("/edit"):
            response = client.get(path)
        else:
            response = client.post(path, data={"version": 1, "csrf_token": token})
        assert response.status_code == 403
        refused = db_session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "refused", AuditEntry.user_id == user.id)
            .order_by(AuditEntry.id.desc())
        ).first()
        assert refused is not None
        assert refused.entity == "organizations"
        assert refused.entity_id == str(home.id)
    token = csrf_token(client, "/workspace/")
    response = client.post(edit_path(home), data={**form_data(home), "csrf_token": token})
    assert response.status_code == 403
    db_session.expire_all()
    assert home.version == 1


def test_the_list_holds_what_the_user_may_edit(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    page = client.get("/workspace/organizations").get_data(as_text=True)
    assert "Casa del Migrante GT" in page
    assert "Casa HN" not in page
    searched = client.get("/workspace/organizations?q=migrante").get_data(as_text=True)
    assert "Casa del Migrante GT" in searched
    nothing = client.get("/workspace/organizations?q=zzz").get_data(as_text=True)
    assert "No organization you may edit matches." in nothing
    bad = client.get("/workspace/organizations?country=ZZ").get_data(as_text=True)
    assert 'id="country-error"' in bad
    assert "Choose a country from the list." in bad


def test_the_consular_list_is_empty(client: FlaskClient, db_session: Session, places) -> None:
    signed_in(client, db_session, UserRole.CONSULAR)
    page = client.get("/workspace/organizations")
    assert page.status_code == 200
    assert "Casa" not in page.get_data(as_text=True)


def test_a_stale_edit_shows_the_current_values_and_saves_nothing(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    home = places["home"]
    stale_form = form_data(home, name="My new name")  # started at version 1
    someone = make_user(db_session, UserRole.SECRETARIAT)
    records.apply_edit(
        db_session, home, {"name": "Their new name"}, expected_version=1, user_id=someone.id
    )
    db_session.commit()
    response = post(client, edit_path(home), stale_form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this record while you were editing it" in page
    assert "Name is now “Their new name” (you had “My new name”)." in page
    # The form now starts from their version: saving again is a decision.
    assert 'name="version" type="hidden" value="2"' in page
    db_session.expire_all()
    assert home.name == "Their new name"
    assert home.version == 2
    assert len(audit_entries(db_session, home, "update")) == 1


def test_archive_and_restore(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    home = places["home"]
    archived = post(
        client,
        f"/workspace/organizations/{home.id}/archive",
        {"version": 1},
        form_page=edit_path(home),
    )
    assert archived.status_code == 302
    db_session.expire_all()
    assert home.archived_at is not None
    assert len(audit_entries(db_session, home, "archive")) == 1
    listed = client.get("/workspace/organizations").get_data(as_text=True)
    assert "Archived" in listed
    assert f"/workspace/organizations/{home.id}/restore" in listed
    # A stale version is refused, and nothing changes.
    stale = post(
        client,
        f"/workspace/organizations/{home.id}/restore",
        {"version": 1},
        form_page=edit_path(home),
    )
    assert stale.status_code == 302
    db_session.expire_all()
    assert home.archived_at is not None
    restored = post(
        client,
        f"/workspace/organizations/{home.id}/restore",
        {"version": home.version, "back": "list"},
        form_page=edit_path(home),
    )
    assert restored.status_code == 302
    assert restored.location.endswith("/workspace/organizations")
    db_session.expire_all()
    assert home.archived_at is None
    assert len(audit_entries(db_session, home, "restore")) == 1


def test_history_shows_readable_differences(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    home = places["home"]
    post(
        client,
        edit_path(home),
        form_data(home, kind="civil_society", description_en="Help.", description_language="en"),
    )
    page = client.get(f"/workspace/organizations/{home.id}/history")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Changed" in text
    assert focal_point.name in text
    assert "Shelter → Civil-society organization" in text
    assert "Description (English)" in text
    assert "Language the description was written in" in text


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, db_session: Session, places, focal_point: User
) -> None:
    home = places["home"]
    response = client.post(edit_path(home), data=form_data(home, name="No token"))
    assert response.status_code == 400
    assert "The form could not be accepted" in response.get_data(as_text=True)
    db_session.expire_all()
    assert home.name == "Casa del Migrante GT"


def test_pages_in_spanish(client: FlaskClient, places, focal_point: User) -> None:
    home = places["home"]
    for path in (edit_path(home), f"/workspace/organizations/{home.id}/history"):
        response = client.get(path, headers={"Accept-Language": "es"})
        assert response.status_code == 200
        assert 'lang="es"' in response.get_data(as_text=True)
