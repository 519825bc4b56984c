"""Likely duplicates (issue 13, point 5): two places of the same kind of organization, with
similar names, within 200 m of each other.

Two feeds that describe the same shelter (a network's list and an HSDS import, say) give
two records; the report puts each such pair side by side, with where each came from, for
the secretariat to decide: keep one and archive the other (``merge``), or leave both (two
organizations may share a building).

The pairs come from one set-based query: a spatial self-join on the GiST index
(``ST_DWithin`` on geography, metres on the spheroid), the same organization kind, and
trigram similarity (``pg_trgm``, already used by the gazetteer) of the names shown to the
public, accent- and case-folded and without the words of the place's town, region and
country (which would make every "X Tapachula" like every "Y Tapachula").
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload

from directory.places.editing import SaveResult, archive_location
from directory.places.models import Location

# How close two sites must be (metres) and how alike their names (pg_trgm similarity).
WITHIN_METRES = 200.0
NAME_SIMILARITY = 0.5
MAX_PAIRS = 500

# A place's name as compared: accent- and case-folded, without the words of its town,
# region and country ("OIM Tapachula" and "ACNUR Tapachula" share only the town, and are
# not alike; "Casa del Migrante Guatemala" and "Casa del Migrante de Guatemala" are).
_PAIRS = text(
    r"""
    WITH named AS (
        SELECT l.id, l.point, o.kind, o.sending_country_code,
               (SELECT coalesce(string_agg(word, ' ' ORDER BY n), '')
                  FROM regexp_split_to_table(
                           lower(unaccent(coalesce(l.name, o.name))), '[^a-z0-9]+'
                       ) WITH ORDINALITY AS t(word, n)
                 WHERE word <> ''
                   AND word NOT IN (
                       SELECT regexp_split_to_table(lower(unaccent(concat_ws(' ',
                           l.city, l.admin_area, c.names ->> 'es', c.names ->> 'en'))),
                           '[^a-z0-9]+')
                   )) AS folded
        FROM locations l
        JOIN organizations o ON o.id = l.organization_id
        JOIN countries c ON c.code = l.country_code
        WHERE l.archived_at IS NULL AND o.archived_at IS NULL
          AND (CAST(:country AS text) IS NULL OR l.country_code = :country)
    )
    SELECT a.id AS first_id, b.id AS second_id,
           ST_Distance(a.point, b.point) AS distance_m,
           similarity(a.folded, b.folded) AS name_similarity
    FROM named a
    JOIN named b
      ON a.id < b.id
     AND a.kind = b.kind
     -- Consulates of two countries in one town are two offices, however alike the names.
     AND a.sending_country_code IS NOT DISTINCT FROM b.sending_country_code
     AND ST_DWithin(a.point, b.point, :within)
    WHERE a.folded <> '' AND b.folded <> ''
      AND similarity(a.folded, b.folded) >= :similarity
    ORDER BY name_similarity DESC, distance_m, a.id, b.id
    LIMIT :limit
    """
)


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    first: Location
    second: Location
    distance_m: float
    name_similarity: float


def likely_duplicates(
    session: Session, country_code: str | None = None, limit: int = MAX_PAIRS
) -> list[DuplicatePair]:
    """Pairs of public places that are probably the same place, most alike first."""
    rows = session.execute(
        _PAIRS,
        {
            "country": country_code,
            "within": WITHIN_METRES,
            "similarity": NAME_SIMILARITY,
            "limit": limit,
        },
    ).all()
    ids = {row.first_id for row in rows} | {row.second_id for row in rows}
    loaded = session.scalars(
        select(Location).where(Location.id.in_(ids)).options(joinedload(Location.organization))
    )
    locations = {location.id: location for location in loaded}
    return [
        DuplicatePair(
            first=locations[row.first_id],
            second=locations[row.second_id],
            distance_m=float(row.distance_m),
            name_similarity=float(row.name_similarity),
        )
        for row in rows
    ]


def merge(
    session: Session,
    keep: Location,
    duplicate: Location,
    *,
    duplicate_version: int,
    user_id: int | None,
) -> SaveResult:
    """Keep ``keep`` and archive ``duplicate`` (audited, reversible with a restore).

        Nothing is copied between the two: what the duplicate knew that the kept record lacks
        is for the person to add by an edit, seeing both side by side. A consular office's districts
    are recomputed without the archived one, as for any archive. Raises ``StaleEdit`` if
        the duplicate changed since the report was shown, ``ValueError`` for a record paired
        with itself.
    """
    if keep.id == duplicate.id:
        raise ValueError("a record cannot be merged into itself")
    return archive_location(session, duplicate, duplicate_version, user_id)
