"""Which language a page is answered in, and how the choice travels (issue 11).

Every request here sets ``Accept-Language`` itself (an empty header is no preference):
the suite's test clients otherwise say English (tests/conftest.py).
"""

from __future__ import annotations

import re

import pytest

from directory.i18n import LANGUAGES
from directory.i18n.selection import LANG_COOKIE

NO_PREFERENCE = {"Accept-Language": ""}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture
def client(demo_app):
    return demo_app.test_client()


def test_spanish_without_any_preference(client):
    assert html_lang(client.get("/near", headers=NO_PREFERENCE)) == "es"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ht", "ht"),
        ("fr-CA,fr;q=0.9,en;q=0.5", "fr"),
        ("en-US,en;q=0.9", "en"),
        ("pt-BR,pt;q=0.9", "es"),  # a language we do not have: Spanish
        ("de;q=0.9,ht;q=0.4", "ht"),
    ],
)
def test_accept_language_chooses_when_the_person_did_not(client, header, expected):
    response = client.get("/near", headers={"Accept-Language": header})
    assert html_lang(response) == expected
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


@pytest.mark.parametrize("header", [";;;q=abc, ,,=", "*;q=xyz,en-;q=", "é-ü;q=1", "x" * 500])
def test_a_malformed_accept_language_is_ignored(client, header):
    response = client.get("/near?q=Tapachula", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert html_lang(response) in LANGUAGES


def test_the_url_choice_wins_and_is_remembered_in_a_cookie_of_its_own(client):
    response = client.get("/near?lang=ht", headers={"Accept-Language": "fr"})
    assert html_lang(response) == "ht"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANG_COOKIE}=ht;")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # The cookie carries the language and nothing else; the next page without ?lang uses it.
    later = client.get("/routes", headers={"Accept-Language": "fr"})
    assert html_lang(later) == "ht"
    assert "Set-Cookie" not in later.headers


@pytest.mark.parametrize("code", ["zz", "", "../etc", "es'><script>", "EN", "ht-HT"])
def test_an_unknown_code_in_the_url_or_cookie_falls_back(client, code):
    response = client.get("/near", query_string={"lang": code}, headers=NO_PREFERENCE)
    assert response.status_code == 200
    expected = {"EN": "en", "ht-HT": "ht"}.get(code, "es")
    assert html_lang(response) == expected
    client.set_cookie(LANG_COOKIE, code)
    assert html_lang(client.get("/consulates", headers=NO_PREFERENCE)) == expected


def test_links_and_forms_keep_the_choice(client):
    html = client.get("/near?q=Tapachula&lang=fr", headers=NO_PREFERENCE).get_data(as_text=True)
    nav_links = re.findall(r'<a href="(/[^"#]*)"', html)
    page_links = [link for link in nav_links if not link.startswith(("/static", "/api"))]
    assert page_links
    assert all("lang=" in link for link in page_links), page_links
    assert '<input type="hidden" name="lang" value="fr">' in html


def test_the_switcher_names_each_language_in_its_own_language(client):
    html = client.get("/near?q=Tapachula&utm_source=x", headers=NO_PREFERENCE).get_data(
        as_text=True
    )
    switch = re.search(r'<nav class="language-switch".*?</nav>', html, re.S).group(0)
    for code, name in LANGUAGES.items():
        assert f'lang="{code}"' in switch
        assert f">{name}</a>" in switch
    # The same page and search in another language; a tracking parameter is left behind.
    assert 'href="/near?q=Tapachula&amp;lang=ht"' in switch
    assert "utm_source" not in switch
    assert 'aria-current="true">Español<' in switch


def test_the_api_follows_accept_language_only(client):
    response = client.get(
        "/api/v1/locations/nearest?lat=abc&lon=1&lang=fr", headers={"Accept-Language": "ht"}
    )
    assert response.status_code == 400
    assert "Accept-Language" in response.vary
    assert "Set-Cookie" not in response.headers
