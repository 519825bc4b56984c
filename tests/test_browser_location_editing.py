"""Editing a location in headless Chromium (issue 12, acceptance): a focal point drags a
place's marker and saves, and sees it on the public map and in the history; an
organization's editor marks its shelter full until tomorrow and the public search says so.

The live server serves the run's shared demo database (committed), so each test puts back
what it changed: the location's row as it was, the audit entries it wrote, the account.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from directory.accounts.models import AuditEntry, User, UserRole
from directory.db import CONSULAR_KINDS, OrganizationKind, db
from directory.places.models import Location, Organization
from tests.workspace_helpers import PASSWORD, make_user

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/location-editing-screens")
RESTORED = ("point", "timezone", "status", "status_until", "capacity", "version", "updated_at")


def _a_shelter(kind: OrganizationKind = OrganizationKind.SHELTER) -> Location:
    """A Guatemalan place in the capital that is not a consular office (moving one would
    recompute districts other tests read)."""
    return db.session.scalars(
        select(Location)
        .join(Location.organization)
        .where(
            Location.country_code == "GT",
            Location.archived_at.is_(None),
            Organization.kind == kind,
            Organization.kind.not_in(CONSULAR_KINDS),
            Location.city == "Ciudad de Guatemala",
        )
        .order_by(Location.id)
    ).first()


@contextmanager
def borrowed(app: Any, role: UserRole, **scope: Any) -> Iterator[tuple[User, Location]]:
    """An account and a location of the demo database, put back as they were afterwards."""
    with app.app_context():
        location = _a_shelter()
        assert location is not None
        if scope.pop("own_organization", False):
            scope["organization_id"] = location.organization_id
        saved = {column: getattr(location, column) for column in RESTORED}
        location_id = location.id
        user = make_user(db.session, role, **scope)
        user_id = user.id
        db.session.expunge_all()
    try:
        with app.app_context():
            yield db.session.get(User, user_id), db.session.get(Location, location_id)
    finally:
        with app.app_context():
            db.session.execute(
                delete(AuditEntry).where(
                    (AuditEntry.user_id == user_id)
                    | (
                        (AuditEntry.entity == "locations")
                        & (AuditEntry.entity_id == str(location_id))
                        & (AuditEntry.action != "create")
                    )
                )
            )
            db.session.execute(update(Location).where(Location.id == location_id).values(saved))
            db.session.execute(delete(User).where(User.id == user_id))
            db.session.commit()


def _screenshots(page, name: str) -> None:
    """The whole page in pieces a person can look at (a wide screen's main column scrolls
    on its own: the window is made as tall as the page first)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "Math.max(document.documentElement.scrollHeight,"
        " document.querySelector('main').scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": height + 200})
    top, step = 0, 1400
    while top < height + 200:
        clip = {"x": 0, "y": top, "width": size["width"], "height": min(step, height + 200 - top)}
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{top // step}.png"), clip=clip)
        top += step
    page.set_viewport_size(size)


def _sign_in(page, server, user: User) -> None:
    page.goto(server.url + "/workspace/sign-in")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(server.url + "/workspace/")


def test_a_focal_point_drags_the_marker_saves_and_sees_it_on_the_public_map(open_page, server):
    with borrowed(server.app, UserRole.FOCAL_POINT, country_code="GT") as (user, location):
        opened = open_page(viewport={"width": 1366, "height": 900})
        page = opened.page
        _sign_in(page, server, user)
        page.goto(f"{server.url}/workspace/locations/{location.id}/edit")
        marker = page.wait_for_selector(".leaflet-marker-icon")
        before = (float(page.input_value("#lat")), float(page.input_value("#lon")))
        page.wait_for_timeout(300)  # the first view settles
        box = marker.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y + 30, steps=8)
        page.mouse.move(x + 120, y + 60, steps=8)
        page.mouse.up()
        page.wait_for_function(
            "lat => document.getElementById('lat').value !== lat", arg=str(before[0])
        )
        after = (float(page.input_value("#lat")), float(page.input_value("#lon")))
        assert after[0] < before[0]  # dragged down: south
        assert after[1] > before[1]  # and right: east
        assert "Point set" in page.inner_text("#location-map-status")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "edit-1366-moved.png"), full_page=True)
        page.click(".location-form button[type=submit]")
        page.wait_for_load_state()
        errors = page.locator(".field__error, .form-problem, .stale").all_inner_texts()
        assert errors == []
        assert "Saved." in page.inner_text(".flash")

        # The public map: the place is at the new point, nearest to it.
        page.goto(f"{server.url}/near?lat={after[0]}&lon={after[1]}")
        page.wait_for_selector("#near-map .leaflet-marker-icon")
        config = json.loads(page.get_attribute("#near-map", "data-config"))
        first = config["results"][0]
        assert first["url"] == f"/places/{location.id}"
        assert first["coordinates"] == pytest.approx([after[1], after[0]], abs=1e-6)
        assert page.inner_text(".result h2 >> nth=0") == first["name"]

        # The history says it moved, and who moved it.
        page.goto(f"{server.url}/workspace/locations/{location.id}/history")
        _screenshots(page, "history-1366")
        history = page.inner_text("main")
        assert "Point" in history
        assert "moved" in history
        assert user.name in history
        assert opened.console_errors == []


