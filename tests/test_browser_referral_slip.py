"""The referral slip in headless Chromium (issue 15, acceptance): from the office page, with
the national's location typed, the officer opens a partner's slip, picks French and prints
it to PDF: one page, in French, with the partner's phones and the consulate's protection
line. The production server's log (gunicorn, as `make serve` runs it) holds no trace of the
place typed.

The demo data has no phones and no protection lines: the test gives a demo partner in the
district of Guatemala's consulate in Tapachula two phones and the consulate a protection
line, committed to the browser database, and puts the old values back afterwards.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import unicodedata
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from tests import servers

pytestmark = pytest.mark.browser

GT_TAPACHULA = "Consulado de Guatemala en Tapachula"
PARTNER = "Albergue Belén – Casa del Migrante (Scalabrinianos)"
PHONES = ["+52 962 555 0101", "+52 962 555 0102"]
PROTECTION = "+502 2411 1900"
# What the officer types for where the national is (the acceptance's example).
TYPED_TOWN = "Tapachula"
TYPED_LAT, TYPED_LON = "14.9", "-92.26"
A4_AT_96_DPI = {"width": 794, "height": 1123}


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@pytest.fixture
def slip_records(demo_database):
    """The office's and the partner's ids, with phones and a protection line set (and the
    old values put back after the test)."""
    engine = create_engine(demo_database.url)
    find = text(
        "SELECT l.id, l.phones, l.protection_phone FROM locations l "
        "JOIN organizations o ON o.id = l.organization_id "
        "WHERE o.name = :name AND l.city = 'Tapachula' AND l.archived_at IS NULL"
    )
    update = text("UPDATE locations SET phones = :phones, protection_phone = :line WHERE id = :id")
    with engine.begin() as connection:
        office = connection.execute(find, {"name": GT_TAPACHULA}).one()
        partner = connection.execute(find, {"name": PARTNER}).one()
        connection.execute(update, {"id": office.id, "phones": office.phones, "line": PROTECTION})
        connection.execute(update, {"id": partner.id, "phones": PHONES, "line": None})
    try:
        yield office.id, partner.id
    finally:
        with engine.begin() as connection:
            for row in (office, partner):
                connection.execute(
                    update, {"id": row.id, "phones": row.phones, "line": row.protection_phone}
                )
        engine.dispose()


@pytest.fixture
def production_server(demo_database, tmp_path):
    log = tmp_path / "gunicorn.log"
    url = demo_database.url.render_as_string(hide_password=False)
    with servers.gunicorn(url, log, RATELIMIT_ENABLED="0") as base:
        yield base, log


def test_the_slip_prints_on_one_page_in_french_and_the_log_keeps_no_place(
    production_server, slip_records, open_page, tmp_path
):
    base, log = production_server
    office_id, partner_id = slip_records
    opened = open_page()
    page = opened.page

    # The officer types where the national is, on the office page.
    page.goto(f"{base}/consulates/{office_id}?lang=en")
    page.fill("#q", TYPED_TOWN)
    page.click("#partner-filters button[type=submit]")
    row = page.locator(f'li.partner[data-id="{partner_id}"]')
    row.wait_for()
    assert TYPED_TOWN in page.inner_text("#national-place")
    # The same page with coordinates, as a shared link would carry them.
    page.goto(f"{base}/consulates/{office_id}?lang=en&from={TYPED_LAT},{TYPED_LON}&q={TYPED_TOWN}")
    row.wait_for()

    # The partner's slip, from its row; then in French, the national's language.
    row.locator(".referral-slip a").click()
    page.wait_for_selector("#slip")
    assert TYPED_TOWN not in page.url
    assert TYPED_LAT not in page.url
    page.select_option("#slip-lang", "fr")
    page.click("#slip-language button[type=submit]")
    page.wait_for_selector('html[lang="fr"]')
    assert page.is_visible("[data-slip-print]")  # the script ran

    # Copy: the text box's text reaches the clipboard.
    opened.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("[data-slip-copy]")
    page.wait_for_selector(".slip-copied:not(:empty)")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#slip-text")
    assert digits(PROTECTION) in digits(copied)

    today = dt.datetime.now(ZoneInfo("America/Mexico_City")).date()
    for paper in ("A4", "Letter"):
        pdf = PdfReader(io.BytesIO(page.pdf(format=paper)))
        assert len(pdf.pages) == 1, paper
        # NFKC: the PDF's text has the font's ligatures ("ﬁ" in "confirmés").
        printed = " ".join(unicodedata.normalize("NFKC", pdf.pages[0].extract_text()).split())
        for phone in PHONES:
            assert digits(phone) in digits(printed), paper
        assert digits(PROTECTION) in digits(printed)
        assert PARTNER in printed
        # French, the language chosen (the labels are printed in capitals).
        assert "téléphone" in printed.casefold()
        assert "Horaires habituels, non confirmés par l" in printed
        assert format_date(today, "long", locale="fr") in printed
        # Only the slip is printed: not the officer's tools or the site's menu.
        assert "Kreyòl ayisyen" not in printed
        assert TYPED_LAT not in printed

    # On paper (print media, an A4 page): the tools, the text box and the header are gone.
    page.set_viewport_size(A4_AT_96_DPI)
    page.emulate_media(media="print")
    for hidden in (".site-header", ".language-switch", ".slip-tools", ".slip-share"):
        assert page.locator(hidden).is_hidden(), hidden
    slip_box = page.locator("#slip").bounding_box()
    assert slip_box is not None
    assert slip_box["height"] < A4_AT_96_DPI["height"]
    page.screenshot(path=str(tmp_path / "slip-print.png"))
    assert opened.blocked == []
    assert opened.console_errors == []

    time.sleep(0.5)  # let the access log reach the file
    logged = log.read_text()
    assert f'"GET /consulates/{office_id}/partners/{partner_id}/slip"' in logged  # it ran
    assert f'"GET /consulates/{office_id}"' in logged
    for typed in (TYPED_TOWN, TYPED_LAT, TYPED_LON):
        assert typed not in logged, typed
