"""The test fixtures themselves: rolled-back sessions, the demo database, the browser pages."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from directory.db import db
from directory.places.models import Country, Location
from tests import factories


@pytest.mark.parametrize("fixture", ["db_session", "demo_session"])
def test_a_commit_in_a_test_session_stays_inside_the_test(request, fixture):
    session = request.getfixturevalue(fixture)
    url = db.engine.url  # the database the session's connection is on
    assert session is db.session  # code under test sees the same session
    factories.country(session, "ZZ", (1.0, 1.0, 2.0, 2.0))
    db.session.commit()  # what code under test may do: it only releases a savepoint
    assert session.get(Country, "ZZ") is not None
    outside = create_engine(url)
    try:
        with outside.connect() as connection:
            seen = connection.scalar(select(func.count()).where(Country.code == "ZZ"))
    finally:
        outside.dispose()
    assert seen == 0


def test_the_demo_session_holds_the_demo_data(demo_session, db_session):
    assert demo_session.scalar(select(func.count()).select_from(Location)) >= 200
    assert db_session.scalar(select(func.count()).select_from(Location)) == 0


@pytest.mark.browser
def test_pages_reach_only_localhost_and_report_script_errors(open_page, server):
    opened = open_page()
    page = opened.page
    page.goto(server.url + "/routes")
    # Our pages' Content-Security-Policy would stop the image before the network does: ask
    # from a blank page, which has no policy, so that the routing is what is tested.
    page.goto("about:blank")
    page.set_content('<img src="https://example.org/pixel.png">')
    page.wait_for_timeout(200)
    assert opened.blocked == ["https://example.org/pixel.png"]
    page.evaluate("setTimeout(() => { throw new Error('deliberate') })")
    page.wait_for_timeout(200)
    assert len(opened.page_errors) == 1
    assert "deliberate" in opened.page_errors[0]
    opened.page_errors.clear()  # else the fixture fails this test, as it should
