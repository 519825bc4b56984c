"""Contact persons, read side (issue 12, point 2): the service's filters, the pages for the
roles that may read them (and the refusals), the CSV export and the printed list."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from directory.accounts.models import AuditEntry, ContactPerson, ContactRole, User, UserRole
from directory.contacts import services
from directory.contacts.export import BOM, COLUMNS, contacts_csv
from directory.contacts.services import ContactFilters
from directory.db import db
from directory.places.models import Network
from tests import factories
from tests.workspace_helpers import PASSWORD, make_user, sign_in

# The pages count "in office" and "not confirmed for 12 months" on the real date (UTC), so
# every date of the records is relative to the day the test runs.
TODAY = dt.datetime.now(dt.UTC).date()
CONFIRMED = TODAY - dt.timedelta(days=180)  # a recent confirmation
_numbers = itertools.count(1)


def network(session: Session, code: str, name: str) -> Network:
    record = Network(code=code, names={"en": name, "es": name})
    session.add(record)
    session.flush()
    return record


def contact(
    session: Session, country: str, net: Network, name: str, **fields: Any
) -> ContactPerson:
    record = ContactPerson(
        external_id=f"test:{next(_numbers)}",
        country_code=country,
        network=net,
        name=name,
        role=fields.pop("role", ContactRole.PRIMARY),
        valid_from=fields.pop("valid_from", dt.date(2024, 1, 1)),
        languages=fields.pop("languages", ["es"]),
        last_confirmed_at=fields.pop("last_confirmed_at", CONFIRMED),
        **fields,
    )
    session.add(record)
    session.flush()
    return record


@pytest.fixture
def contacts(db_session: Session) -> dict[str, ContactPerson]:
    """Contacts in three countries and two networks, some of them out of office."""
    for code, bounds in (
        ("MX", (-118.0, 14.5, -86.5, 32.8)),
        ("GT", (-92.3, 13.7, -88.2, 17.8)),
        ("BZ", (-89.3, 15.8, -87.4, 18.5)),
    ):
        factories.country(db_session, code, bounds)
    rncom = network(db_session, "RNCOM", "Regional Network of Civil Organizations")
    cammina = network(db_session, "CAMMINA", "Central America and Mexico Migration Alliance")
    shelter = factories.organization(db_session, name="Casa del Migrante Ñandú")
    records = {
        "peña": contact(
            db_session,
            "MX",
            rncom,
            "José Peña",
            email="jose.pena@example.org",
            position="Coordinador de enlace",
            phone="+52 55 1234 5678",
        ),
        "alt": contact(
            db_session,
            "MX",
            rncom,
            "Ana Alterna",
            role=ContactRole.ALTERNATE,
            email="ana@example.org",
            last_confirmed_at=TODAY - dt.timedelta(days=366),
        ),
        "never": contact(
            db_session,
            "GT",
            cammina,
            "Luis Nunca",
            last_confirmed_at=None,
            organization=shelter,
        ),
        "year": contact(  # confirmed exactly 365 days before TODAY: still fine
            db_session,
            "GT",
            rncom,
            "Marta Justo",
            last_confirmed_at=TODAY - dt.timedelta(365),
        ),
        "bz": contact(db_session, "BZ", cammina, "Dionne Test", languages=["en", "es"]),
        "archived": contact(db_session, "MX", cammina, "Archivado Persona"),
        "ended": contact(
            db_session, "MX", cammina, "Ended Persona", valid_to=TODAY - dt.timedelta(days=1)
        ),
        "future": contact(
            db_session, "GT", cammina, "Future Persona", valid_from=TODAY + dt.timedelta(days=4)
        ),
        "last_day": contact(db_session, "BZ", rncom, "Last Day", valid_to=TODAY),
    }
    records["archived"].archived_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    db_session.flush()
    return records


# --- The service ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ContactFilters(), {"bz", "last_day", "never", "year", "peña", "alt"}),
        (ContactFilters(country="MX"), {"peña", "alt"}),
        (ContactFilters(country="mx"), {"peña", "alt"}),
        (ContactFilters(country="BZ"), {"bz", "last_day"}),
        (ContactFilters(network="CAMMINA"), {"never", "bz"}),
        (ContactFilters(network="NOPE"), set()),
        (ContactFilters(role=ContactRole.ALTERNATE), {"alt"}),
        (ContactFilters(role=ContactRole.PRIMARY, country="MX"), {"peña"}),
        (ContactFilters(unconfirmed=True), {"alt", "never"}),
        (ContactFilters(unconfirmed=True, country="GT"), {"never"}),
        # search: name, e-mail, position, institution; case and accents ignored
        (ContactFilters(query="pena"), {"peña"}),
        (ContactFilters(query="PEÑA"), {"peña"}),
        (ContactFilters(query="josé"), {"peña"}),
        (ContactFilters(query="ana@example"), {"alt"}),
        (ContactFilters(query="coordinador"), {"peña"}),
        (ContactFilters(query="nandu"), {"never"}),
        (ContactFilters(query="casa del migrante"), {"never"}),
        (ContactFilters(query="  persona  "), set()),  # archived, ended, future: not current
        (ContactFilters(query="%"), set()),  # LIKE's wildcards are plain text
        (ContactFilters(query="_"), set()),
        (ContactFilters(query="pena", country="GT"), set()),
    ],
)
def test_search_filters(
    db_session: Session,
    contacts: dict[str, ContactPerson],
    filters: ContactFilters,
    expected: set[str],
) -> None:
    found = services.search_contacts(db_session, filters, TODAY, "en")
    keys = {key for key, record in contacts.items() if record in found}
    assert keys == expected
    assert len(found) == len(expected)


def test_results_are_sorted_by_country_network_and_role(
    db_session: Session, contacts: dict[str, ContactPerson]
) -> None:
    found = services.search_contacts(db_session, ContactFilters(), TODAY, "en")
    # Belize, Guatemala, Mexico; in each, networks by name; primary before alternate.
    assert [record.name for record in found] == [
        "Dionne Test",  # BZ, Central America and Mexico Migration Alliance
        "Last Day",  # BZ, Regional Network…
        "Luis Nunca",  # GT, Central America…
        "Marta Justo",  # GT, Regional…
        "José Peña",  # MX, Regional…, primary
        "Ana Alterna",  # MX, Regional…, alternate
    ]
    spanish = services.search_contacts(db_session, ContactFilters(country="MX"), TODAY, "es")
    assert [record.role for record in spanish] == [ContactRole.PRIMARY, ContactRole.ALTERNATE]


@pytest.mark.parametrize(
    ("confirmed", "unconfirmed"),
    [
        (None, True),
        (TODAY, False),
        (TODAY - dt.timedelta(days=365), False),
        (TODAY - dt.timedelta(days=366), True),
        (TODAY + dt.timedelta(days=3), False),  # a clock ahead: not stale
    ],
)
def test_is_unconfirmed(confirmed: dt.date | None, unconfirmed: bool) -> None:
    record = ContactPerson(last_confirmed_at=confirmed)
    assert services.is_unconfirmed(record, TODAY) is unconfirmed


def test_country_contacts_list_every_network(
    db_session: Session, contacts: dict[str, ContactPerson]
) -> None:
    mexico = services.find_country(db_session, "mx")
    assert mexico is not None
    page = services.country_contacts(db_session, mexico, TODAY, "en")
    assert [group.network.code for group in page.networks] == ["CAMMINA", "RNCOM"]
    cammina, rncom = page.networks
    assert cammina.contacts == []  # the archived and the ended one are not listed
    assert rncom.contacts == [contacts["peña"], contacts["alt"]]


def test_country_without_contacts_has_empty_networks(
    db_session: Session, contacts: dict[str, ContactPerson]
) -> None:
    honduras = factories.country(db_session, "HN", (-89.4, 12.9, -83.1, 16.5))
    page = services.country_contacts(db_session, honduras, TODAY, "en")
    assert page.contacts == []
    assert {group.network.code for group in page.networks} == {"CAMMINA", "RNCOM"}


@pytest.mark.parametrize("code", ["", "M", "MEX", "1X", "ZZ", "m-"])
def test_find_country_refuses_unknown_codes(
    db_session: Session, contacts: dict[str, ContactPerson], code: str
) -> None:
    assert services.find_country(db_session, code) is None


def test_filter_countries(db_session: Session, contacts: dict[str, ContactPerson]) -> None:
    factories.country(db_session, "CR", (-86.0, 8.0, -82.5, 11.2))  # no contact, no member
    names = [country.code for country in services.filter_countries(db_session, TODAY, "en")]
    assert names == ["BZ", "GT", "MX"]


def test_csv_export(db_session: Session, contacts: dict[str, ContactPerson]) -> None:
    contacts["peña"].position = '=HYPERLINK("http://evil")'
    contacts["alt"].phone = "+1 555 0100"
    db_session.flush()
    found = services.search_contacts(db_session, ContactFilters(country="MX"), TODAY, "en")
    text = contacts_csv(found, "en")
    assert text.startswith(BOM)
    lines = text[len(BOM) :].splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert lines[1].startswith("MX,Mexico,RNCOM,")
    assert "'=HYPERLINK" in lines[1]
    assert "'+1 555 0100" in lines[2]


# --- The pages ------------------------------------------------------------------------------

PAGES = (
    "/workspace/contacts",
    "/workspace/contacts/MX",
    "/workspace/contacts/print",
    "/workspace/contacts.csv",
)


@pytest.fixture
def reader(db_session: Session, client: FlaskClient, contacts: dict[str, ContactPerson]):
    """A client signed in as consular staff, who reads every contact."""
    sign_in(client, make_user(db_session, UserRole.CONSULAR))
    return client


@pytest.mark.parametrize("role", ["consular", "focal_point", "secretariat"])
@pytest.mark.parametrize("path", PAGES)
def test_readers_see_the_pages(
    db_session: Session,
    client: FlaskClient,
    contacts: dict[str, ContactPerson],
    role: str,
    path: str,
) -> None:
    # A focal point reads every country's contacts (and edits its own country's).
    country = "GT" if role == "focal_point" else None
    sign_in(client, make_user(db_session, role, country_code=country))
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    if not path.endswith(".csv"):
        assert "José Peña" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_organization_editor_is_refused_and_audited(
    db_session: Session, client: FlaskClient, contacts: dict[str, ContactPerson], path: str
) -> None:
    shelter = factories.organization(db_session)
    editor = make_user(db_session, UserRole.ORGANIZATION_EDITOR, organization_id=shelter.id)
    sign_in(client, editor)
    response = client.get(path)
    assert response.status_code == 403
    assert "Peña" not in response.text
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.user_id == editor.id, AuditEntry.action == "refused")
    ).one()
    assert entry.after == {"action": "read_contacts", "path": path}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: FlaskClient, contacts: dict[str, ContactPerson], path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/workspace/sign-in"
    assert parse_qs(location.query)["next"] == [path]


def test_deactivated_user_is_signed_out(
    db_session: Session, client: FlaskClient, contacts: dict[str, ContactPerson]
) -> None:
    user = make_user(db_session, UserRole.CONSULAR)
    sign_in(client, user)
    user.active = False
    db_session.flush()
    assert client.get("/workspace/contacts").status_code == 302


def test_directory_page(reader: FlaskClient) -> None:
    html = reader.get("/workspace/contacts").text
    # Grouped by country, each linking to its page; the form is a GET form with its filters.
    assert html.index("Belize") < html.index("Guatemala") < html.index("Mexico")
    assert 'href="/workspace/contacts/GT"' in html
    assert '<a href="#country-GT">Guatemala</a>' in html  # a long list: jump to a country
    assert '<form class="contact-filters" method="get" action="/workspace/contacts"' in html
    for name in ('name="q"', 'name="country"', 'name="network"', 'name="role"'):
        assert name in html
    assert "6 contact persons" in html
    assert "Archivado" not in html
    assert "Ended Persona" not in html
    assert "Not confirmed for 12 months" in html  # Luis Nunca, Ana Alterna


def test_directory_search_and_filters(reader: FlaskClient) -> None:
    html = reader.get("/workspace/contacts?q=PENA&role=primary").text
    assert "José Peña" in html
    assert "Ana Alterna" not in html
    assert "1 contact person<" in html
    # The print and CSV links keep the filters.
    assert 'href="/workspace/contacts/print?q=PENA&amp;role=primary"' in html
    assert 'href="/workspace/contacts.csv?q=PENA&amp;role=primary"' in html
    html = reader.get("/workspace/contacts?unconfirmed=1").text
    assert "Luis Nunca" in html
    assert "Ana Alterna" in html
    assert "José Peña" not in html
    html = reader.get("/workspace/contacts?q=nobody-like-this").text
    assert "No contact person matches this search." in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("country=ZZ", "country", "Choose a country from the list."),
        ("country=%3Cscript%3E", "country", "Choose a country from the list."),
        ("network=NOPE", "network", "Choose a network from the list."),
        ("role=boss", "role", "Choose primary, alternate, or both."),
    ],
)
def test_directory_bad_filters(reader: FlaskClient, query: str, field: str, message: str) -> None:
    response = reader.get(f"/workspace/contacts?{query}")
    assert response.status_code == 200
    html = response.text
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in html
    assert 'aria-invalid="true"' in html
    assert "José Peña" not in html  # no search was made
    assert "<script>" not in html


@pytest.mark.parametrize("path", ["/workspace/contacts/print", "/workspace/contacts.csv"])
def test_exports_refuse_bad_filters(reader: FlaskClient, path: str) -> None:
    response = reader.get(f"{path}?role=boss")
    assert response.status_code == 400


def test_country_page(db_session: Session, reader: FlaskClient) -> None:
    network(db_session, "TRICAMEX", "TRICAMEX consular initiative")
    html = reader.get("/workspace/contacts/gt").text
    assert "<h1>Contact persons in Guatemala</h1>" in html
    # Every network, with its contacts or an empty state that says so.
    assert "Luis Nunca" in html
    assert "Marta Justo" in html
    assert "No contact person is recorded for Guatemala in TRICAMEX consular initiative yet." in (
        html
    )
    assert "Future Persona" not in html
    # All the fields, and the flag.
    assert "Casa del Migrante Ñandú" in html
    assert "Never confirmed" in html
    assert "1 contact person has not been confirmed for 12 months" in html
    assert "Not confirmed for 12 months" in html
    html = reader.get("/workspace/contacts/MX").text
    assert html.index("José Peña") < html.index("Ana Alterna")  # primary, then alternate
    assert "Primary contact" in html
    assert "Alternate contact" in html
    assert 'href="mailto:jose.pena@example.org"' in html
    assert 'href="tel:+525512345678"' in html
    assert "Spanish" in html  # the language's name, not its code
    assert format_date(CONFIRMED, "long", locale="en") in html  # in the reader's language
    assert "No primary contact is recorded for Mexico in" not in html


def test_country_page_in_spanish(reader: FlaskClient) -> None:
    html = reader.get("/workspace/contacts/MX", headers={"Accept-Language": "es"}).text
    assert "México" in html
    assert "español" in html
    assert format_date(CONFIRMED, "long", locale="es") in html


@pytest.mark.parametrize("code", ["ZZ", "MEX", "1X", "CR"])
def test_country_page_not_found(db_session: Session, reader: FlaskClient, code: str) -> None:
    factories.country(db_session, "CR", (-86.0, 8.0, -82.5, 11.2))  # no member, no contact
    assert reader.get(f"/workspace/contacts/{code}").status_code == 404


def test_csv_download(
    db_session: Session, reader: FlaskClient, contacts: dict[str, ContactPerson]
) -> None:
    contacts["peña"].position = "@SUM(A1:A9)"
    contacts["alt"].name = "=cmd|' /C calc'!A0"
    contacts["never"].phone = "-1 555 0100"
    db_session.flush()
    response = reader.get("/workspace/contacts.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contact-persons-{dt.datetime.now(dt.UTC).date()}.csv"'
    )
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 1 + 6
    by_name = {row[COLUMNS.index("email")]: row for row in rows[1:]}
    pena = by_name["jose.pena@example.org"]
    assert pena[COLUMNS.index("name")] == "José Peña"
    assert pena[COLUMNS.index("position")] == "'@SUM(A1:A9)"
    assert pena[COLUMNS.index("country")] == "Mexico"
    assert pena[COLUMNS.index("role")] == "primary"
    assert by_name["ana@example.org"][COLUMNS.index("name")] == "'=cmd|' /C calc'!A0"
    never = next(row for row in rows if row[COLUMNS.index("name")] == "Luis Nunca")
    assert never[COLUMNS.index("phone")] == "'-1 555 0100"
    assert never[COLUMNS.index("institution")] == "Casa del Migrante Ñandú"
    assert never[COLUMNS.index("last_confirmed_at")] == ""
    filtered = reader.get("/workspace/contacts.csv?country=BZ").data.decode("utf-8-sig")
    assert len(filtered.splitlines()) == 1 + 2


# --- In Chromium: the printed list and the small screen -------------------------------------


@pytest.fixture
def browser_reader(server) -> Iterator[User]:
    """A consular account committed to the live server's (demo) database, removed after."""
    with server.app.app_context():
        user = make_user(db.session, UserRole.CONSULAR)
        user_id, email = user.id, user.email
    yield user
    with server.app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.user_id == user_id))
        db.session.execute(delete(User).where(User.id == user_id))
        db.session.commit()
    assert email


