"""Static files: WhiteNoise serves the built folder compressed, hashed names for a year.

``make`` builds ``directory/static-dist/`` (scripts/build-static.py); these tests read what
it built, through the app's whole WSGI chain, as a browser would get it.
"""

from __future__ import annotations

import re

import pytest

from directory.web import static


@pytest.fixture(scope="module", autouse=True)
def built_static_files() -> None:
    """`make test` builds the folder first; without it these tests fail, never skip."""
    if not (static.BUILD_DIR / static.MANIFEST).exists():
        pytest.fail("directory/static-dist/ is not built: run `make` (the .stamps/assets target)")


THIRTY_DAYS = 30 * 24 * 3600


@pytest.fixture(scope="module")
def manifest() -> dict[str, str]:
    return static.load_manifest()


def _max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    assert match, cache_control
    return int(match.group(1))


def test_every_file_has_a_hashed_name(manifest):
    for plain in ("css/site.css", "js/near.js", "vendor/leaflet/leaflet.js", "favicon.svg"):
        hashed = manifest[plain]
        assert static.HASHED_NAME.search(hashed), hashed
        assert hashed.rsplit(".", 2)[0] == plain.rsplit(".", 1)[0]


@pytest.mark.parametrize("encoding", ["br", "gzip"])
@pytest.mark.parametrize("plain", ["css/site.css", "js/near.js", "vendor/leaflet/leaflet.js"])
def test_hashed_files_come_compressed_and_cached_for_a_long_time(app, manifest, plain, encoding):
    url = f"/static/{manifest[plain]}"
    response = app.test_client().get(url, headers={"Accept-Encoding": encoding}, buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache
    assert "public" in cache
    assert _max_age(cache) >= THIRTY_DAYS
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    plain_body = (
        app.test_client()
        .get(url, headers={"Accept-Encoding": "identity"}, buffered=True)
        .get_data()
    )
    assert len(body) < len(plain_body)  # the positive control: the same file, unpacked
    if encoding == "gzip":
        assert body[:2] == b"\x1f\x8b"


def test_plain_names_are_cached_briefly(app):
    response = app.test_client().get(
        "/static/css/site.css", headers={"Accept-Encoding": "gzip"}, buffered=True
    )
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" not in response.headers["Cache-Control"]
    assert _max_age(response.headers["Cache-Control"]) <= 24 * 3600


def test_our_scripts_and_styles_are_minified(app, manifest):
    served = (
        app.test_client()
        .get(f"/static/{manifest['js/near.js']}", buffered=True)
        .get_data(as_text=True)
    )
    source = (static.BUILD_DIR.parent / "static" / "js" / "near.js").read_text()
    assert len(served) < len(source) * 0.7
    assert "/*" not in served.split("\n", 1)[0]  # the source's header comment is gone


def test_static_answers_carry_the_security_headers(app, manifest):
    response = app.test_client().get(f"/static/{manifest['favicon.svg']}", buffered=True)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_pages_link_the_hashed_names(client, manifest):
    page = client.get("/near").get_data(as_text=True)
    for plain in ("css/site.css", "vendor/leaflet/leaflet.js", "js/near.js"):
        assert f"/static/{manifest[plain]}" in page, plain
        assert f"/static/{plain}" not in page


def test_leaflets_hashed_style_sheet_still_finds_its_images(app, manifest):
    """Its images are linked by relative URL: they stay beside the hashed copy."""
    css_url = f"/static/{manifest['vendor/leaflet/leaflet.css']}"
    css = app.test_client().get(css_url, buffered=True).get_data(as_text=True)
    images = set(re.findall(r"url\((images/[\w.-]+)\)", css))
    assert images
    folder = css_url.rsplit("/", 1)[0]
    for image in images:
        assert app.test_client().get(f"{folder}/{image}", buffered=True).status_code == 200, image