def test_an_organization_editor_marks_its_shelter_full_until_tomorrow(open_page, server):
    with borrowed(server.app, UserRole.ORGANIZATION_EDITOR, own_organization=True) as (
        user,
        location,
    ):
        opened = open_page(viewport={"width": 360, "height": 740})
        page = opened.page
        _sign_in(page, server, user)
        page.goto(f"{server.url}/workspace/locations/{location.id}/edit")
        assert page.locator("#lat").count() == 0  # not for an organization's editor
        _screenshots(page, "edit-360-organization-editor")
        tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        page.check("input[name=status][value=full]")
        page.fill("#until_date", tomorrow.isoformat())
        page.click(".location-form button[type=submit]")
        page.wait_for_selector(".flash")
        assert "Saved." in page.inner_text(".flash")
        position = location.position
        page.goto(f"{server.url}/near?lat={position.lat}&lon={position.lon}&limit=50")
        result = page.locator(".result", has=page.locator(f"h2 a[href^='/places/{location.id}?']"))
        assert "Full until" in result.first.inner_text()
        assert opened.console_errors == []


@pytest.mark.parametrize("viewport", [(360, 740), (1366, 900)])
def test_screenshots_of_the_edit_page(open_page, server, viewport):
    """The edit page at a phone's and a laptop's size, with an error shown (looked at)."""
    width, height = viewport
    with borrowed(server.app, UserRole.FOCAL_POINT, country_code="GT") as (user, location):
        opened = open_page(viewport={"width": width, "height": height})
        page = opened.page
        _sign_in(page, server, user)
        page.goto(f"{server.url}/workspace/locations/{location.id}/edit")
        page.wait_for_selector(".leaflet-marker-icon")
        _screenshots(page, f"edit-{width}")
        page.fill("#lat", "19.4326")
        page.fill("#lon", "-99.1332")
        page.check("#hours-mode-2")  # day by day
        page.check("#hours-mo-state-2")  # Monday: open from … to …
        page.fill("#hours-mo-opens1", "16:00")
        page.fill("#hours-mo-closes1", "08:00")
        page.click(".location-form button[type=submit]")
        page.wait_for_selector("#point-error")
        assert "lies in Mexico, not in Guatemala" in page.inner_text("#point-error")
        assert "ends before it starts" in page.inner_text("#hours-mo-error")
        _screenshots(page, f"edit-{width}-errors")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width  # nothing wider than the screen


def test_without_javascript_the_point_is_typed(open_page, server):
    """No map without JavaScript (nor an empty box where it would be): the typed latitude
    and longitude are the way, and every day's time fields are there."""
    with borrowed(server.app, UserRole.FOCAL_POINT, country_code="GT") as (user, location):
        opened = open_page(javascript=False, viewport={"width": 360, "height": 740})
        page = opened.page
        _sign_in(page, server, user)
        page.goto(f"{server.url}/workspace/locations/{location.id}/edit")
        assert not page.is_visible("#location-map")
        assert page.is_visible("#hours-su-opens2")
        page.fill("#lat", "14.6")
        page.fill("#lon", "-90.55")
        page.click(".location-form button[type=submit]")
        page.wait_for_selector(".flash")
        assert "Saved." in page.inner_text(".flash")
        assert page.input_value("#lat") == "14.6"