def browser_sign_in(page: Any, base: str, user: User) -> None:
    page.goto(f"{base}/workspace/contacts/print")  # to sign-in, then back here
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/workspace/contacts/print")


@pytest.mark.browser
def test_printed_list_has_one_country_per_page(server, open_page, browser_reader: User) -> None:
    with server.app.app_context():
        today = dt.datetime.now(dt.UTC).date()
        everyone = services.search_contacts(db.session, ContactFilters(), today, "en")
        countries = services.group_by_country(everyone, "en")
    assert len(countries) >= 5
    window = open_page(viewport={"width": 1366, "height": 900})
    page = window.page
    browser_sign_in(page, server.url, browser_reader)
    names = page.locator(".print-country h2").all_inner_texts()
    assert names == [f"Contact persons in {group.country.name('en')}" for group in countries]
    page.emulate_media(media="print")
    assert page.locator(".print-country .printed-on").first.is_visible()
    assert not page.locator(".site-header").is_visible()
    printed = page.locator(".print-country .printed-on").first.inner_text()
    assert printed.startswith(f"Printed on {today.strftime('%B')} {today.day}, {today.year}.")
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages == len(countries)
    assert not window.console_errors


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/workspace/contacts", "/workspace/contacts/MX"])
def test_contact_pages_fit_a_phone(server, open_page, browser_reader: User, path: str) -> None:
    window = open_page(viewport={"width": 360, "height": 740})
    page = window.page
    browser_sign_in(page, server.url, browser_reader)
    page.goto(server.url + path)
    assert page.locator(".contact").count() >= 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not window.console_errors


@pytest.mark.parametrize(
    "query",
    ["q=" + "é" * 5000, "q=%27%3B--", "q=%25%25", "country=", "unconfirmed=yes&role=", "q=a&q=b"],
)
def test_odd_queries_never_fail(reader: FlaskClient, query: str) -> None:
    for path in ("/workspace/contacts", "/workspace/contacts/print", "/workspace/contacts.csv"):
        assert reader.get(f"{path}?{query}").status_code == 200


def test_print_page_links_the_print_sheet_and_dates_each_country(reader: FlaskClient) -> None:
    html = reader.get("/workspace/contacts/print", headers={"Accept-Language": "es"}).text
    assert 'media="print"' in html
    assert "/static/css/print" in html
    today = format_date(dt.datetime.now(dt.UTC).date(), "long", locale="es")
    printed = re.findall(r'<p class="printed-on">([^<]*)</p>', html)
    assert len(printed) == 3  # per country ("… 27 de noviembre de 2026 …")
    assert all(today in line for line in printed)
    assert html.count('<section class="print-country"') == 3  # Belize, Guatemala, Mexico
