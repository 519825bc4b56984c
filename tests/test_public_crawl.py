"""Contact persons' personal data never leaves the workspace (issue 12, acceptance): a crawl
of the public site and API, on the demo data with its contact persons loaded, finds none of
their names, e-mails or phone numbers.

The crawl starts at ``/`` and follows every same-origin link (``<a href>``, ``<link href>``,
``<script src>``, ``<img src>``, ``<iframe src>`` and each GET form submitted with its
default values), then adds every GET operation of the OpenAPI document (its path
parameters filled with real ids, its required query parameters with the document's
examples), the POST corridor with its example body, and the pages of the organizations a
contact person works for. It is bounded: at most ``PER_SHAPE`` URLs of one shape (a place
page, a consulate's export…: digits and parameter values aside) and ``MAX_URLS`` in all.
Workspace links (signed in) are not followed. Every public endpoint of the app must be
reached, so a new public route is crawled as soon as it exists.
"""

from __future__ import annotations

import csv
import html
import json
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson
from directory.cli import SEEDS_DIR
from directory.corridors.models import Route
from directory.db import OrganizationKind
from directory.hsds import ids as hsds_ids
from directory.places.models import Location, Organization

MAX_URLS = 400
PER_SHAPE = 6
ORIGIN = "http://localhost"
SKIPPED_PREFIXES = ("/workspace", "/tiles/")  # signed-in pages; map tiles are images
MIN_PHONE_DIGITS = 7
# Endpoints that are not the directory's public content.
NOT_PUBLIC_CONTENT = {
    "static",
    "tiles.tile",
    "tiles.not_a_tile",
    # A confirmation link's pages open only with its signed token, sent to the person the
    # record names, and show that person's own record (tests/test_confirm_pages.py).
    "public.confirm_page",
    "public.confirm_yes",
    "public.confirm_correct",
}
PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-/\u00a0]{5,}\d")
COORDINATE = re.compile(r"[+-]?\d{1,3}\.\d{4,}")  # "15.550100" is a latitude, not a phone


# --- What must not be found ---------------------------------------------------------------


def fold(text: str) -> str:
    """Case, accents and Unicode forms aside: "JOSÉ" and "jose" are the same needle."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass(frozen=True)
class Needles:
    """The personal data to look for: names and e-mails (folded) and phone digits."""

    texts: dict[str, str]  # folded text → what it is ("name of …")
    phones: dict[str, str]  # digits → whose

    @classmethod
    def of(cls, contacts: Iterable[tuple[str, str | None, str | None]]) -> Needles:
        texts: dict[str, str] = {}
        phones: dict[str, str] = {}
        for name, email, phone in contacts:
            texts[fold(name)] = f"the name {name!r}"
            if email:
                texts[fold(email)] = f"the e-mail of {name}"
            if phone and len(digits(phone)) >= MIN_PHONE_DIGITS:
                phones[digits(phone)] = f"the phone of {name}"
        return cls(texts, phones)

    def found_in(self, body: str) -> list[str]:
        folded = fold(body)
        found = [what for text, what in self.texts.items() if text in folded]
        numbers = {
            digits(match) for match in PHONE_LIKE.findall(body) if not COORDINATE.fullmatch(match)
        }
        found += [what for phone, what in self.phones.items() if phone in numbers]
        return found


def readable(body: bytes, mimetype: str) -> str:
    """The text a reader (or a script) gets out of a response: HTML entities and JSON
    escapes decoded, so "Jos&eacute;" or "Jos\\u00e9" cannot hide a name."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    if "json" in mimetype:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    if "html" in mimetype or "xml" in mimetype:
        return html.unescape(text)
    return text


# --- The crawl ------------------------------------------------------------------------------


class LinkParser(HTMLParser):
    """Every URL a page links to, and its GET forms submitted with their defaults."""

    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.urls: list[str] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for name in ("href", "src"):
            if attributes.get(name) and tag in ("a", "link", "script", "img", "iframe", "area"):
                self.urls.append(attributes[name])
        if tag == "form" and attributes.get("method", "get").lower() == "get":
            self._form = {"action": attributes.get("action", ""), "fields": []}
        elif self._form is not None:
            self._form_field(tag, attributes)

    def _form_field(self, tag: str, attributes: dict[str, str]) -> None:
        assert self._form is not None
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self._form["fields"].append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, None
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attributes:
                self._selected = value
        elif tag == "textarea" and name:
            self._form["fields"].append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._form is not None and self._select:
            value = self._selected if self._selected is not None else self._first_option
            self._form["fields"].append((self._select, value or ""))
            self._select = None
        elif tag == "form" and self._form is not None:
            # A form without an action submits to its page, the query replaced.
            action = self._form["action"] or self.page_path
            query = urlencode(self._form["fields"])
            self.urls.append(f"{action}?{query}" if query else action)
            self._form = None


