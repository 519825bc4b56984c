"""GET /tiles/<z>/<x>/<y>.png: the base map from our own origin, a cache of the upstream.

A stub tile server on loopback stands for the upstream: tiles flow through our endpoint,
are cached (a second request does not reach the upstream) until they expire, carry our
User-Agent and nothing of the client's, at most two fetches run at once, an upstream that
is down gets a fast answer, bad coordinates get the error shape, and no log line holds a
tile's coordinates.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from directory import privacy
from directory.config import DEFAULT_TILE_USER_AGENT
from directory.tiles.service import (
    MIN_FRESHNESS,
    TileCache,
    TileSettings,
    TileUnavailable,
    upstream_freshness,
    upstream_url,
)
from tests import servers
from tests.conftest import LiveServer, make_test_app

USER_AGENT = "protection-directory tests (https://directory.example.org; ops@example.org)"
TILE_PATH = re.compile(r"^/(\d+)/(\d+)/(\d+)\.png$")


# -- a stub upstream tile server ------------------------------------------------------------


def _png(width: int, height: int, pixel) -> bytes:
    """A small RGB PNG, written by hand (no imaging library in the project)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


_TILE_IMAGES: dict[int, bytes] = {}


def tile_image(z: int) -> bytes:
    """A 256-pixel tile: a pale wash (a shade per zoom) with a grid, so a screenshot shows
    where tiles are and that they came."""
    if z not in _TILE_IMAGES:
        wash = (226 - 3 * (z % 8), 236, 228 + 2 * (z % 8))
        line = (196, 206, 200)

        def pixel(x: int, y: int) -> tuple[int, int, int]:
            if x % 64 == 0 or y % 64 == 0:
                return line
            return wash

        _TILE_IMAGES[z] = _png(256, 256, pixel)
    return _TILE_IMAGES[z]


