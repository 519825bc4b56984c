"""Every workspace route × every role: allowed, refused (403, audited) or sent to sign-in
(issue 12, point 4).

``ROUTES`` is the table: one row per route and method, with how to build its URL from the
test's records (``World``) and what each actor gets. The actors are the roles, and for the
roles whose rights depend on the record, a user for whom the record is their own and one
for whom it is not:

* ``focal_point`` is the focal point of the records' country (GT), ``focal_point_other``
  of another country (HN);
* ``organization_editor`` edits the records' organization, ``organization_editor_other``
  another organization (one with a site in HN).

The records a row's URL names are always GT's and that organization's (``World``'s
``location``, ``organization``, ``contact``): ``World.other_*`` are there for rows that
need a second one.

A completeness guard compares the table with ``app.url_map``: a new workspace route without
a row fails the suite. Everything runs in the rolled-back ``db_session`` (``client``), so
what an allowed POST changes, and the audit entries of refusals, are gone after each test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, User, UserRole
from directory.places.models import Location, Network, Organization
from directory.suggestions.models import ChangeSuggestion, SuggestionKind, SuggestionVia
from tests import factories
from tests.workspace_helpers import SIGN_IN, csrf_token, make_user, sign_in

# --- outcomes -----------------------------------------------------------------------------

ALLOWED = "allowed"  # 2xx/3xx that is not the sign-in redirect (a POST: or its form, 400)
FORBIDDEN = "forbidden"  # 403, and an AuditEntry action="refused" committed
SIGN_IN_PAGE = "sign_in"  # 302 to the sign-in page
NOT_FOUND = "not_found"  # 404: not a refusal (a page that does not exist for the user)

ACTORS = (
    "anonymous",
    "secretariat",
    "focal_point",
    "focal_point_other",
    "organization_editor",
    "organization_editor_other",
    "consular",
)


def outcomes(signed_in: str = FORBIDDEN, **actors: str) -> dict[str, str]:
    """Every actor's outcome: anonymous visitors go to sign-in, the secretariat may do
    everything, every other signed-in actor gets ``signed_in`` unless named."""
    unknown = set(actors) - set(ACTORS)
    assert not unknown, f"unknown actors {unknown}"
    table = dict.fromkeys(ACTORS, signed_in)
    table.update(anonymous=SIGN_IN_PAGE, secretariat=ALLOWED)
    table.update(actors)
    return table


# Every signed-in role (the home page, one's own password, the lists and records).
SIGNED_IN = outcomes(ALLOWED)
# The users pages.
SECRETARIAT_ONLY = outcomes(FORBIDDEN)
# Contact persons' personal data: ``Action.READ_CONTACTS``.
CONTACT_READERS = outcomes(
    FORBIDDEN, focal_point=ALLOWED, focal_point_other=ALLOWED, consular=ALLOWED
)
# Editing GT's location of the organization (``Action.EDIT`` on a location): the country's
# focal point and the organization's own editor.
LOCATION_EDITORS = outcomes(FORBIDDEN, focal_point=ALLOWED, organization_editor=ALLOWED)
# Creating, archiving or editing any other record of GT (an organization with a site in GT,
# a contact person of GT, a new record in GT, archiving a location): its focal point.
COUNTRY_EDITORS = outcomes(FORBIDDEN, focal_point=ALLOWED)


# --- the records and the actors -----------------------------------------------------------


@dataclass
class World:
    """The records a row's URL names. ``home`` is the records' country (GT), ``other`` a
    second one (HN)."""

    home: str
    other: str
    organization: Organization  # a site in GT (``location``)
    location: Location
    other_organization: Organization  # a site in HN (``other_location``)
    other_location: Location
    network: Network
    contact: ContactPerson  # a contact person of GT
    account: User  # an account for the users pages to act on (a consular one)
    suggestion: ChangeSuggestion  # a pending public suggestion on ``location`` (issue 13)
    contact_suggestion: ChangeSuggestion  # a pending correction of ``contact`` (issue 13)
    users: dict[str, User] = field(default_factory=dict)


@pytest.fixture
def world(db_session: Session) -> World:
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8)).is_rcm_member = True
    factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5)).is_rcm_member = True
    organization = factories.organization(db_session, name="Casa GT")
    location = factories.location(db_session, organization, -90.5, 14.6, "GT", "Guatemala")
    other_organization = factories.organization(db_session, name="Casa HN")
    other_location = factories.location(
        db_session, other_organization, -87.2, 14.1, "HN", "Tegucigalpa"
    )
    network = Network(code="RNCOM", names={"en": "RNCOM", "es": "RNCOM"})
    db_session.add(network)
    contact = ContactPerson(
        external_id="test:routes",
        country_code="GT",
        network=network,
        name="Ana Pérez",
        role=ContactRole.PRIMARY,
        valid_from=dt.date(2024, 1, 1),
        languages=["es"],
        last_confirmed_at=dt.date.today(),
    )
    db_session.add(contact)
    db_session.commit()
    account = make_user(db_session, UserRole.CONSULAR, name="Target account")
    suggestion = ChangeSuggestion(
        location_id=location.id,
        country_code="GT",
        kind=SuggestionKind.PHONE,
        via=SuggestionVia.PUBLIC,
        text="The phone is now +502 5555 0000",
        proposed={"phones": ["+502 5555 0000"]},
        language="es",
    )
    contact_suggestion = ChangeSuggestion(
        contact_person_id=contact.id,
        country_code="GT",
        kind=SuggestionKind.CORRECTION,
        via=SuggestionVia.CONFIRMATION,
        proposed={"phone": "+502 5555 0001"},
        language="es",
    )
    db_session.add_all([suggestion, contact_suggestion])
    db_session.commit()
    return World(
        home="GT",
        other="HN",
        organization=organization,
        location=location,
        other_organization=other_organization,
        other_location=other_location,
        network=network,
        contact=contact,
        account=account,
        suggestion=suggestion,
        contact_suggestion=contact_suggestion,
    )


def make_actor(session: Session, world: World, actor: str) -> User | None:
    """The account of ``actor`` (None: an anonymous visitor)."""
    match actor:
        case "anonymous":
            return None
        case "secretariat":
            return make_user(session, UserRole.SECRETARIAT)
        case "focal_point":
            return make_user(session, UserRole.FOCAL_POINT, country_code=world.home)
        case "focal_point_other":
            return make_user(session, UserRole.FOCAL_POINT, country_code=world.other)
        case "organization_editor":
            return make_user(
                session, UserRole.ORGANIZATION_EDITOR, organization_id=world.organization.id
            )
        case "organization_editor_other":
            return make_user(
                session, UserRole.ORGANIZATION_EDITOR, organization_id=world.other_organization.id
            )
        case "consular":
            return make_user(session, UserRole.CONSULAR)
    raise AssertionError(f"unknown actor {actor}")


# --- the table ----------------------------------------------------------------------------

Body = Mapping[str, Any] | Callable[[World], Mapping[str, Any]] | None


@dataclass(frozen=True)
class Route:
    """One route and method: its URL from the records, the minimal body of a POST (the
    CSRF token is added), and each actor's outcome. ``case`` tells apart two rows of one
    route (e.g. two kinds of record)."""

    endpoint: str
    method: str
    url: Callable[[World], str]
    expect: Mapping[str, str]
    data: Body = None
    case: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}" + (f" ({self.case})" if self.case else "")

    def body(self, world: World) -> dict[str, Any]:
        data = self.data(world) if callable(self.data) else self.data
        return dict(data or {})


ROUTES: list[Route] = [
    Route("workspace.home", "GET", lambda w: "/workspace/", SIGNED_IN),
    Route(
        "workspace.home",
        "GET",
        lambda w: f"/workspace/?country={w.home}",
        outcomes(
            ALLOWED,
            # A focal point looks after its own country: another one's list is not found
            # (views.home: 404, not a refusal; nothing there is secret).
            focal_point_other=NOT_FOUND,
        ),
        case="one country",
    ),
    Route("workspace.password", "GET", lambda w: "/workspace/password", SIGNED_IN),
    # An empty form: the page again with the problems beside the fields (400).
    Route("workspace.password", "POST", lambda w: "/workspace/password", SIGNED_IN),
    Route("workspace.two_factor_setup", "GET", lambda w: "/workspace/two-factor/setup", SIGNED_IN),
    Route(
        "workspace.two_factor_setup",
        "POST",
        lambda w: "/workspace/two-factor/setup",
        SIGNED_IN,
        {"code": "000000"},
    ),
    Route("workspace.contacts", "GET", lambda w: "/workspace/contacts", CONTACT_READERS),
    Route(
        "workspace.contacts_country",
        "GET",
        lambda w: f"/workspace/contacts/{w.home}",
        CONTACT_READERS,
    ),
    Route(
        "workspace.contacts_print", "GET", lambda w: "/workspace/contacts/print", CONTACT_READERS
    ),
    Route("workspace.contacts_csv", "GET", lambda w: "/workspace/contacts.csv", CONTACT_READERS),
    Route("workspace.users_list", "GET", lambda w: "/workspace/users", SECRETARIAT_ONLY),
    Route("workspace.users_invite", "GET", lambda w: "/workspace/users/invite", SECRETARIAT_ONLY),
    Route(
        "workspace.users_invite",
        "POST",
        lambda w: "/workspace/users/invite",
        SECRETARIAT_ONLY,
        {"email": "nueva@example.org", "role": "consular"},
    ),
    Route(
        "workspace.users_edit",
        "GET",
        lambda w: f"/workspace/users/{w.account.id}",
        SECRETARIAT_ONLY,
    ),
    Route(
        "workspace.users_edit",
        "POST",
        lambda w: f"/workspace/users/{w.account.id}",
        SECRETARIAT_ONLY,
        {"name": "Renamed", "role": "consular"},
    ),
    Route(
        "workspace.users_active",
        "POST",
        lambda w: f"/workspace/users/{w.account.id}/active",
        SECRETARIAT_ONLY,
        {"active": "0"},
    ),
    Route(
        "workspace.users_link",
        "POST",
        lambda w: f"/workspace/users/{w.account.id}/link",
        SECRETARIAT_ONLY,
    ),
    # --- editing routes ---
    # Rows for the editing screens (locations, organizations, contact persons) go below
    # this line: Route(endpoint, method, lambda w: url, LOCATION_EDITORS / COUNTRY_EDITORS /
    # SIGNED_IN / outcomes(...), minimal POST body (a dict or a function of the World)).
    # Organizations (directory/workspace/organizations.py): the list shows what the user may
    # edit (empty for the roles that edit none); a history is a record, read by every role.
    Route("workspace.organizations", "GET", lambda w: "/workspace/organizations", SIGNED_IN),
    Route(
        "workspace.organization_edit",
        "GET",
        lambda w: f"/workspace/organizations/{w.organization.id}/edit",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.organization_edit",
        "POST",
        lambda w: f"/workspace/organizations/{w.organization.id}/edit",
        COUNTRY_EDITORS,
        lambda w: {"version": w.organization.version, "name": ""},
    ),
    Route(
        "workspace.organization_archive",
        "POST",
        lambda w: f"/workspace/organizations/{w.organization.id}/archive",
        COUNTRY_EDITORS,
        lambda w: {"version": w.organization.version},
    ),
    Route(
        "workspace.organization_restore",
        "POST",
        lambda w: f"/workspace/organizations/{w.organization.id}/restore",
        COUNTRY_EDITORS,
        lambda w: {"version": w.organization.version},
    ),
    Route(
        "workspace.organization_history",
        "GET",
        lambda w: f"/workspace/organizations/{w.organization.id}/history",
        SIGNED_IN,
    ),
    # Contact persons (directory/workspace/contact_editing.py): GT's focal point edits GT's;
    # the history holds personal data (``Action.READ_CONTACTS``).
    Route(
        "workspace.contact_new",
        "GET",
        lambda w: f"/workspace/contacts/{w.home}/new",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.contact_new",
        "POST",
        lambda w: f"/workspace/contacts/{w.home}/new",
        COUNTRY_EDITORS,
        {"name": ""},
    ),
    Route(
        "workspace.contact_edit",
        "GET",
        lambda w: f"/workspace/contacts/person/{w.contact.id}/edit",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.contact_edit",
        "POST",
        lambda w: f"/workspace/contacts/person/{w.contact.id}/edit",
        COUNTRY_EDITORS,
        lambda w: {"version": w.contact.version, "name": ""},
    ),
    Route(
        "workspace.contact_confirm",
        "POST",
        lambda w: f"/workspace/contacts/person/{w.contact.id}/confirm",
        COUNTRY_EDITORS,
        lambda w: {"version": w.contact.version},
    ),
    Route(
        "workspace.contact_archive",
        "POST",
        lambda w: f"/workspace/contacts/person/{w.contact.id}/archive",
        COUNTRY_EDITORS,
        lambda w: {"version": w.contact.version},
    ),
    Route(
        "workspace.contact_restore",
        "POST",
        lambda w: f"/workspace/contacts/person/{w.contact.id}/restore",
        COUNTRY_EDITORS,
        lambda w: {"version": w.contact.version},
    ),
    Route(
        "workspace.contact_history",
        "GET",
        lambda w: f"/workspace/contacts/person/{w.contact.id}/history",
        CONTACT_READERS,
    ),
    # Locations (directory/workspace/locations.py), added by the routes helper from the
    # views: the list and a history are read by every role; editing is ``Action.EDIT`` on
    # GT's location (its focal point, its organization's editor, with the fields that role
    # may change: the version alone here); archive/restore is ``Action.ARCHIVE``.
    Route("workspace.locations_list", "GET", lambda w: "/workspace/locations", SIGNED_IN),
    Route(
        "workspace.location_edit",
        "GET",
        lambda w: f"/workspace/locations/{w.location.id}/edit",
        LOCATION_EDITORS,
    ),
    Route(
        "workspace.location_edit",
        "POST",
        lambda w: f"/workspace/locations/{w.location.id}/edit",
        LOCATION_EDITORS,
        lambda w: {"version": w.location.version},
    ),
    Route(
        "workspace.location_history",
        "GET",
        lambda w: f"/workspace/locations/{w.location.id}/history",
        SIGNED_IN,
    ),
    Route(
        "workspace.location_archive",
        "POST",
        lambda w: f"/workspace/locations/{w.location.id}/archive",
        COUNTRY_EDITORS,
        lambda w: {"version": w.location.version},
    ),
    Route(
        "workspace.location_restore",
        "POST",
        lambda w: f"/workspace/locations/{w.location.id}/restore",
        COUNTRY_EDITORS,
        lambda w: {"version": w.location.version},
    ),
    # --- issue 13: moderation (directory/workspace/moderation.py) ---
    # The queue: whoever moderates a country (a focal point sees its own, here HN's empty
    # one); a suggestion and its decisions: ``Action.MODERATE`` on its record (GT's).
    Route(
        "workspace.suggestions",
        "GET",
        lambda w: "/workspace/suggestions",
        outcomes(FORBIDDEN, focal_point=ALLOWED, focal_point_other=ALLOWED),
    ),
    Route(
        "workspace.suggestion",
        "GET",
        lambda w: f"/workspace/suggestions/{w.suggestion.id}",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.suggestion",
        "GET",
        lambda w: f"/workspace/suggestions/{w.contact_suggestion.id}",
        COUNTRY_EDITORS,
        case="a contact person's correction",
    ),
    Route(
        "workspace.suggestion_accept",
        "POST",
        lambda w: f"/workspace/suggestions/{w.suggestion.id}/accept",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.suggestion_accept",
        "POST",
        lambda w: f"/workspace/suggestions/{w.contact_suggestion.id}/accept",
        COUNTRY_EDITORS,
        case="a contact person's correction",
    ),
    Route(
        "workspace.suggestion_reject",
        "POST",
        lambda w: f"/workspace/suggestions/{w.suggestion.id}/reject",
        COUNTRY_EDITORS,
        {"note": "Checked: still right"},
    ),
    # --- issue 13: confirmation requests and the outbox (directory/workspace/confirmations.py)
    # GT's records have no e-mail here: allowed requests come back with "no e-mail address"
    # (sending, and the pages' contents: tests/test_confirm_pages.py).
    Route(
        "workspace.contact_confirmation_request",
        "POST",
        lambda w: f"/workspace/contacts/{w.contact.id}/confirmation-request",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.location_confirmation_request",
        "POST",
        lambda w: f"/workspace/locations/{w.location.id}/confirmation-request",
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.confirmation_requests",
        "GET",
        lambda w: "/workspace/confirmation-requests",
        outcomes(FORBIDDEN, focal_point=ALLOWED, focal_point_other=ALLOWED),
    ),
    Route(
        "workspace.confirmation_requests",
        "POST",
        lambda w: "/workspace/confirmation-requests",
        COUNTRY_EDITORS,
        lambda w: {"country": w.home, "months": "12"},
    ),
    Route("workspace.outbox_list", "GET", lambda w: "/workspace/outbox", SECRETARIAT_ONLY),
    # A name not in the outbox: the secretariat gets 404, everybody else is refused first.
    Route(
        "workspace.outbox_message",
        "GET",
        lambda w: "/workspace/outbox/20990101T000000000000Z-00000000.eml",
        outcomes(FORBIDDEN, secretariat=NOT_FOUND),
    ),
    # --- issue 13: imports (directory/workspace/imports.py) ---
    Route(
        "workspace.imports",
        "GET",
        lambda w: "/workspace/imports",
        outcomes(FORBIDDEN, focal_point=ALLOWED, focal_point_other=ALLOWED),
    ),
    Route(
        "workspace.imports_upload",
        "POST",
        lambda w: "/workspace/imports",
        outcomes(FORBIDDEN, focal_point=ALLOWED, focal_point_other=ALLOWED),
        {"kind": "locations", "source": "routes"},
    ),
    # A checked batch of GT (made in the world's session by tests/test_import_pages.py).
    Route(
        "workspace.import_report",
        "GET",
        lambda w: __import__("tests.test_import_pages", fromlist=["x"]).batch_path(w),
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.import_apply",
        "POST",
        lambda w: __import__("tests.test_import_pages", fromlist=["x"]).batch_path(w, "/apply"),
        COUNTRY_EDITORS,
    ),
    Route(
        "workspace.import_discard",
        "POST",
        lambda w: __import__("tests.test_import_pages", fromlist=["x"]).batch_path(w, "/discard"),
        COUNTRY_EDITORS,
    ),
    # --- issue 13: provenance and duplicates (directory/workspace/duplicates.py) ---
    Route("workspace.duplicates", "GET", lambda w: "/workspace/duplicates", SECRETARIAT_ONLY),
    Route(
        "workspace.duplicates_merge",
        "POST",
        lambda w: "/workspace/duplicates/merge",
        SECRETARIAT_ONLY,
        lambda w: {
            "keep": w.other_location.id,
            "archive": w.location.id,
            "version": w.location.version,
        },
    ),
]

# Workspace routes without a row, and why.
NOT_IN_TABLE = {
    "workspace.sign_in": "open to everyone: signing in (tests/test_workspace_auth.py)",
    "workspace.sign_out": "ends any session, for every role (tests/test_workspace_auth.py)",
    "workspace.set_password": "open: the one-time link is the credential (test_workspace_auth)",
    "workspace.two_factor": "open: the code step of signing in (tests/test_workspace_auth.py)",
}


# --- the tests ----------------------------------------------------------------------------


def _workspace_routes(app: Flask) -> set[tuple[str, str]]:
    """Every (endpoint, method) of the workspace blueprint, HEAD and OPTIONS aside."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("workspace.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_every_workspace_route_has_a_row(app: Flask) -> None:
    """A new route without a row in ``ROUTES`` fails here: add its row (or, for a page open
    to everyone, an entry in ``NOT_IN_TABLE`` with the reason)."""
    in_table = {(row.endpoint, row.method) for row in ROUTES}
    routes = _workspace_routes(app)
    missing = {pair for pair in routes if pair not in in_table and pair[0] not in NOT_IN_TABLE}
    assert not missing, f"workspace routes without a row in ROUTES: {sorted(missing)}"
    stale = in_table - routes
    assert not stale, f"rows in ROUTES for routes that do not exist: {sorted(stale)}"
    gone = set(NOT_IN_TABLE) - {endpoint for endpoint, _method in routes}
    assert not gone, f"NOT_IN_TABLE names routes that do not exist: {sorted(gone)}"


