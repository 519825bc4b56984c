"""Synthetic places at scale, for benchmarks (issue 14, point 1): ``flask seed synthetic``.

The directory must stay fast at a million locations; the demo has 543. These places are
made to look like the real ones where it matters to the database: clustered around the
region's 1,754 gazetteer towns (a town is picked with weight population^0.8; 80 % of its
places fall in the town, a Gaussian of σ = 1.5 + 6·√(population / 10⁶) km, 20 % in its
hinterland, σ = 25 km), on land inside the town's country (a point at sea is drawn again,
and after three misses the town's own point is used), with about three categories each,
weekly hours (some confirmed), languages, populations, statuses with an expiry, phones and
verification dates, for 2,000 synthetic organizations.

Everything synthetic carries ``source = 'synthetic'`` (and ``synthetic:`` external ids), so
``--clear`` removes exactly it. Rows go in by ``COPY`` in chunks (ids reserved from the
sequences first, so the categories' rows can be written alongside); a million take a few
minutes on two cores. The same ``seed`` gives the same places.
"""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.timezones import timezone_at

SOURCE = "synthetic"
ORGANIZATIONS = 2_000
CHUNK = 20_000
# The region the towns come from: from Colombia and Venezuela to the US border.
REGION = (-118.0, 7.0, -74.0, 33.0)

_KINDS = (("shelter", 30), ("civil_society", 35), ("international_org", 10), ("government", 25))
_PRECISIONS = (("exact", 30), ("street", 40), ("city", 30))
_STATUSES = (("open", 85), ("full", 10), ("temporarily_closed", 5))
_HOURS: tuple[tuple[dict[str, Any] | None, int], ...] = (
    ({day: [["08:00", "16:00"]] for day in ("mo", "tu", "we", "th", "fr")}, 40),
    ({day: [["09:00", "14:00"]] for day in ("mo", "tu", "we", "th", "fr", "sa")}, 20),
    ({day: [["08:00", "12:00"], ["14:00", "18:00"]] for day in ("mo", "we", "fr")}, 10),
    ({"always": True}, 10),
    (None, 20),
)
_POPULATIONS = ("women", "children", "unaccompanied_minors", "families", "lgbtiq")
_LANGUAGES = (("{es}", 60), ("{es,en}", 25), ("{es,fr,ht}", 5), ("{en}", 10))
_COSTS = (("free", 80), ("low_cost", 10), ("fee", 5), (None, 5))

Progress = Callable[[Iterable[Any], str], Iterable[Any]]


@dataclass(frozen=True, slots=True)
class SyntheticReport:
    organizations: int
    locations: int
    category_links: int

    def summary(self) -> str:
        return (
            f"{self.locations:,} synthetic locations of {self.organizations:,} organizations "
            f"({self.category_links:,} category links)"
        )


@dataclass(frozen=True, slots=True)
class _Town:
    name: str
    admin_area: str | None
    country_code: str
    lon: float
    lat: float
    population: int