def links_of(body: str, base: str) -> Iterator[str]:
    parser = LinkParser(urlsplit(base).path)
    parser.feed(body)
    for url in parser.urls:
        yield urljoin(base, url)


def local_path(url: str) -> str | None:
    """``/path?query`` of a same-origin URL (fragment dropped), else None."""
    parts = urlsplit(urljoin(ORIGIN + "/", url))
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if parts.path.startswith(SKIPPED_PREFIXES) else path


def shape(path: str) -> str:
    """A URL's shape: its path with numbers as ``N``, its parameters' names (and the language
    asked for, so each language gets its share)."""
    parts = urlsplit(path)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + "?" + ",".join(names)


@dataclass
class Crawl:
    client: FlaskClient
    app: Flask
    needles: Needles
    fetched: dict[str, int] = field(default_factory=dict)  # path → status
    endpoints: set[str] = field(default_factory=set)
    leaks: list[str] = field(default_factory=list)
    _queue: deque[tuple[str, str | None]] = field(default_factory=deque)
    _seen: set[str] = field(default_factory=set)
    _shapes: dict[str, int] = field(default_factory=dict)

    def add(self, path: str | None, *, pinned: bool = False) -> None:
        """Queue ``path`` unless seen, or (unless ``pinned``) its shape has had its share."""
        if path is None or path in self._seen:
            return
        key = shape(path)
        if not pinned and self._shapes.get(key, 0) >= PER_SHAPE:
            return
        self._seen.add(path)
        self._shapes[key] = self._shapes.get(key, 0) + 1
        self._queue.append((path, None))

    def add_post(self, path: str, body: dict[str, Any]) -> None:
        self._queue.append((path, json.dumps(body)))

    def run(self) -> None:
        while self._queue and len(self.fetched) < MAX_URLS:
            path, body = self._queue.popleft()
            if body is None:
                response = self.client.get(path)
            else:
                response = self.client.post(path, data=body, content_type="application/json")
            self.fetched[path if body is None else f"POST {path}"] = response.status_code
            adapter = self.app.url_map.bind("localhost")
            try:
                endpoint, _args = adapter.match(
                    urlsplit(path).path, method="POST" if body else "GET"
                )
                self.endpoints.add(endpoint)
            except Exception:  # a link to nothing: its 404 is checked with the rest
                pass
            text = readable(response.get_data(), response.mimetype or "")
            self.leaks += [f"{path}: {what}" for what in self.needles.found_in(text)]
            if response.mimetype == "text/html":
                for url in links_of(text, ORIGIN + path):
                    self.add(local_path(url))
            if 300 <= response.status_code < 400 and "Location" in response.headers:
                self.add(local_path(response.headers["Location"]))


# --- Seeds: the API from its document, and the places contact persons work for ------------


def example_value(parameter: dict[str, Any]) -> str | None:
    example = parameter.get("example", parameter.get("schema", {}).get("example"))
    if example is None:
        enum = parameter.get("schema", {}).get("enum")
        example = enum[0] if enum else None
    return None if example is None else str(example)


def api_paths(document: dict[str, Any], ids: dict[str, list[str]]) -> Iterator[str]:
    """A URL for each GET operation and each real id of its path parameters, with the
    required query parameters set to the document's examples."""
    for template, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        parameters = operation.get("parameters", [])
        query = [
            (parameter["name"], example_value(parameter))
            for parameter in parameters
            if parameter["in"] == "query" and parameter.get("required")
        ]
        assert all(value is not None for _, value in query), f"{template}: no example"
        suffix = f"?{urlencode(query)}" if query else ""
        path_parameters = [p["name"] for p in parameters if p["in"] == "path"]
        if not path_parameters:
            yield template + suffix
            continue
        assert len(path_parameters) == 1, template
        name = path_parameters[0]
        for value in ids[name]:
            yield template.replace("{" + name + "}", value) + suffix