def test_the_table_is_well_formed() -> None:
    ids = [row.id for row in ROUTES]
    assert len(ids) == len(set(ids)), "two rows of one route need different ``case``s"
    for row in ROUTES:
        assert set(row.expect) == set(ACTORS), row.id
        assert set(row.expect.values()) <= {ALLOWED, FORBIDDEN, SIGN_IN_PAGE, NOT_FOUND}
        assert row.method in ("GET", "POST"), row.id
        assert row.expect["anonymous"] == SIGN_IN_PAGE, row.id


def _refusals(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "refused")
    )


def _is_sign_in(response: TestResponse) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == SIGN_IN


CSRF_REFUSED = "The form could not be accepted"


def _request(client: FlaskClient, row: Route, world: World, user: User | None) -> TestResponse:
    path = row.url(world)
    if row.method == "GET":
        return client.get(path)
    # A valid token of this session: from a page the actor may open (the sign-in page for
    # a visitor, the home page for everybody signed in).
    token = csrf_token(client, "/workspace/" if user is not None else SIGN_IN)
    return client.post(path, data={**row.body(world), "csrf_token": token})


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", ROUTES, ids=lambda row: row.id)
def test_route_access(
    client: FlaskClient, db_session: Session, world: World, row: Route, actor: str
) -> None:
    user = make_actor(db_session, world, actor)
    if user is not None:
        signed = sign_in(client, user)
        assert signed.status_code == 302, "could not sign in"
        assert not _is_sign_in(signed), "could not sign in"
    refusals = _refusals(db_session)
    path = row.url(world)

    response = _request(client, row, world, user)

    expected = row.expect[actor]
    status = response.status_code
    body = response.get_data(as_text=True)
    assert CSRF_REFUSED not in body, f"{row.id}: the CSRF token was refused"
    if expected == SIGN_IN_PAGE:
        assert _is_sign_in(response), f"{row.id} as {actor}: {status} {response.location}"
        assert _refusals(db_session) == refusals
    elif expected == FORBIDDEN:
        assert status == 403, f"{row.id} as {actor}: {status}, expected 403"
        assert _refusals(db_session) == refusals + 1, "the refusal was not audited"
        entry = db_session.scalars(
            select(AuditEntry).where(AuditEntry.action == "refused").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        assert user is not None
        assert entry.user_id == user.id
        assert entry.after
        assert entry.after["path"] == urlsplit(path).path
    elif expected == NOT_FOUND:
        assert status == 404, f"{row.id} as {actor}: {status}, expected 404"
        assert _refusals(db_session) == refusals
    else:
        # A POST's form may come back with the problems beside its fields (400).
        accepted = 200 <= status < 400 or (row.method == "POST" and status == 400)
        assert accepted, f"{row.id} as {actor}: {status}, expected it allowed"
        assert not _is_sign_in(response), f"{row.id} as {actor}: sent to sign-in"
        assert _refusals(db_session) == refusals, f"{row.id} as {actor}: a refusal audited"