def _weighted(rng: random.Random, choices: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([value for value, _ in choices], [weight for _, weight in choices])[0]


def _copy_value(value: Any) -> str:
    """A value in COPY's text format (tab-separated, ``\\N`` for NULL)."""
    if value is None:
        return "\\N"
    text_value = str(value)
    return (
        text_value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    raw = session.connection().connection.dbapi_connection
    with raw.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _reserve_ids(session: Session, table: str, count: int) -> int:
    """Reserve ``count`` consecutive ids of ``table``'s sequence; return the first.

    The loading commands hold an advisory lock, and ids are only ever taken from the
    sequence, so moving it past the block keeps every other insert clear of it.
    """
    sequence = session.scalar(text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
    last = session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0
    current = session.scalar(text(f"SELECT last_value FROM {sequence}")) or 0
    first = max(last, current) + 1
    session.execute(
        text("SELECT setval(:sequence, :value)"), {"sequence": sequence, "value": first + count - 1}
    )
    return first


def _towns(session: Session) -> list[_Town]:
    west, south, east, north = REGION
    rows = session.execute(
        text(
            """
            SELECT name, admin_area, country_code, ST_X(point::geometry), ST_Y(point::geometry),
                   population
            FROM towns
            WHERE population > 0
              AND ST_X(point::geometry) BETWEEN :west AND :east
              AND ST_Y(point::geometry) BETWEEN :south AND :north
              AND country_code IN (SELECT code FROM countries)
            ORDER BY id
            """
        ),
        {"west": west, "south": south, "east": east, "north": north},
    ).all()
    return [_Town(*row) for row in rows]


def _boundaries(session: Session, codes: set[str]) -> dict[str, BaseGeometry]:
    rows = session.execute(
        text("SELECT code, ST_AsBinary(boundary) FROM countries WHERE code = ANY(:codes)"),
        {"codes": sorted(codes)},
    ).all()
    boundaries = {}
    for code, boundary in rows:
        geometry = shapely.from_wkb(bytes(boundary))
        shapely.prepare(geometry)
        boundaries[code] = geometry
    return boundaries


def _positions(
    rng: random.Random, towns: list[_Town], boundaries: dict[str, BaseGeometry], count: int
) -> Iterator[tuple[_Town, float, float]]:
    """``count`` (town, lon, lat), on land in the town's country."""
    weights = [town.population**0.8 for town in towns]
    picked = rng.choices(towns, weights, k=count)
    for town in picked:
        urban = rng.random() < 0.8
        sigma_km = 1.5 + 6 * math.sqrt(town.population / 1e6) if urban else 25.0
        for _ in range(3):
            dx, dy = rng.gauss(0, sigma_km), rng.gauss(0, sigma_km)
            lat = town.lat + dy / 110.574
            lon = town.lon + dx / (111.320 * max(math.cos(math.radians(lat)), 0.2))
            if -90 < lat < 90 and shapely.contains_xy(boundaries[town.country_code], lon, lat):
                break
        else:
            lon, lat = town.lon, town.lat
        yield town, lon, lat


_LOCATION_COLUMNS = (
    "id",
    "external_id",
    "organization_id",
    "city",
    "admin_area",
    "country_code",
    "point",
    "position_precision",
    "timezone",
    "phones",
    "whatsapp",
    "opening_hours",
    "hours_confirmed",
    "populations",
    "languages",
    "cost",
    "capacity",
    "status",
    "status_until",
    "verified_at",
    "source",
    "notes",
    "version",
)


def add_synthetic(
    session: Session,
    count: int,
    *,
    seed: int = 1,
    progress: Progress = lambda items, label: items,
) -> SyntheticReport:
    """Add ``count`` synthetic locations (and, the first time, the synthetic organizations).

    The caller holds the loading lock and commits; nothing is committed here.
    """
    rng = random.Random(seed)
    towns = _towns(session)
    if not towns:
        raise ValueError("no gazetteer towns in the region: run `flask gazetteer load` first")
    categories = list(session.scalars(text("SELECT id FROM service_categories ORDER BY id")))
    organizations = _synthetic_organizations(session, rng)
    boundaries = _boundaries(session, {town.country_code for town in towns})
    first_id = _reserve_ids(session, "locations", count)
    offset = session.scalar(
        text("SELECT count(*) FROM locations WHERE source = :source"), {"source": SOURCE}
    )
    positions = _positions(rng, towns, boundaries, count)
    links = 0
    chunks = range(0, count, CHUNK)
    for start in progress(chunks, "locations"):
        size = min(CHUNK, count - start)
        location_rows: list[tuple] = []
        category_rows: list[tuple] = []
        for index in range(size):
            town, lon, lat = next(positions)
            location_id = first_id + start + index
            location_rows.append(
                _location_row(
                    rng, location_id, offset + start + index, organizations, town, lon, lat
                )
            )
            for category in rng.sample(categories, k=min(len(categories), rng.randint(1, 5))):
                category_rows.append((location_id, category))
        _copy(session, "locations", _LOCATION_COLUMNS, location_rows)
        _copy(session, "location_categories", ("location_id", "category_id"), category_rows)
        links += len(category_rows)
    session.execute(text("ANALYZE locations"))
    session.execute(text("ANALYZE location_categories"))
    return SyntheticReport(len(organizations), count, links)


def _location_row(
    rng: random.Random,
    location_id: int,
    number: int,
    organizations: list[int],
    town: _Town,
    lon: float,
    lat: float,
) -> tuple:
    hours = _weighted(rng, _HOURS)
    status = _weighted(rng, _STATUSES)
    until = None
    if status != "open":
        until = f"2027-0{rng.randint(1, 9)}-{rng.randint(10, 28)} 18:00:00+00"
    populations = rng.sample(_POPULATIONS, k=rng.choice((0, 0, 0, 1, 2)))
    phone = f"+{rng.randint(1, 599)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    verified = None
    if rng.random() < 0.6:
        verified = f"202{rng.randint(3, 6)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return (
        location_id,
        f"{SOURCE}:{number}",
        rng.choice(organizations),
        town.name,
        town.admin_area,
        town.country_code,
        f"SRID=4326;POINT({lon:.6f} {lat:.6f})",
        _weighted(rng, _PRECISIONS),
        timezone_at(lon, lat),
        "{" + f'"{phone}"' + "}" if rng.random() < 0.8 else "{}",
        phone if rng.random() < 0.3 else None,
        json.dumps(hours) if hours is not None else None,
        "true" if hours is not None and rng.random() < 0.4 else "false",
        "{" + ",".join(populations) + "}",
        _weighted(rng, _LANGUAGES),
        _weighted(rng, _COSTS),
        rng.randint(10, 300) if rng.random() < 0.3 else None,
        status,
        until,
        verified,
        SOURCE,
        "{}",
        1,
    )


def _synthetic_organizations(session: Session, rng: random.Random) -> list[int]:
    """The synthetic organizations' ids, made once (a second run reuses them)."""
    existing = list(
        session.scalars(
            text("SELECT id FROM organizations WHERE source = :source ORDER BY id"),
            {"source": SOURCE},
        )
    )
    if existing:
        return existing
    first = _reserve_ids(session, "organizations", ORGANIZATIONS)
    rows = []
    for number in range(ORGANIZATIONS):
        kind = _weighted(rng, _KINDS)
        rows.append(
            (
                first + number,
                f"synthetic-organization-{number + 1}",
                f"Synthetic organization {number + 1}",
                kind,
                "{}",
                SOURCE,
                f"{SOURCE}:organization:{number + 1}",
                1,
            )
        )
    _copy(
        session,
        "organizations",
        ("id", "slug", "name", "kind", "descriptions", "source", "external_id", "version"),
        rows,
    )
    return [row[0] for row in rows]


def clear_synthetic(session: Session) -> SyntheticReport:
    """Remove every synthetic location and organization (benchmark data, not records: they
    are deleted, not archived). The caller commits."""
    links = session.execute(
        text(
            "DELETE FROM location_categories WHERE location_id IN "
            "(SELECT id FROM locations WHERE source = :source)"
        ),
        {"source": SOURCE},
    ).rowcount
    locations = session.execute(
        text("DELETE FROM locations WHERE source = :source"), {"source": SOURCE}
    ).rowcount
    organizations = session.execute(
        text(
            "DELETE FROM organizations o WHERE source = :source "
            "AND NOT EXISTS (SELECT 1 FROM locations l WHERE l.organization_id = o.id)"
        ),
        {"source": SOURCE},
    ).rowcount
    session.execute(text("ANALYZE locations"))
    return SyntheticReport(organizations, locations, links)