class StubUpstream:
    """A tile server on a loopback address: records each request (path and headers), how
    many it served at once, and answers as told (``delay``, ``status``, ``headers``,
    ``body``)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.delay = 0.0
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body: bytes | None = None
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with stub._lock:
                    stub.requests.append((self.path, dict(self.headers.items())))
                    stub.active += 1
                    stub.most_active = max(stub.most_active, stub.active)
                try:
                    time.sleep(stub.delay)
                finally:
                    # Before the answer is sent: the client may start its next fetch as
                    # soon as it has read this one.
                    with stub._lock:
                        stub.active -= 1
                match = TILE_PATH.match(self.path)
                body = stub.body or (tile_image(int(match.group(1))) if match else b"?")
                self.send_response(stub.status if match else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                for name, value in stub.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        self.template = f"http://{host}:{self.port}/{{z}}/{{x}}/{{y}}.png"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StubUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]


@pytest.fixture
def upstream() -> Iterator[StubUpstream]:
    with StubUpstream() as stub:
        yield stub


def tile_app(test_database, template: str, cache_dir: Path, **overrides):
    return make_test_app(
        test_database,
        TILE_URL=template,
        TILE_CACHE_DIR=str(cache_dir),
        TILE_USER_AGENT=USER_AGENT,
        **overrides,
    )


@pytest.fixture
def tiles_client(test_database, upstream, tmp_path):
    return tile_app(test_database, upstream.template, tmp_path / "tiles").test_client()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- tiles flow through us and are cached ---------------------------------------------------


def test_a_tile_comes_through_our_endpoint_and_the_second_from_the_cache(
    tiles_client, upstream, tmp_path
):
    first = tiles_client.get("/tiles/5/10/12.png")
    assert first.status_code == 200
    assert first.mimetype == "image/png"
    assert first.data == tile_image(5)
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    assert first.headers["X-Tile-Cache"] == "miss"
    assert upstream.paths() == ["/5/10/12.png"]

    second = tiles_client.get("/tiles/5/10/12.png")
    assert second.status_code == 200
    assert second.data == tile_image(5)
    assert second.headers["X-Tile-Cache"] == "hit"
    assert upstream.paths() == ["/5/10/12.png"]  # the upstream was not asked again
    # Public data: a weak ETag, and 304 when the browser has the tile already.
    etag = second.headers["ETag"]
    assert tiles_client.get("/tiles/5/10/12.png", headers={"If-None-Match": etag}).status_code == (
        304
    )
    cached = list((tmp_path / "tiles").rglob("*.tile"))
    assert [path.relative_to(path.parents[2]).as_posix() for path in cached] == ["5/10/12.tile"]


def test_the_upstream_gets_our_user_agent_and_nothing_of_the_client(tiles_client, upstream):
    tiles_client.get(
        "/tiles/3/1/2.png",
        headers={
            "User-Agent": "SecretBrowser/1.0",
            "Cookie": "session=secret",
            "Referer": "http://localhost/near?lat=14.9&lon=-92.26",
            "X-Forwarded-For": "198.51.100.7",
        },
        environ_base={"REMOTE_ADDR": "198.51.100.8"},
    )
    [(path, headers)] = upstream.requests
    assert path == "/3/1/2.png"
    assert headers["User-Agent"] == USER_AGENT
    sent = " ".join(f"{name}: {value}" for name, value in headers.items())
    for secret in ("SecretBrowser", "secret", "lat=", "198.51.100"):
        assert secret not in sent
    assert not {"Cookie", "Referer", "X-Forwarded-For"} & set(headers)


def test_the_default_user_agent_names_the_project():
    assert DEFAULT_TILE_USER_AGENT.startswith("protection-directory/")


def test_a_tile_expires_and_is_fetched_again(tiles_client, upstream, tmp_path):
    assert tiles_client.get("/tiles/4/3/5.png").headers["X-Tile-Cache"] == "miss"
    [cached] = (tmp_path / "tiles").rglob("5.tile")
    # The file's modification time is its expiry: 7 days ahead by default.
    assert cached.stat().st_mtime == pytest.approx(time.time() + 7 * 24 * 3600, abs=60)
    os.utime(cached, (time.time(), time.time() - 1))  # expired a second ago

    again = tiles_client.get("/tiles/4/3/5.png")
    assert again.headers["X-Tile-Cache"] == "miss"
    assert upstream.paths() == ["/4/3/5.png", "/4/3/5.png"]
    assert cached.stat().st_mtime > time.time()
    assert tiles_client.get("/tiles/4/3/5.png").headers["X-Tile-Cache"] == "hit"


@pytest.mark.parametrize(
    ("headers", "kept_for"),
    [
        ({}, 7 * 24 * 3600),  # nothing said: TILE_CACHE_MAX_AGE
        ({"Cache-Control": "public, max-age=7200"}, 7200),
        ({"Cache-Control": "max-age=60"}, MIN_FRESHNESS),  # never asked again within the hour
        ({"Cache-Control": "no-cache"}, MIN_FRESHNESS),
        ({"Cache-Control": "max-age=99999999"}, 7 * 24 * 3600),  # at most TILE_CACHE_MAX_AGE
        ({"Expires": "Thu, 01 Jan 2015 00:00:10 GMT", "Date": "Thu, 01 Jan 2015 00:00:00 GMT"},
         MIN_FRESHNESS),
    ],
)  # fmt: skip
def test_the_upstreams_caching_headers_are_honoured(
    tiles_client, upstream, tmp_path, headers, kept_for
):
    upstream.headers = headers
    tiles_client.get("/tiles/2/1/1.png")
    [cached] = (tmp_path / "tiles").rglob("1.tile")
    assert cached.stat().st_mtime == pytest.approx(time.time() + kept_for, abs=60)


def test_freshness_from_headers():
    now = 1_420_070_400.0  # 2015-01-01 00:00:00 UTC
    assert upstream_freshness({}, now) is None
    assert upstream_freshness({"cache-control": "s-maxage=10, max-age=300"}, now) == 10
    assert upstream_freshness({"expires": "Thu, 01 Jan 2015 02:00:00 GMT"}, now) == 7200
    assert upstream_freshness({"expires": "0"}, now) == 0  # invalid: already expired
    assert upstream_freshness({"cache-control": "no-store", "expires": "x"}, now) == 0


def test_upstream_templates():
    assert upstream_url("https://{s}.tile.example.org/{z}/{x}/{y}{r}.png", 3, 1, 2) == (
        "https://a.tile.example.org/3/1/2.png"
    )
    assert upstream_url("https://tms.example.org/{z}/{x}/{-y}.png", 3, 1, 2) == (
        "https://tms.example.org/3/1/5.png"
    )


# -- bounded concurrency --------------------------------------------------------------------


def test_at_most_two_fetches_run_at_once_and_one_per_tile(test_database, upstream, tmp_path):
    upstream.delay = 0.25
    app = tile_app(test_database, upstream.template, tmp_path)
    tiles = [(6, x, 7) for x in range(8)] + [(6, 0, 7)] * 4  # the first one five times
    results: list[int] = []

    def fetch(server_url: str, z: int, x: int, y: int) -> None:
        with urllib.request.urlopen(f"{server_url}/tiles/{z}/{x}/{y}.png", timeout=20) as r:
            results.append(r.status)

    with LiveServer(app) as server:
        threads = [threading.Thread(target=fetch, args=(server.url, *tile)) for tile in tiles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert results == [200] * len(tiles)
    assert upstream.most_active == 2  # TILE_UPSTREAM_CONCURRENCY
    assert sorted(upstream.paths()) == sorted(f"/6/{x}/7.png" for x in range(8))  # one each


def test_a_request_that_cannot_get_a_connection_soon_gets_no_tile(tmp_path, upstream):
    upstream.delay = 0.6
    cache = TileCache(
        TileSettings(
            upstream.template, tmp_path, USER_AGENT, concurrency=1, slot_wait=0.1, timeout=5
        )
    )
    slow = threading.Thread(target=cache.get, args=(4, 0, 0))
    slow.start()
    time.sleep(0.2)  # the only connection is taken
    started = time.monotonic()
    with pytest.raises(TileUnavailable) as refused:
        cache.get(4, 1, 0)
    assert time.monotonic() - started < 0.5
    assert refused.value.retry_after >= 1
    slow.join()


# -- an upstream that is down ---------------------------------------------------------------


def test_a_refused_upstream_is_a_fast_503_and_is_left_alone_for_a_while(test_database, tmp_path):
    template = f"http://127.0.0.1:{_closed_port()}/{{z}}/{{x}}/{{y}}.png"
    client = tile_app(test_database, template, tmp_path).test_client()
    started = time.monotonic()
    response = client.get("/tiles/3/2/1.png")
    assert time.monotonic() - started < 1
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "private, no-store"  # nothing to keep
    assert not list(tmp_path.rglob("*.tile"))


def test_a_silent_upstream_costs_one_timeout_then_answers_at_once(test_database, tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        template = f"http://127.0.0.1:{silent.getsockname()[1]}/{{z}}/{{x}}/{{y}}.png"
        app = tile_app(test_database, template, tmp_path, TILE_UPSTREAM_TIMEOUT=0.5)
        client = app.test_client()
        started = time.monotonic()
        assert client.get("/tiles/3/2/1.png").status_code == 503
        assert time.monotonic() - started < 1.5  # the timeout, not a worker held for long
        started = time.monotonic()
        statuses = [client.get(f"/tiles/3/{x}/1.png").status_code for x in range(8)]
        assert statuses == [503] * 8
        assert time.monotonic() - started < 0.5  # backing off: the upstream is not asked


def test_an_expired_tile_is_served_stale_while_the_upstream_is_down(
    test_database, upstream, tmp_path
):
    client = tile_app(test_database, upstream.template, tmp_path).test_client()
    assert client.get("/tiles/5/5/5.png").status_code == 200
    [cached] = tmp_path.rglob("5.tile")
    os.utime(cached, (time.time(), time.time() - 10))
    upstream.stop()

    stale = client.get("/tiles/5/5/5.png")
    assert stale.status_code == 200
    assert stale.headers["X-Tile-Cache"] == "stale"
    assert stale.data == tile_image(5)
    assert client.get("/tiles/5/6/5.png").status_code == 503  # never cached: nothing to give


def test_upstream_answers_that_are_not_tiles_are_not_cached(tiles_client, upstream, tmp_path):
    upstream.status = 404
    missing = tiles_client.get("/tiles/1/0/0.png")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    upstream.status = 200
    upstream.body = b"<html>we are down for maintenance</html>"
    assert tiles_client.get("/tiles/1/1/0.png").status_code == 503
    assert not list(tmp_path.rglob("*.tile"))


def test_a_refusing_upstream_is_logged_once_without_coordinates(tiles_client, upstream, caplog):
    upstream.status = 403
    with caplog.at_level(logging.WARNING, logger="directory.tiles"):
        for x in range(3):
            assert tiles_client.get(f"/tiles/9/{100 + x}/200.png").status_code == 503
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert "HTTP 403" in messages[0]
    assert "TILE_USER_AGENT" in messages[0]
    assert "200" not in messages[0].replace("HTTP 403", "")
    assert len(upstream.requests) == 1  # then left alone


# -- bad coordinates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "name"),
    [
        ("/tiles/20/0/0.png", 400, "z"),
        ("/tiles/99999999999999999999/0/0.png", 400, "z"),
        ("/tiles/3/8/0.png", 400, "x"),
        ("/tiles/3/0/8.png", 400, "y"),
        ("/tiles/0/1/0.png", 400, "x"),
        ("/tiles/-1/0/0.png", 404, None),
        ("/tiles/a/b/c.png", 404, None),
        ("/tiles/1/0/0.jpg", 404, None),
        ("/tiles/1/0", 404, None),
    ],
)
def test_bad_coordinates_get_the_error_shape(tiles_client, upstream, path, status, name):
    response = tiles_client.get(path)
    assert response.status_code == status
    error = response.json["error"]
    if name:
        assert error["code"] == "invalid_parameter"
        assert error["message"].startswith(f"{name}: ")
    else:
        assert error["code"] == "not_found"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert upstream.requests == []


def test_without_a_tile_server_there_are_no_tiles(client):
    response = client.get("/tiles/1/0/0.png")  # the tests' app: TILE_URL=""
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


# -- rate limit -----------------------------------------------------------------------------


def test_only_tiles_fetched_from_the_upstream_count_against_the_budget(
    test_database, upstream, tmp_path
):
    app = tile_app(
        test_database,
        upstream.template,
        tmp_path,
        RATELIMIT_ENABLED=True,
        TILE_RATE_LIMIT="2 per minute",
    )
    client = app.test_client()
    one = {"REMOTE_ADDR": "192.0.2.40"}
    assert client.get("/tiles/7/1/1.png", environ_base=one).status_code == 200  # fetched: 1
    cached = [client.get("/tiles/7/1/1.png", environ_base=one).status_code for _ in range(10)]
    assert cached == [200] * 10  # from the cache: free
    assert client.get("/tiles/7/2/1.png", environ_base=one).status_code == 200  # fetched: 2
    refused = client.get("/tiles/7/3/1.png", environ_base=one)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get(
        "/tiles/7/3/1.png", environ_base={"REMOTE_ADDR": "192.0.2.41"}
    ).status_code == (200)
    # The pages' budget is another one.
    assert client.get("/routes", environ_base=one).status_code == 200


# -- the pages and the offline map ask us, never the upstream -------------------------------


def test_pages_get_our_own_tile_template_and_a_self_only_policy(test_database, upstream, tmp_path):
    client = tile_app(test_database, upstream.template, tmp_path).test_client()
    page = client.get("/routes")
    html = page.get_data(as_text=True)
    assert "/tiles/{z}/{x}/{y}.png" in html
    assert f":{upstream.port}" not in html
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy["img-src"] == "'self' data:"


def test_the_offline_district_map_asks_our_endpoint(app, client, db_session, monkeypatch):
    from tests import factories

    monkeypatch.setitem(app.config, "TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    factories.country(db_session, "MX", (-118.0, 14.5, -86.5, 32.8))
    factories.country(db_session, "GT", (-92.3, 13.7, -88.2, 17.8))
    office = factories.consular_office(db_session, "GT", -92.26, 14.9)
    factories.district(db_session, office, (-94.0, 14.5, -91.0, 17.0))

    html = client.get(f"/consulates/{office.id}/district-map.html").get_data(as_text=True)
    assert "http://localhost/tiles/{z}/{x}/{y}.png" in html
    assert "tiles.example.org" not in html


# -- no log line holds a tile's coordinates -------------------------------------------------


def test_the_filter_cuts_tile_paths():
    line = '127.0.0.1 [01/Jan/2026:00:00:00] "GET /tiles/15/7395/14950.png" 200 1234 3ms'
    assert privacy.redact_tile_paths(line) == (
        '127.0.0.1 [01/Jan/2026:00:00:00] "GET /tiles/[redacted]" 200 1234 3ms'
    )
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(m)s %(U)s"',
        ({"h": "127.0.0.1", "m": "GET", "U": "/tiles/15/7395/14950.png"},), None,
    )  # fmt: skip
    privacy.RedactSearches().filter(record)
    assert record.getMessage() == '127.0.0.1 "GET /tiles/[redacted]"'


def test_the_development_servers_log_holds_no_tile_coordinates(
    test_database, upstream, tmp_path, caplog
):
    app = tile_app(test_database, upstream.template, tmp_path)
    with caplog.at_level(logging.INFO, logger="werkzeug"), LiveServer(app) as server:
        for path in ("/tiles/13/2187/3841.png", "/tiles/13/2187/99999.png"):
            try:
                urllib.request.urlopen(server.url + path, timeout=10).close()
            except urllib.error.HTTPError as error:
                error.close()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /tiles/[redacted]" in text  # the request log did run
    assert "2187" not in text
    assert "3841" not in text


def test_gunicorns_access_log_holds_no_tile_coordinates(test_database, upstream, tmp_path):
    log = tmp_path / "gunicorn.log"
    with servers.gunicorn(
        test_database.render_as_string(hide_password=False),
        log,
        TILE_URL=upstream.template,
        TILE_CACHE_DIR=str(tmp_path / "tiles"),
        TILE_USER_AGENT=USER_AGENT,
        WEB_CONCURRENCY="1",
    ) as base:
        with urllib.request.urlopen(base + "/tiles/13/2187/3841.png", timeout=10) as response:
            assert response.status == 200
        time.sleep(0.5)  # let the access log reach the file
    text = log.read_text()
    assert '"GET /tiles/[redacted]" 200' in text  # the access log did run
    assert "2187" not in text
    assert "3841" not in text
    assert upstream.paths() == ["/13/2187/3841.png"]
