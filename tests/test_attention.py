"""What needs attention (issue 12, point 5): the queries, case by case (an expired status
against a current one or one without an end, never verified, verified 13 against 11 months
ago, contacts likewise, archived records left out), the scope of each role, and the home
page as a focal point and as an organization's editor see it."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, User, UserRole
from directory.db import OperationalStatus, db
from directory.places.models import Location, Network, Organization
from directory.records.attention import Concern, Scope, needs_attention
from directory.workspace.views import attention_scope
from tests import factories
from tests.workspace_helpers import PASSWORD, make_user, sign_in

NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
RECENTLY = TODAY - dt.timedelta(days=30)
ARCHIVED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EVERYTHING = Scope(contacts=True)
POINTS = {"GT": (-90.5, 14.6), "MX": (-99.1, 19.4)}
_numbers = itertools.count(1)


def months_ago(months: int, today: dt.date = TODAY) -> dt.date:
    return today - dt.timedelta(days=round(months * 30.44))


@pytest.fixture
def places(db_session: Session) -> dict[str, Any]:
    """Guatemala and Mexico, an organization in each, and a network."""
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    network = Network(code="RNCOM", names={"en": "RNCOM", "es": "RNCOM"})
    db_session.add(network)
    return {
        "network": network,
        "casa": factories.organization(db_session, name="Casa Guatemala"),
        "albergue": factories.organization(db_session, name="Albergue México"),
    }


def place(
    session: Session, organization: Organization, country: str = "GT", **fields: Any
) -> Location:
    """A location verified a month ago, open, unless ``fields`` say otherwise."""
    record = factories.location(session, organization, *POINTS[country], country_code=country)
    record.verified_at = RECENTLY
    for name, value in fields.items():
        setattr(record, name, value)
    session.flush()
    return record


def person(session: Session, network: Network, country: str = "GT", **fields: Any) -> ContactPerson:
    """A contact person in office, confirmed a month ago, unless ``fields`` say otherwise."""
    record = ContactPerson(
        external_id=f"attention:{next(_numbers)}",
        country_code=country,
        network=network,
        name=fields.pop("name", f"Persona {next(_numbers)}"),
        role=ContactRole.PRIMARY,
        valid_from=dt.date(2024, 1, 1),
        **({"last_confirmed_at": RECENTLY} | fields),
    )
    session.add(record)
    session.flush()
    return record


def concerns_of(found: Any, record: Any) -> set[Concern]:
    return {
        group.concern
        for country in found.countries
        for group in country.groups
        for item in group.items
        if item.record is record
    }


LOCATION_CASES = {
    "full, the end passed an hour ago": (
        {"status": OperationalStatus.FULL, "status_until": NOW - dt.timedelta(hours=1)},
        {Concern.STATUS_EXPIRED},
    ),
    "closed, the end passed a month ago": (
        {
            "status": OperationalStatus.TEMPORARILY_CLOSED,
            "status_until": NOW - dt.timedelta(days=30),
        },
        {Concern.STATUS_EXPIRED},
    ),
    "full until tomorrow": (
        {"status": OperationalStatus.FULL, "status_until": NOW + dt.timedelta(days=1)},
        set(),
    ),
    "closed with no end": (
        {"status": OperationalStatus.TEMPORARILY_CLOSED, "status_until": None},
        set(),
    ),
    "open, with an old end left over": (
        {"status": OperationalStatus.OPEN, "status_until": NOW - dt.timedelta(days=3)},
        set(),
    ),
    "never verified": ({"verified_at": None}, {Concern.NOT_VERIFIED}),
    "verified 13 months ago": ({"verified_at": months_ago(13)}, {Concern.NOT_VERIFIED}),
    "verified 11 months ago": ({"verified_at": months_ago(11)}, set()),
    "verified exactly 365 days ago": ({"verified_at": TODAY - dt.timedelta(days=365)}, set()),
    "expired and never verified": (
        {
            "status": OperationalStatus.FULL,
            "status_until": NOW - dt.timedelta(days=1),
            "verified_at": None,
        },
        {Concern.STATUS_EXPIRED, Concern.NOT_VERIFIED},
    ),
    "archived, expired and never verified": (
        {
            "status": OperationalStatus.FULL,
            "status_until": NOW - dt.timedelta(days=1),
            "verified_at": None,
            "archived_at": ARCHIVED,
        },
        set(),
    ),
}


@pytest.mark.parametrize("case", LOCATION_CASES, ids=str)
def test_locations_needing_attention(db_session: Session, places: dict[str, Any], case: str):
    fields, expected = LOCATION_CASES[case]
    record = place(db_session, places["casa"], **fields)
    found = needs_attention(db_session, EVERYTHING, NOW)
    assert concerns_of(found, record) == expected
    assert found.total == len(expected)


def test_the_locations_of_an_archived_organization_are_left_out(
    db_session: Session, places: dict[str, Any]
):
    place(db_session, places["casa"], verified_at=None)
    places["casa"].archived_at = ARCHIVED
    db_session.flush()
    assert needs_attention(db_session, EVERYTHING, NOW).total == 0


CONTACT_CASES = {
    "never confirmed": ({"last_confirmed_at": None}, {Concern.NOT_CONFIRMED}),
    "confirmed 13 months ago": ({"last_confirmed_at": months_ago(13)}, {Concern.NOT_CONFIRMED}),
    "confirmed 11 months ago": ({"last_confirmed_at": months_ago(11)}, set()),
    "confirmed a month ago": ({}, set()),
    "archived, never confirmed": ({"last_confirmed_at": None, "archived_at": ARCHIVED}, set()),
    "out of office, never confirmed": (
        {"last_confirmed_at": None, "valid_to": TODAY - dt.timedelta(days=1)},
        set(),
    ),
}


@pytest.mark.parametrize("case", CONTACT_CASES, ids=str)
def test_contacts_needing_attention(db_session: Session, places: dict[str, Any], case: str):
    fields, expected = CONTACT_CASES[case]
    record = person(db_session, places["network"], **fields)
    found = needs_attention(db_session, EVERYTHING, NOW)
    assert concerns_of(found, record) == expected
    assert found.total == len(expected)


@pytest.fixture
def stale(db_session: Session, places: dict[str, Any]) -> dict[str, Any]:
    """One record needing attention per country, organization and kind."""
    expired = {"status": OperationalStatus.FULL, "status_until": NOW - dt.timedelta(days=2)}
    return {
        "casa GT": place(db_session, places["casa"], "GT", **expired),
        "casa MX": place(db_session, places["casa"], "MX", verified_at=None),
        "albergue MX": place(db_session, places["albergue"], "MX", verified_at=None),
        "albergue GT": place(db_session, places["albergue"], "GT", verified_at=months_ago(14)),
        "contact GT": person(db_session, places["network"], "GT", last_confirmed_at=None),
        "contact MX": person(db_session, places["network"], "MX", last_confirmed_at=None),
    }


def listed(found: Any) -> set[Any]:
    return {
        item.record
        for country in found.countries
        for group in country.groups
        for item in group.items
    }


SCOPES = {
    "everything, with contacts": (
        lambda p: Scope(contacts=True),
        {"casa GT", "casa MX", "albergue MX", "albergue GT", "contact GT", "contact MX"},
    ),
    "everything, without contacts": (
        lambda p: Scope(),
        {"casa GT", "casa MX", "albergue MX", "albergue GT"},
    ),
    "Guatemala, with contacts": (
        lambda p: Scope(country_code="GT", contacts=True),
        {"casa GT", "albergue GT", "contact GT"},
    ),
    "an organization (contacts never)": (
        lambda p: Scope(organization_id=p["casa"].id, contacts=True),
        {"casa GT", "casa MX"},
    ),
}


@pytest.mark.parametrize("case", SCOPES, ids=str)
def test_each_scope_sees_its_own_records(
    db_session: Session, places: dict[str, Any], stale: dict[str, Any], case: str
):
    make_scope, expected = SCOPES[case]
    found = needs_attention(db_session, make_scope(places), NOW)
    assert listed(found) == {stale[key] for key in expected}
    # Grouped by country, each country once.
    codes = [country.country.code for country in found.countries]
    assert codes == sorted(set(codes))
    for country in found.countries:
        assert all(
            item.record.country_code == country.country.code
            for g in country.groups
            for item in g.items
        )


ROLE_SCOPES = {
    UserRole.SECRETARIAT: lambda p: Scope(contacts=True),
    UserRole.CONSULAR: lambda p: Scope(contacts=True),
    UserRole.FOCAL_POINT: lambda p: Scope(country_code="GT", contacts=True),
    UserRole.ORGANIZATION_EDITOR: lambda p: Scope(organization_id=p["casa"].id),
}


@pytest.mark.parametrize("role", ROLE_SCOPES, ids=str)
def test_each_role_looks_after_its_scope(
    db_session: Session, places: dict[str, Any], role: UserRole
):
    fields: dict[str, Any] = {}
    if role == UserRole.FOCAL_POINT:
        fields["country_code"] = "GT"
    if role == UserRole.ORGANIZATION_EDITOR:
        fields["organization_id"] = places["casa"].id
    user = make_user(db_session, role, **fields)
    assert attention_scope(user) == ROLE_SCOPES[role](places)


def test_the_oldest_come_first_and_the_rest_is_counted(db_session: Session, places: dict[str, Any]):
    ages = [3, None, 20, 14, None, 30, 16]  # months since verified (None: never)
    records = [
        place(db_session, places["casa"], verified_at=None if age is None else months_ago(age))
        for age in ages
    ]
    found = needs_attention(db_session, EVERYTHING, NOW, limit=4)
    [guatemala] = found.countries
    [group] = guatemala.groups
    assert group.concern == Concern.NOT_VERIFIED
    assert group.total == 6
    assert group.rest == 2
    never = {records[1], records[4]}
    assert {item.record for item in group.items[:2]} == never
    assert [item.record for item in group.items[2:]] == [records[5], records[2]]
    assert [item.since for item in group.items[2:]] == [months_ago(30), months_ago(20)]
    everything = needs_attention(db_session, EVERYTHING, NOW, limit=None)
    assert len(everything.countries[0].groups[0].items) == 6


# The page, as its users see it (dates relative to the real clock: the view asks for now).


@pytest.fixture
def page_records(db_session: Session, places: dict[str, Any]) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    return {
        "expired": place(
            db_session,
            places["casa"],
            "GT",
            name="Casa Expirada",
            status=OperationalStatus.FULL,
            status_until=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
        ),
        "never": place(
            db_session, places["albergue"], "GT", name="Albergue Nunca", verified_at=None
        ),
        "old": place(
            db_session, places["casa"], "GT", name="Casa Vieja", verified_at=months_ago(14, today)
        ),
        "mexico": place(db_session, places["casa"], "MX", name="Casa Mexicana", verified_at=None),
        "contact": person(
            db_session, places["network"], "GT", name="Rosa Sinconfirmar", last_confirmed_at=None
        ),
        "contact MX": person(
            db_session, places["network"], "MX", name="Pedro Mexicano", last_confirmed_at=None
        ),
    }


def page_text(client: Any) -> str:
    response = client.get("/workspace/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_focal_point_sees_its_own_country(
    client: Any, app: Flask, db_session: Session, page_records: dict[str, Any]
):
    user = make_user(db_session, UserRole.FOCAL_POINT, country_code="GT")
    sign_in(client, user)
    html = page_text(client)
    assert "What needs attention in Guatemala" in html
    for name in ("Casa Expirada", "Albergue Nunca", "Casa Vieja", "Rosa Sinconfirmar"):
        assert name in html
    assert "Casa Mexicana" not in html
    assert "Pedro Mexicano" not in html
    records = page_records
    assert f'href="/workspace/locations/{records["expired"].id}/edit">Check the status' in html
    assert f'href="/workspace/locations/{records["never"].id}/edit">Verify' in html
    assert 'href="/workspace/contacts/GT">Confirm' in html
    assert "1 place whose “full” or “closed” status has expired" in html
    assert "2 places never verified or not verified for 12 months" in html
    assert "1 contact person not confirmed for 12 months" in html
    assert "Never verified." in html
    assert "Never confirmed." in html
    # The existing links stay.
    assert 'href="/workspace/password"' in html
    # Another country's full list is not theirs; a country code that is none is not found.
    assert client.get("/workspace/?country=MX").status_code == 404
    assert client.get("/workspace/?country=<b>").status_code == 404
    assert client.get("/workspace/?country=GT").status_code == 200


def test_a_focal_point_with_nothing_to_do_is_told_so(
    client: Any, db_session: Session, places: dict[str, Any]
):
    place(db_session, places["casa"], "GT")
    user = make_user(db_session, UserRole.FOCAL_POINT, country_code="GT")
    sign_in(client, user)
    assert "Nothing needs attention in Guatemala." in page_text(client)


def test_an_organization_editor_sees_its_organization_only(
    client: Any, db_session: Session, places: dict[str, Any], page_records: dict[str, Any]
):
    user = make_user(db_session, UserRole.ORGANIZATION_EDITOR, organization_id=places["casa"].id)
    sign_in(client, user)
    html = page_text(client)
    assert "What needs attention at Casa Guatemala" in html
    for name in ("Casa Expirada", "Casa Vieja", "Casa Mexicana"):
        assert name in html
    assert "Albergue Nunca" not in html
    assert "Rosa Sinconfirmar" not in html
    assert "Pedro Mexicano" not in html
    assert "not confirmed" not in html
    assert "/workspace/contacts" not in html


def test_the_secretariat_sees_every_country_and_can_show_all(
    client: Any, db_session: Session, places: dict[str, Any]
):
    for _ in range(7):
        place(db_session, places["casa"], "MX", verified_at=None)
    user = make_user(db_session, UserRole.SECRETARIAT)
    sign_in(client, user)
    html = page_text(client)
    assert "Show all 7 in Mexico" in html
    assert "(2 more)" in html
    assert html.count(">Verify<") == 5
    full = client.get("/workspace/?country=MX").get_data(as_text=True)
    assert full.count(">Verify<") == 7
    assert "Show all" not in full
    assert "Back to every country" in full
    assert client.get("/workspace/?country=ZZ").status_code == 404


# In Chromium, on the demo data: the page reads on a phone and on a laptop.


@pytest.fixture
def browser_users(server) -> Iterator[dict[str, User]]:
    """A consular account and Guatemala's focal point on the live server's database."""
    with server.app.app_context():
        made = {
            "consular": make_user(db.session, UserRole.CONSULAR),
            "focal_point": make_user(db.session, UserRole.FOCAL_POINT, country_code="GT"),
        }
        ids = [user.id for user in made.values()]
    yield made
    with server.app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.user_id.in_(ids)))
        db.session.execute(delete(User).where(User.id.in_(ids)))
        db.session.commit()


@pytest.mark.browser
@pytest.mark.parametrize("role", ["consular", "focal_point"])
@pytest.mark.parametrize(("width", "height"), [(360, 740), (1366, 900)])
def test_the_home_page_reads_on_a_phone_and_a_laptop(
    server, open_page, browser_users: dict[str, User], role: str, width: int, height: int
) -> None:
    window = open_page(viewport={"width": width, "height": height})
    page = window.page
    page.goto(f"{server.url}/workspace/")
    page.fill("input[name=email]", browser_users[role].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{server.url}/workspace/")
    assert page.locator(".attention h2").count() == 1
    assert page.locator(".attention-item, .attention-empty").count() >= 1
    fixes = page.locator(".attention-item__fix")
    for index in range(min(fixes.count(), 5)):
        box = fixes.nth(index).bounding_box()
        assert box is not None
        assert box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/attention-{role}-{width}.png")
        page.locator(".attention h2").scroll_into_view_if_needed()
        page.evaluate("document.querySelector('.attention h2').scrollIntoView()")
        page.screenshot(path=f"{shots}/attention-{role}-{width}-list.png")
    assert not window.console_errors