def post_examples(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for template, operations in document["paths"].items():
        operation = operations.get("post")
        if operation and "{" not in template:
            content = operation["requestBody"]["content"]
            yield template, next(iter(content.values()))["example"]


@pytest.fixture
def needles(demo_session: Session) -> Needles:
    """Every contact person of the demo data (the seeds' file is loaded: checked here)."""
    contacts = demo_session.execute(
        select(ContactPerson.name, ContactPerson.email, ContactPerson.phone)
    ).all()
    with (SEEDS_DIR / "contact_persons.csv").open(encoding="utf-8") as handle:
        seeded = list(csv.DictReader(handle))
    assert len(contacts) == len(seeded) > 20
    assert {name for name, _, _ in contacts} == {row["name"] for row in seeded}
    return Needles.of(contacts)


def test_the_detector_finds_what_it_looks_for(needles: Needles) -> None:
    """Not a vacuous check: the seeds' file, escaped as a page or an API would, is caught."""
    seeded = (SEEDS_DIR / "contact_persons.csv").read_text(encoding="utf-8")
    assert len(needles.found_in(seeded)) == len(needles.texts) + len(needles.phones)
    page = readable(html.escape("<p>Dionne Flowers</p>").encode(), "text/html")
    assert needles.found_in(page) == ["the name 'Dionne Flowers'"]
    api = readable(json.dumps({"name": "JOSÉ"}).encode(), "application/json")
    assert fold("José") in fold(api)
    assert needles.found_in("call +1 (555) 0100 now") == ["the phone of Dionne Flowers"]
    assert needles.found_in("lat 15.550100, lon 1.0") == []


def test_no_public_response_holds_contact_data(
    demo_app: Flask, demo_session: Session, needles: Needles
) -> None:
    client = demo_app.test_client()
    crawl = Crawl(client, demo_app, needles)
    for path in ("/", "/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs"):
        crawl.add(path, pinned=True)

    document = client.get("/api/v1/openapi.json").get_json()
    offices = demo_session.scalars(
        select(Location.id)
        .join(Organization)
        .where(Organization.kind.in_([OrganizationKind.CONSULATE, OrganizationKind.EMBASSY]))
        .where(Location.archived_at.is_(None))
        .order_by(Location.id)
    ).all()
    routes = demo_session.scalars(select(Route.code).order_by(Route.code)).all()
    ids = {"location_id": [str(office) for office in offices[:PER_SHAPE]], "key": routes}
    for path in api_paths(document, ids):
        crawl.add(path, pinned=True)
    for path, body in post_examples(document):
        crawl.add_post(path, body)
    # The public pages, exports and offline maps of the organizations and offices that
    # contact persons work for: where a leak would be likeliest.
    employers = demo_session.scalars(
        select(Location.id)
        .join(ContactPerson, ContactPerson.organization_id == Location.organization_id)
        .distinct()
    ).all()
    assert employers, "the demo data has contact persons who work for listed organizations"
    for location_id in employers:
        crawl.add(f"/places/{location_id}", pinned=True)
    for office in offices[:2]:
        for suffix in ("", "/partners.csv", "/partners.geojson", "/district-map.html"):
            crawl.add(f"/consulates/{office}{suffix}", pinned=True)
    # The HSDS 3.0 API and the directory's downloads (issue 13), with the records of the
    # contact persons' employers by their HSDS ids.
    for path in ("/", "/services", "/service_at_locations", "/organizations", "/taxonomies",
                 "/taxonomy_terms", "/export.json"):  # fmt: skip
        crawl.add(f"/hsds/v3{path}", pinned=True)
    for location_id in employers[:PER_SHAPE]:
        location = demo_session.get(Location, location_id)
        crawl.add(f"/hsds/v3/services/{hsds_ids.service_id(location_id)}", pinned=True)
        crawl.add(
            f"/hsds/v3/service_at_locations/{hsds_ids.service_at_location_id(location_id)}",
            pinned=True,
        )
        crawl.add(
            f"/hsds/v3/organizations/{hsds_ids.organization_id(location.organization_id)}",
            pinned=True,
        )
    crawl.add(f"/hsds/v3/taxonomies/{hsds_ids.taxonomy_id(hsds_ids.TAXONOMY_CATEGORIES)}")
    crawl.add(
        "/hsds/v3/taxonomy_terms/"
        + hsds_ids.taxonomy_term_id(hsds_ids.TAXONOMY_CATEGORIES, "shelter")
    )
    for path in ("/downloads/directory.geojson", "/downloads/directory.csv"):
        crawl.add(path, pinned=True)

    crawl.run()

    assert not crawl.leaks, "contact data in public responses:\n" + "\n".join(crawl.leaks)
    public_endpoints = {
        rule.endpoint
        for rule in demo_app.url_map.iter_rules()
        if rule.endpoint not in NOT_PUBLIC_CONTENT
        and not rule.endpoint.startswith("workspace.")
        and rule.methods
        and ({"GET", "POST"} & rule.methods)
    }
    assert public_endpoints - crawl.endpoints == set(), "public endpoints the crawl missed"
    assert 150 <= len(crawl.fetched) <= MAX_URLS
    failures = {path: status for path, status in crawl.fetched.items() if status >= 500}
    assert not failures
    ok = sum(1 for status in crawl.fetched.values() if status == 200)
    assert ok >= 0.8 * len(crawl.fetched), crawl.fetched
