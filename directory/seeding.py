"""Loading the demo data from ``seeds/`` (``flask seed demo``).

The load is idempotent: every record has a natural key (a country code, a network code, an
organization slug, a location's external id…) and a record whose key already exists is left
as it is, except that a language its names, description or notes lack is added from the
seeds (nothing recorded is overwritten), so a second run adds nothing. The caller commits
once at the end, so a bad row leaves the database untouched (``SeedError`` names the file
and line).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, MultiPolygon, Polygon, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.accounts.models import ContactPerson, ContactRole
from directory.corridors.models import Barrier, Route
from directory.db import CONSULAR_KINDS, Cost, OrganizationKind, Population, PositionPrecision
from directory.io.csv_files import (
    csv_rows,
    locale_columns,
    original_language,
    read_flag,
    slugify,
    split_list,
)
from directory.io.loading import LoadError, Progress, no_progress
from directory.places import opening_hours
from directory.places.models import Country, Location, Network, Organization, ServiceCategory
from directory.places.placement import PlacementError, check_placement
from geo.coordinates import CoordinateError, LonLat
from geo.polygons import valid_multipolygon

DEMO_SOURCE = "demo data"


class SeedError(LoadError):
    """A seed file that cannot be loaded; the message names the file and row."""


@dataclass
class SeedReport:
    """How many records of each kind the load added (0 everywhere on a second run)."""

    added: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        if not any(self.added.values()):
            return "nothing new: it was loaded already"
        return ", ".join(f"{count} {name}" for name, count in self.added.items() if count)


class DemoSeeder:
    """Loads each seed file in dependency order into one session."""

    def __init__(self, session: Session, seeds_dir: Path, progress: Progress[Any]) -> None:
        self.session = session
        self.seeds_dir = seeds_dir
        self.progress = progress
        self.report = SeedReport()

    def run(self) -> SeedReport:
        self.reference()
        self.organizations()
        self.session.flush()
        self.locations()
        self.routes()
        self.barriers()
        self.contact_persons()
        self.session.flush()
        return self.report

    def reference(self) -> SeedReport:
        """The vocabulary every record refers to: countries (with their outlines),
        networks and service categories. An import needs them; the demo records do not."""
        self.countries()
        self.networks()
        self.service_categories()
        self.session.flush()
        return self.report

    def _path(self, name: str) -> Path:
        path = self.seeds_dir / name
        if not path.is_file():
            raise SeedError(f"{path}: seed file is missing")
        return path

    def _add(self, kind: str, record: object) -> None:
        self.session.add(record)
        self.report.added[kind] += 1

    def _existing(self, column: Any) -> set[Any]:
        return set(self.session.scalars(select(column)))

    def _by_key(self, model: Any, key: str) -> dict[Any, Any]:
        return {getattr(record, key): record for record in self.session.scalars(select(model))}

    def _complete(self, record: Any, attribute: str, texts: dict[str, str]) -> None:
        """Add to an existing record the languages of ``texts`` it lacks (a database seeded
        before they were written); what it holds already is left as it is."""
        held = getattr(record, attribute) or {}
        missing = {language: text for language, text in texts.items() if not held.get(language)}
        if missing:
            setattr(record, attribute, {**held, **missing})
            self.report.added["translations"] += len(missing)

    def _complete_original(self, record: Any, attribute: str, language: str | None) -> None:
        if language and getattr(record, attribute) is None:
            setattr(record, attribute, language)

    def countries(self) -> None:
        path = self._path("countries.geojson")
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        members = {row["code"] for _, row in csv_rows(self._path("rcm_members.csv"))}
        existing = self._by_key(Country, "code")
        for feature in self.progress(features, "countries"):
            props = feature["properties"]
            names = {
                locale: props[f"name_{locale}"]
                for locale in ("en", "es", "fr", "ht")
                if props.get(f"name_{locale}")
            }
            if props["code"] in existing:
                self._complete(existing[props["code"]], "names", names)
                continue
            self._add(
                "countries",
                Country(
                    code=props["code"],
                    names=names,
                    emergency_number=props.get("emergency_number"),
                    is_rcm_member=props["code"] in members,
                    boundary=self._valid_boundary(path, props["code"], feature["geometry"]),
                ),
            )
        self.session.flush()

    def _valid_boundary(self, path: Path, code: str, geometry: Any) -> WKBElement:
        """A country's (Multi)Polygon made valid by PostGIS, as it is stored and as the
        migration 0013 repaired the outlines already loaded (``valid_multipolygon``): an
        outline from another source than ours may cross itself, and an invalid boundary
        makes ``ST_Covers`` (which country a place is in) and the districts cut from it
        undefined. What has no area once made valid is refused."""
        boundary = shape(geometry)
        if not isinstance(boundary, Polygon | MultiPolygon) or boundary.is_empty:
            raise SeedError(f"{path}: {code} is not a Polygon or MultiPolygon")
        given = func.ST_GeomFromWKB(boundary.wkb, 4326)
        valid = self.session.scalar(select(valid_multipolygon(given)))
        if valid is None or to_shape(valid).is_empty:
            raise SeedError(f"{path}: {code} has no area once made valid")
        return valid

    def networks(self) -> None:
        path = self._path("networks.csv")
        existing = self._by_key(Network, "code")
        for line, row in csv_rows(path):
            names = locale_columns(row, "name_")
            descriptions = locale_columns(row, "description_")
            try:
                language = original_language(row, "description_", descriptions)
            except ValueError as error:
                raise SeedError(f"{path.name}:{line}: {error}") from None
            if network := existing.get(row["code"]):
                self._complete(network, "names", names)
                self._complete(network, "descriptions", descriptions)
                self._complete_original(network, "description_language", language)
                continue
            self._add(
                "networks",
                Network(
                    code=row["code"],
                    names=names,
                    descriptions=descriptions,
                    description_language=language,
                    website=row["website"] or None,
                ),
            )

    def service_categories(self) -> None:
        existing = self._existing(ServiceCategory.code)
        for position, (_, row) in enumerate(csv_rows(self._path("service_categories.csv"))):
            if row["code"] in existing:
                continue
            self._add(
                "service categories",
                ServiceCategory(
                    code=row["code"],
                    icon=row["icon"],
                    names=locale_columns(row, "name_"),
                    position=position,
                ),
            )

    def organizations(self) -> None:
        path = self._path("organizations.csv")
        networks = {network.code: network for network in self.session.scalars(select(Network))}
        countries = {country.code: country for country in self.session.scalars(select(Country))}
        existing = self._by_key(Organization, "slug")
        for line, row in csv_rows(path):
            where = f"{path.name}:{line}"
            descriptions = locale_columns(row, "description_")
            try:
                language = original_language(row, "description_", descriptions)
            except ValueError as error:
                raise SeedError(f"{where}: {error}") from None
            if organization := existing.get(row["key"]):
                self._complete(organization, "descriptions", descriptions)
                self._complete_original(organization, "description_language", language)
                continue
            try:
                kind = OrganizationKind(row["kind"])
                members = [networks[code] for code in split_list(row["networks"])]
            except (ValueError, KeyError) as error:
                raise SeedError(f"{where}: unknown kind or network: {error}") from None
            also_serves = split_list(row.get("also_serves", ""))
            if also_serves and kind not in CONSULAR_KINDS:
                raise SeedError(f"{where}: also_serves is only for consulates and embassies")
            if unknown := [code for code in also_serves if code not in countries]:
                raise SeedError(f"{where}: also_serves names unknown country {unknown[0]!r}")
            organization = Organization(
                slug=row["key"],
                name=row["name"],
                kind=kind,
                sending_country_code=row["sending_country"] or None,
                website=row["website"] or None,
                descriptions=descriptions,
                description_language=language,
                networks=members,
                also_serves=[countries[code] for code in also_serves],
            )
            existing[row["key"]] = organization
            self._add("organizations", organization)

    def locations(self) -> None:
        path = self._path("locations.csv")
        organizations = {org.slug: org for org in self.session.scalars(select(Organization))}
        categories = {cat.code: cat for cat in self.session.scalars(select(ServiceCategory))}
        existing = self._by_key(Location, "external_id")
        first_line: dict[str, int] = {}
        rows = list(csv_rows(path))
        for line, row in self.progress(rows, "locations"):
            where = f"{path.name}:{line}"
            external_id = self._location_key(row)
            if external_id in first_line:
                raise SeedError(
                    f"{where}: same organization, city and site name as line "
                    f"{first_line[external_id]}; give the site a distinct site_name"
                )
            first_line[external_id] = line
            notes = locale_columns(row, "notes_")
            try:
                notes_language = original_language(row, "notes_", notes)
            except ValueError as error:
                raise SeedError(f"{where}: {error}") from None
            if location := existing.get(external_id):
                self._complete(location, "notes", notes)
                self._complete_original(location, "notes_language", notes_language)
                continue
            try:
                position = LonLat.parse(row["lon"], row["lat"])
                check_placement(self.session, position, row["country_code"])
                location = Location(
                    external_id=external_id,
                    organization=organizations[row["org_key"]],
                    name=row["site_name"] or None,
                    address=row["address"] or None,
                    city=row["city"],
                    admin_area=row["admin_area"] or None,
                    country_code=row["country_code"],
                    point=position.to_wkt_element(),
                    # A point is city-level unless the file says it is more exact.
                    position_precision=PositionPrecision(
                        row.get("position_precision") or PositionPrecision.CITY
                    ),
                    categories=[categories[code] for code in split_list(row["categories"])],
                    populations=[Population(code).value for code in split_list(row["populations"])],
                    languages=split_list(row["languages"]),
                    cost=Cost(row["cost"]) if row["cost"] else None,
                    opening_hours=opening_hours.parse(row["opening_hours"]),
                    hours_confirmed=read_flag(row.get("hours_confirmed", "")),
                    intake_hours=opening_hours.parse(row.get("intake_hours", "")),
                    capacity=int(row["capacity"]) if row["capacity"] else None,
                    phones=split_list(row["phone"]),
                    whatsapp=row["whatsapp"] or None,
                    email=row["email"] or None,
                    verified_at=None,
                    source=DEMO_SOURCE,
                    notes=notes,
                    notes_language=notes_language,
                )
            except KeyError as error:
                raise SeedError(f"{where}: unknown organization or category {error}") from None
            except (CoordinateError, PlacementError, opening_hours.OpeningHoursError) as error:
                raise SeedError(f"{where}: {error}") from None
            except ValueError as error:
                raise SeedError(f"{where}: {error}") from None
            self._add("locations", location)

    @staticmethod
    def _location_key(row: dict[str, str]) -> str:
        parts = [row["org_key"], slugify(row["city"])]
        if row["site_name"]:
            parts.append(slugify(row["site_name"]))
        return "demo:" + ":".join(parts)

    def barriers(self) -> None:
        """Areas no road crosses (the Darién Gap), with a warning in each language."""
        path = self._path("barriers.geojson")
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        existing = self._by_key(Barrier, "code")
        for feature in features:
            props = feature["properties"]
            if barrier := existing.get(props["code"]):
                self._complete(barrier, "names", locale_columns(props, "name_"))
                self._complete(barrier, "notes", locale_columns(props, "note_"))
                continue
            area = shape(feature["geometry"])
            if not isinstance(area, MultiPolygon) or not area.is_valid:
                raise SeedError(f"{path.name}: barrier {props['code']} is not a valid MultiPolygon")
            notes = locale_columns(props, "note_")
            if not notes:
                raise SeedError(f"{path.name}: barrier {props['code']} has no note_* warning")
            self._add(
                "barriers",
                Barrier(
                    code=props["code"],
                    names=locale_columns(props, "name_"),
                    notes=notes,
                    area=from_shape(area, srid=4326),
                ),
            )

    def routes(self) -> None:
        path = self._path("routes.geojson")
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        existing = self._by_key(Route, "code")
        for feature in features:
            props = feature["properties"]
            if route := existing.get(props["code"]):
                self._complete(route, "names", locale_columns(props, "name_"))
                continue
            line = shape(feature["geometry"])
            if not isinstance(line, LineString) or len(line.coords) < 2 or not line.is_valid:
                raise SeedError(f"{path.name}: route {props['code']} is not a valid LineString")
            for lon, lat in line.coords:
                LonLat.parse(lon, lat)
            self._add(
                "routes",
                Route(
                    code=props["code"],
                    names=locale_columns(props, "name_"),
                    path=from_shape(line, srid=4326),
                    country_codes=list(props["countries"]),
                ),
            )

    def contact_persons(self) -> None:
        path = self._path("contact_persons.csv")
        networks = {network.code: network for network in self.session.scalars(select(Network))}
        organizations = {org.slug: org for org in self.session.scalars(select(Organization))}
        existing = self._existing(ContactPerson.external_id)
        for line, row in csv_rows(path):
            external_id = ":".join(
                ["demo", row["country_code"], row["network"], row["role"], slugify(row["name"])]
            )
            if external_id in existing:
                continue
            existing.add(external_id)
            try:
                contact = ContactPerson(
                    external_id=external_id,
                    country_code=row["country_code"],
                    network=networks[row["network"]],
                    organization=organizations[row["organization_key"]]
                    if row["organization_key"]
                    else None,
                    name=row["name"],
                    position=row["position"] or None,
                    email=row["email"] or None,
                    phone=row["phone"] or None,
                    languages=split_list(row["languages"]),
                    role=ContactRole(row["role"]),
                    valid_from=dt.date.fromisoformat(row["valid_from"]),
                    last_confirmed_at=dt.date.fromisoformat(row["last_confirmed_at"])
                    if row["last_confirmed_at"]
                    else None,
                    last_confirmed_by=row["last_confirmed_by"] or None,
                )
            except (KeyError, ValueError) as error:
                raise SeedError(f"{path.name}:{line}: {error!r}") from None
            self._add("contact persons", contact)


def load_demo(
    session: Session, seeds_dir: Path, progress: Progress[Any] = no_progress
) -> SeedReport:
    """Add whatever demo records are missing. The caller commits (or rolls back)."""
    return DemoSeeder(session, seeds_dir, progress).run()


def load_reference(
    session: Session, seeds_dir: Path, progress: Progress[Any] = no_progress
) -> SeedReport:
    """Add whatever countries, networks and service categories are missing (what an empty
    database needs before it can import a file). The caller commits (or rolls back)."""
    return DemoSeeder(session, seeds_dir, progress).reference()
