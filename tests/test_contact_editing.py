"""Adding and editing contact persons in the workspace (issue 12, point 3): the form's
checks beside each field, one current primary and one alternate per country and network,
permissions per role and country (403, audited), the stale edit, "Confirm as it is",
archive and restore, the history (contact readers only) and the audit entries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from directory import records
from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, User, UserRole
from directory.db import db
from directory.places.models import Location, Network, Organization
from directory.workspace.contact_editing import find_duplicate
from tests import factories
from tests.workspace_helpers import PASSWORD, csrf_token, make_user, sign_in
from tests.workspace_helpers import post_form as post

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def world(db_session: Session) -> dict[str, object]:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8)).is_rcm_member = True
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5)).is_rcm_member = True
    organization = factories.organization(db_session, name="Cancillería GT")
    factories.location(db_session, organization, -90.5, 14.6, "GT", "Guatemala")
    rncom = Network(code="RNCOM", names={"en": "RNCOM", "es": "RNCOM"})
    cammina = Network(code="CAMMINA", names={"en": "CAMMINA", "es": "CAMMINA"})
    db_session.add_all([rncom, cammina])
    db_session.flush()
    contact = ContactPerson(
        external_id="test:ana",
        country_code="GT",
        network=rncom,
        name="Ana Pérez",
        role=ContactRole.PRIMARY,
        valid_from=dt.date(2024, 1, 1),
        languages=["es"],
        email="ana@example.org",
        last_confirmed_at=dt.date(2024, 2, 1),
        last_confirmed_by="Secretariat",
    )
    db_session.add(contact)
    db_session.commit()
    return {"organization": organization, "rncom": rncom, "cammina": cammina, "ana": contact}


def signed_in(client: FlaskClient, session: Session, role: UserRole, **scope: object) -> User:
    user = make_user(session, role, **scope)
    assert sign_in(client, user).status_code == 302
    return user


@pytest.fixture
def focal_point(client: FlaskClient, db_session: Session, world) -> User:
    return signed_in(client, db_session, UserRole.FOCAL_POINT, country_code="GT")


NEW = "/workspace/contacts/GT/new"


def edit_path(contact: ContactPerson) -> str:
    return f"/workspace/contacts/person/{contact.id}/edit"


def new_data(world, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "network": world["cammina"].id,
        "role": "primary",
        "name": "Luis Gómez",
        "position": "Consular officer",
        "organization": world["organization"].id,
        "email": "luis@example.org",
        "phone": "+502 2345 6789",
        "languages": ["es", "en"],
        "valid_from": "2025-01-01",
        "valid_to": "",
        "last_confirmed_at": "",
        "last_confirmed_by": "",
    }
    data.update(changes)
    return data


def edit_data(contact: ContactPerson, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "version": contact.version,
        "network": contact.network_id,
        "role": contact.role.value,
        "name": contact.name,
        "position": contact.position or "",
        "organization": contact.organization_id or "",
        "email": contact.email or "",
        "phone": contact.phone or "",
        "languages": list(contact.languages),
        "valid_from": contact.valid_from.isoformat(),
        "valid_to": contact.valid_to.isoformat() if contact.valid_to else "",
        "last_confirmed_at": contact.last_confirmed_at.isoformat()
        if contact.last_confirmed_at
        else "",
        "last_confirmed_by": contact.last_confirmed_by or "",
    }
    data.update(changes)
    return data


def entries(session: Session, contact_id: int, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == "contact_persons",
                AuditEntry.entity_id == str(contact_id),
                AuditEntry.action == action,
            )
            .order_by(AuditEntry.id)
        )
    )


def error_beside(page: str, field: str) -> str:
    match = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', page)
    assert match, f"no error beside {field}"
    assert re.search(rf'aria-describedby="[^"]*{field}-error[^"]*"', page)
    return match.group(1)


def contact_count(session: Session) -> int:
    return len(session.scalars(select(ContactPerson)).all())


def test_focal_point_adds_a_contact(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    page = client.get(NEW)
    assert page.status_code == 200
    assert "Add a contact person in" in page.get_data(as_text=True)
    response = post(client, NEW, new_data(world))
    assert response.status_code == 302, response.get_data(as_text=True)
    contact = db_session.scalars(
        select(ContactPerson).where(ContactPerson.name == "Luis Gómez")
    ).one()
    assert contact.country_code == "GT"
    assert contact.network_id == world["cammina"].id
    assert contact.organization_id == world["organization"].id
    assert contact.languages == ["es", "en"]
    assert contact.external_id.startswith("workspace:")
    (entry,) = entries(db_session, contact.id, "create")
    assert entry.user_id == focal_point.id
    assert entry.before is None
    assert entry.after["name"] == "Luis Gómez"
    assert entry.after["email"] == "luis@example.org"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Fill in this field."),
        ({"network": ""}, "network", "Fill in this field."),
        ({"network": "999999"}, "network", "Choose from the list."),
        ({"role": "boss"}, "role", "Choose from the list."),
        ({"email": "luis at example"}, "email", "not an e-mail address"),
        ({"phone": "call me"}, "phone", "Digits"),
        ({"languages": ["xx"]}, "languages", "Choose from the list."),
        ({"valid_from": ""}, "valid_from", "Fill in this field."),
        ({"valid_from": "2025-13-45"}, "valid_from", "Give a date"),
        ({"valid_to": "2024-12-31"}, "valid_to", "The end comes before the start."),
        (
            {"last_confirmed_at": (TODAY + dt.timedelta(days=3)).isoformat()},
            "last_confirmed_at",
            "has not come yet",
        ),
        ({"last_confirmed_by": "Ministry"}, "last_confirmed_at", "Give the date"),
    ],
)
def test_bad_input_is_said_beside_the_field_and_nothing_is_saved(
    client: FlaskClient,
    db_session: Session,
    world,
    focal_point: User,
    changes: dict[str, object],
    field: str,
    message: str,
) -> None:
    before = contact_count(db_session)
    response = post(client, NEW, new_data(world, **changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in error_beside(page, field)
    assert contact_count(db_session) == before


def test_a_duplicate_contact_is_refused_beside_the_role(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    before = contact_count(db_session)
    duplicate = new_data(world, network=world["rncom"].id, valid_from="2025-06-01")
    response = post(client, NEW, duplicate)
    assert response.status_code == 400
    message = error_beside(response.get_data(as_text=True), "role")
    assert "Ana Pérez is already the primary contact" in message
    assert contact_count(db_session) == before
    # An alternate for the same network is another role: accepted.
    alternate = post(client, NEW, {**duplicate, "role": "alternate"})
    assert alternate.status_code == 302
    # A second alternate is refused too.
    second = post(client, NEW, {**duplicate, "role": "alternate", "name": "Otro"})
    assert second.status_code == 400
    assert "already the alternate contact" in error_beside(second.get_data(as_text=True), "role")


def test_a_successor_after_the_end_date_is_no_duplicate(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    ended = post(client, edit_path(ana), edit_data(ana, valid_to="2025-05-31"))
    assert ended.status_code == 302
    successor = new_data(world, network=world["rncom"].id, valid_from="2025-06-01")
    assert post(client, NEW, successor).status_code == 302
    # The overlapping day is refused: both would be in office on 31 May.
    overlap = new_data(world, network=world["rncom"].id, valid_from="2025-05-31", name="X")
    assert post(client, NEW, overlap).status_code == 400


def test_find_duplicate_ignores_archived_and_the_contact_itself(db_session: Session, world) -> None:
    ana = world["ana"]
    rule = {
        "country_code": "GT",
        "network_id": ana.network_id,
        "role": ContactRole.PRIMARY,
        "valid_from": dt.date(2026, 1, 1),
        "valid_to": None,
    }
    assert find_duplicate(db_session, **rule) == ana
    assert find_duplicate(db_session, **rule, other_than=ana.id) is None
    assert find_duplicate(db_session, **{**rule, "valid_to": dt.date(2023, 12, 31)}) is None
    records.archive(db_session, ana, ana.version, None)
    assert find_duplicate(db_session, **rule) is None


def test_focal_point_edits_a_contact_with_audit(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    page = client.get(edit_path(ana)).get_data(as_text=True)
    assert 'value="ana@example.org"' in page
    response = post(
        client, edit_path(ana), edit_data(ana, email="ana.perez@example.org", position="Head")
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert ana.email == "ana.perez@example.org"
    assert ana.version == 2
    (entry,) = entries(db_session, ana.id, "update")
    assert entry.user_id == focal_point.id
    assert entry.before == {"email": "ana@example.org", "position": None, "version": 1}
    assert entry.after == {"email": "ana.perez@example.org", "position": "Head", "version": 2}


def test_confirm_as_it_is(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    page = client.get(edit_path(ana)).get_data(as_text=True)
    assert "Confirm as it is" in page
    response = post(
        client,
        f"/workspace/contacts/person/{ana.id}/confirm",
        {"version": 1},
        form_page=edit_path(ana),
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert ana.last_confirmed_at == TODAY
    assert ana.last_confirmed_by == focal_point.name
    assert ana.email == "ana@example.org"
    (entry,) = entries(db_session, ana.id, "update")
    assert entry.before["last_confirmed_at"] == "2024-02-01"
    assert entry.after["last_confirmed_at"] == TODAY.isoformat()
    assert set(entry.after) == {"last_confirmed_at", "last_confirmed_by", "version"}


def test_a_stale_edit_shows_the_current_values_and_saves_nothing(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    mine = edit_data(ana, phone="+502 1111 1111")
    someone = make_user(db_session, UserRole.SECRETARIAT)
    records.apply_edit(
        db_session, ana, {"phone": "+502 2222 2222"}, expected_version=1, user_id=someone.id
    )
    db_session.commit()
    response = post(client, edit_path(ana), mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Phone is now “+502 2222 2222” (you had “+502 1111 1111”)." in page
    assert 'name="version" type="hidden" value="2"' in page
    db_session.expire_all()
    assert ana.phone == "+502 2222 2222"
    # "Confirm as it is" from a stale page is refused the same way.
    stale_confirm = post(
        client,
        f"/workspace/contacts/person/{ana.id}/confirm",
        {"version": 1},
        form_page=edit_path(ana),
    )
    assert stale_confirm.status_code == 409
    db_session.expire_all()
    assert ana.last_confirmed_at == dt.date(2024, 2, 1)


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (UserRole.FOCAL_POINT, {"country_code": "HN"}),
        (UserRole.CONSULAR, {}),
        (UserRole.ORGANIZATION_EDITOR, {"organization": True}),
    ],
)
def test_refused_roles_get_403_and_are_audited(
    client: FlaskClient, db_session: Session, world, role: UserRole, scope: dict
) -> None:
    ana = world["ana"]
    if scope.get("organization"):
        scope = {"organization_id": world["organization"].id}
    user = signed_in(client, db_session, role, **scope)
    token = csrf_token(client, "/workspace/")
    requests = [
        ("GET", edit_path(ana), None),
        ("GET", NEW, None),
        ("POST", NEW, new_data(world)),
        ("POST", edit_path(ana), edit_data(ana, name="Changed")),
        ("POST", f"/workspace/contacts/person/{ana.id}/confirm", {"version": 1}),
        ("POST", f"/workspace/contacts/person/{ana.id}/archive", {"version": 1}),
    ]
    for method, path, data in requests:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**(data or {}), "csrf_token": token})
        assert response.status_code == 403, path
        refused = db_session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "refused", AuditEntry.user_id == user.id)
            .order_by(AuditEntry.id.desc())
        ).first()
        assert refused is not None
        assert refused.after["path"] == path
    db_session.expire_all()
    assert ana.version == 1
    assert ana.name == "Ana Pérez"


def test_history_is_for_contact_readers(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    post(client, edit_path(ana), edit_data(ana, name="Ana María Pérez"))
    page = client.get(f"/workspace/contacts/person/{ana.id}/history")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ana Pérez → Ana María Pérez" in text
    assert focal_point.name in text
    other = make_user(
        db_session, UserRole.ORGANIZATION_EDITOR, organization_id=world["organization"].id
    )
    client.post("/workspace/sign-out", data={"csrf_token": csrf_token(client, "/workspace/")})
    assert sign_in(client, other).status_code == 302
    assert client.get(f"/workspace/contacts/person/{ana.id}/history").status_code == 403


def test_archive_and_restore(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    archived = post(
        client,
        f"/workspace/contacts/person/{ana.id}/archive",
        {"version": 1},
        form_page=edit_path(ana),
    )
    assert archived.status_code == 302
    db_session.expire_all()
    assert ana.archived_at is not None
    assert "Ana Pérez is archived." in client.get(archived.location).get_data(as_text=True)
    assert "Ana Pérez" not in client.get("/workspace/contacts/GT").get_data(as_text=True)
    # Someone else is named meanwhile: restoring Ana would make two primaries.
    successor = new_data(world, network=world["rncom"].id, name="Marta Ruiz")
    assert post(client, NEW, successor).status_code == 302
    refused = post(
        client,
        f"/workspace/contacts/person/{ana.id}/restore",
        {"version": ana.version},
        form_page=edit_path(ana),
    )
    assert refused.status_code == 302
    db_session.expire_all()
    assert ana.archived_at is not None
    assert "Marta Ruiz holds this role" in client.get(edit_path(ana)).get_data(as_text=True)
    marta = db_session.scalars(
        select(ContactPerson).where(ContactPerson.name == "Marta Ruiz")
    ).one()
    records.archive(db_session, marta, marta.version, None)
    db_session.commit()
    restored = post(
        client,
        f"/workspace/contacts/person/{ana.id}/restore",
        {"version": ana.version},
        form_page=edit_path(ana),
    )
    assert restored.status_code == 302
    db_session.expire_all()
    assert ana.archived_at is None
    assert len(entries(db_session, ana.id, "archive")) == 1
    assert len(entries(db_session, ana.id, "restore")) == 1


def test_country_page_links_by_permission(
    client: FlaskClient, db_session: Session, world, focal_point: User
) -> None:
    ana = world["ana"]
    page = client.get("/workspace/contacts/GT").get_data(as_text=True)
    assert edit_path(ana) in page
    assert NEW in page
    client.post("/workspace/sign-out", data={"csrf_token": csrf_token(client, "/workspace/")})
    signed_in(client, db_session, UserRole.CONSULAR)
    page = client.get("/workspace/contacts/GT").get_data(as_text=True)
    assert "Ana Pérez" in page
    assert edit_path(ana) not in page
    assert NEW not in page


# --- In Chromium: the edit pages on a phone ---------------------------------------------------


@pytest.mark.browser
def test_edit_pages_fit_a_phone_and_say_errors_beside_fields(server, open_page) -> None:
    with server.app.app_context():
        user = make_user(db.session, UserRole.FOCAL_POINT, country_code="MX")
        contact = db.session.scalars(
            select(ContactPerson).where(ContactPerson.country_code == "MX")
        ).first()
        organization = db.session.scalars(
            select(Organization)
            .join(Organization.locations)
            .where(Location.country_code == "MX")
            .order_by(Organization.id)
        ).first()
        assert contact is not None
        assert organization is not None
        contact_id, organization_id, email, user_id = (
            contact.id,
            organization.id,
            user.email,
            user.id,
        )
    try:
        window = open_page(viewport={"width": 360, "height": 740})
        page = window.page
        page.goto(server.url + "/workspace/sign-in")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("form:has(input[name=password]) button[type=submit]")
        page.wait_for_url(server.url + "/workspace/")
        for path in (
            f"/workspace/organizations/{organization_id}/edit",
            f"/workspace/contacts/person/{contact_id}/edit",
            "/workspace/contacts/MX/new",
            "/workspace/organizations",
        ):
            page.goto(server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert not window.console_errors
        page.goto(server.url + f"/workspace/contacts/person/{contact_id}/edit")
        page.fill("#email", "not an address")
        page.click("form.workspace-form button[type=submit]")
        error = page.locator("#email-error")
        assert error.inner_text() == "This is not an e-mail address."
        assert "email-error" in (page.locator("#email").get_attribute("aria-describedby") or "")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        with server.app.app_context():
            db.session.execute(delete(AuditEntry).where(AuditEntry.user_id == user_id))
            db.session.execute(delete(User).where(User.id == user_id))
            db.session.commit()
