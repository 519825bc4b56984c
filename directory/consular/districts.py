"""Consular districts: the part of a host country each consular office serves, per nationality.

A *group* is one nationality N in one host country H: the active consular locations (kind
consulate or embassy, location and organization not archived) in H whose organization serves
N, as its sending country or through ``also_serves``. A joint office therefore takes part in
one group per nationality it serves and gets one district in each.

Within a group:

* An office with an active *official* district (loaded by a person) keeps it: official wins.
* The other offices split what is left of the host country, ``boundary(H)`` minus the union
  of the group's official areas, by nearest office: the Voronoi cells of their points clipped
  to that remainder (``geo.voronoi``). A sole remaining office gets all of it; when nothing
  is left, they get no district.
* Offices at the very same point share one Voronoi cell: it goes to one of them, preferring a
  consulate over an embassy's consular section, then the lowest location id; the others get
  no computed district (a visitor is sent to the one office that has it).

Every stored area is valid (``ST_IsValid``): computed cells and uploaded districts go through
``geo.polygons.valid_multipolygon`` before they are written.

Computed districts are derived data: recomputing a group deletes its computed rows and inserts
fresh ones. Official districts are edited by people: loading a new one archives the old
official row of that (location, nationality), removes its computed row and recomputes the
group. Official districts of one group that overlap each other are refused, so no two
districts of a group overlap. The caller commits (or rolls back).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import to_shape
from sqlalchemy import (
    ARRAY,
    CompoundSelect,
    Integer,
    Select,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    select,
    text,
    union,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.consular.services import serves
from directory.db import CONSULAR_KINDS, OrganizationKind
from directory.io.geojson_files import read_features
from directory.io.loading import LoadError, Progress, no_progress
from directory.places.models import Country, Location, Organization, organization_nationalities
from geo.geojson import GeometryError, read_geometry
from geo.polygons import valid_multipolygon
from geo.voronoi import voronoi_cells

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
# Share of the smaller area two official districts of a group may have in common (rounding
# along a shared boundary); more is refused, since a person could not tell which one serves.
OFFICIAL_OVERLAP_TOLERANCE = 1e-6
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


class DistrictError(LoadError):
    """An official-districts file that cannot be loaded; the message names the feature."""


@dataclass(frozen=True, slots=True, order=True)
class Group:
    """One nationality in one host country."""

    nationality: str
    host: str


@dataclass
class DistrictReport:
    """What a compute or a load did."""

    groups: int = 0
    computed: int = 0
    official_kept: int = 0
    loaded: int = 0
    replaced: int = 0
    # (location id, nationality) of offices left without any district.
    without_district: list[tuple[int, str]] = field(default_factory=list)

    def add(self, other: DistrictReport) -> None:
        self.groups += other.groups
        self.computed += other.computed
        self.official_kept += other.official_kept
        self.without_district.extend(other.without_district)

    def summary(self) -> str:
        parts = []
        if self.loaded:
            loaded = _count(self.loaded, "official district")
            parts.append(f"{loaded} loaded ({self.replaced} replaced)")
        parts.append(_count(self.groups, "group"))
        parts.append(f"{_count(self.computed, 'district')} computed")
        parts.append(f"{_count(self.official_kept, 'official district')} kept")
        parts.append(f"{_count(len(self.without_district), 'office')} without district")
        return ", ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- computing ---------------------------------------------------------------------------


def _active_consular() -> Select:
    return (
        select(Location.id)
        .join(Location.organization)
        .where(
            Organization.kind.in_(CONSULAR_KINDS),
            Location.archived_at.is_(None),
            Organization.archived_at.is_(None),
        )
    )


def _office_groups(*conditions: Any) -> CompoundSelect:
    """``(location id, nationality, host)`` of the active consular offices (those meeting
    ``conditions``): one row for its sending country, and one per nationality it also
    serves."""
    own = (
        _active_consular()
        .with_only_columns(
            Location.id,
            Organization.sending_country_code.label("nationality"),
            Location.country_code,
        )
        .where(*conditions)
    )
    joint = (
        _active_consular()
        .with_only_columns(
            Location.id,
            organization_nationalities.c.country_code.label("nationality"),
            Location.country_code,
        )
        .join(
            organization_nationalities,
            organization_nationalities.c.organization_id == Organization.id,
        )
        .where(*conditions)
    )
    return union(own, joint)


def groups(session: Session) -> list[Group]:
    """Every (nationality, host) that has at least one active consular office."""
    rows = session.execute(_office_groups()).all()
    return sorted({Group(nationality, host) for _id, nationality, host in rows})


def _group_offices(group: Group) -> Select:
    """The ids of the group's active offices."""
    return _active_consular().where(Location.country_code == group.host, serves(group.nationality))


def _official_areas(group: Group) -> Select:
    return select(ConsularDistrict.location_id, ConsularDistrict.area).where(
        ConsularDistrict.nationality_code == group.nationality,
        ConsularDistrict.origin == DistrictOrigin.OFFICIAL,
        ConsularDistrict.archived_at.is_(None),
        ConsularDistrict.location_id.in_(_group_offices(group)),
    )


def _delete_computed(session: Session, nationality: str, location_ids: Select) -> None:
    session.execute(
        delete(ConsularDistrict)
        .where(
            ConsularDistrict.origin == DistrictOrigin.COMPUTED,
            ConsularDistrict.nationality_code == nationality,
            ConsularDistrict.location_id.in_(location_ids),
        )
        .execution_options(synchronize_session="fetch")
    )


@contextmanager
def _without_jit(session: Session) -> Iterator[None]:
    """Run the block with PostgreSQL's JIT compiler off (for this transaction only).

    PostGIS declares its functions expensive, so the planner's estimate for the Voronoi
    query passes ``jit_above_cost`` and LLVM spends one to five seconds compiling a query
    that then runs in 50 ms over a few dozen rows. The setting is restored afterwards; if
    the block fails, the rollback that follows restores it anyway (``SET LOCAL``).
    """
    previous = session.scalar(text("SELECT current_setting('jit')"))
    session.execute(text("SET LOCAL jit = off"))
    yield
    session.execute(select(func.set_config("jit", previous, True)))


def groups_of_offices(session: Session, moved: Mapping[int, Iterable[str]]) -> list[Group]:
    """The groups that a bulk change (an import) must recompute: for each active consular
    office among ``moved`` (location id → the host countries it was in before; empty for a
    new office), every nationality it serves, in its host country and in the former ones.
    Ids of other places are ignored, so the caller need not know which rows are offices."""
    if not moved:
        return []
    ids = bindparam("office_ids", list(moved), type_=ARRAY(Integer))
    found = {
        Group(nationality, host)
        for location_id, nationality, current in session.execute(
            _office_groups(Location.id == any_(ids))
        )
        for host in {current, *moved[location_id]}
    }
    return sorted(found)


def recompute_groups(
    session: Session, groups_: Iterable[Group], progress: Progress[Any] = no_progress
) -> DistrictReport:
    """Recompute each of ``groups_`` (official districts kept, as always)."""
    report = DistrictReport()
    with _without_jit(session):
        for group in progress(groups_, "groups"):
            report.add(_recompute_group(session, group))
    return report


def recompute_group(session: Session, nationality: str, host_code: str) -> DistrictReport:
    """Replace the computed districts of ``nationality``'s offices in ``host_code``."""
    with _without_jit(session):
        return _recompute_group(session, Group(nationality, host_code))


def _recompute_group(session: Session, group: Group) -> DistrictReport:
    nationality, host_code = group.nationality, group.host
    session.flush()
    in_host = select(Location.id).where(Location.country_code == host_code)
    _delete_computed(session, nationality, in_host)

    offices = set(session.scalars(_group_offices(group)))
    official = _official_areas(group).subquery()
    kept = set(session.scalars(select(official.c.location_id)))
    remainder = (
        select(
            func.coalesce(
                func.ST_Difference(
                    Country.boundary, select(func.ST_Union(official.c.area)).scalar_subquery()
                ),
                Country.boundary,
            )
        )
        .where(Country.code == host_code)
        .scalar_subquery()
    )
    # Lower rank wins a cell shared by offices at one point: consulates, then lowest id.
    rank = case((Organization.kind == OrganizationKind.CONSULATE, 0), else_=1)
    points = (
        _group_offices(group)
        .with_only_columns(
            Location.id.label("id"),
            func.geometry(Location.point).label("geom"),
            rank.label("rank"),
        )
        .where(Location.id.not_in(kept))
        .subquery()
    )
    remaining = sorted(offices - kept)
    if len(remaining) == 1:
        # A sole office gets the whole remainder: no Voronoi, no projection round trip.
        whole = valid_multipolygon(remainder)
        query = select(literal(remaining[0]), whole).where(func.ST_IsEmpty(whole).is_(False))
        cells = session.execute(query).all()
    elif remaining:
        cells = session.execute(_valid_cells(voronoi_cells(points, remainder))).all()
    else:
        cells = []
    source = f"computed: nearest of the {nationality} offices in {host_code}"
    for location_id, area in cells:
        session.add(
            ConsularDistrict(
                location_id=location_id,
                nationality_code=nationality,
                origin=DistrictOrigin.COMPUTED,
                area=area,
                source=source,
            )
        )
    session.flush()
    served = kept | {location_id for location_id, _ in cells}
    return DistrictReport(
        groups=1,
        computed=len(cells),
        official_kept=len(kept),
        without_district=[(office, nationality) for office in sorted(offices - served)],
    )


def _valid_cells(cells: Select) -> Select:
    """``(id, area)`` rows of ``cells`` with each area made valid (``valid_multipolygon``).

    Projected back from the azimuthal projection to degrees, a cell's vertices move, and a
    sliver along a narrow inlet can fold onto itself. Stored invalid, every spatial
    predicate on it (``ST_Covers`` of the office finder) would be undefined."""
    computed = cells.subquery("computed_cells")
    area = valid_multipolygon(computed.c.area)
    return select(computed.c.id, area).where(func.ST_IsEmpty(area).is_(False))


def compute_districts(session: Session, progress: Progress[Any] = no_progress) -> DistrictReport:
    """Recompute every computed district; official districts are kept as they are.

    Computed rows of groups that no longer have an active office (or of offices that were
    archived or no longer serve a nationality) are deleted too.
    """
    session.flush()
    session.execute(
        delete(ConsularDistrict)
        .where(ConsularDistrict.origin == DistrictOrigin.COMPUTED)
        .execution_options(synchronize_session="fetch")
    )
    return recompute_groups(session, groups(session), progress)


# --- loading official districts ----------------------------------------------------------


@dataclass
class _Official:
    """One checked feature, ready to be written."""

    number: int
    location: Location
    nationality: str
    area: WKBElement
    source: str


class _OfficialLoader:
    def __init__(self, session: Session, path: Path) -> None:
        self.session = session
        self.path = path

    def location(self, properties: dict[str, Any]) -> Location:
        location_id = properties.get("location_id")
        external_id = properties.get("external_id")
        if location_id is None and external_id is None:
            raise ValueError("give the office's location_id or external_id")
        location = None
        if location_id is not None:
            if not isinstance(location_id, int) or isinstance(location_id, bool):
                raise ValueError(f"location_id must be an integer, not {location_id!r}")
            location = self.session.get(Location, location_id)
            if location is None:
                raise ValueError(f"no location with id {location_id}")
        if external_id is not None:
            if not isinstance(external_id, str):
                raise ValueError(f"external_id must be a string, not {external_id!r}")
            by_external = self.session.scalar(
                select(Location).where(Location.external_id == external_id)
            )
            if by_external is None:
                raise ValueError(f"no location with external_id {external_id!r}")
            if location is not None and location.id != by_external.id:
                raise ValueError("location_id and external_id name different locations")
            location = by_external
        assert location is not None
        return location

    def check(self, number: int, feature: object) -> _Official:
        where = f"feature {number}"
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValueError("must be a GeoJSON Feature")
            properties = feature.get("properties")
            if not isinstance(properties, dict):
                raise ValueError("properties are missing")
            location = self.location(properties)
            where = f"feature {number} (location {location.id})"
            organization = location.organization
            if organization.kind not in CONSULAR_KINDS:
                raise ValueError(f"is a {organization.kind.value}, not a consular office")
            if location.is_archived or organization.is_archived:
                raise ValueError("the office is archived")
            nationality = properties.get("nationality", organization.sending_country_code)
            if not isinstance(nationality, str) or not _COUNTRY_CODE.match(nationality):
                raise ValueError(f"nationality must be an ISO alpha-2 code, not {nationality!r}")
            if nationality not in organization.nationalities:
                served = ", ".join(organization.nationalities)
                raise ValueError(f"the office serves {served}, not nationality {nationality}")
            source = properties.get("source", f"official: {self.path.name}")
            if not isinstance(source, str) or not source.strip():
                raise ValueError("source must be a non-empty text")
            geometry = read_geometry(feature.get("geometry"), GEOMETRY_TYPES)
            area = self.valid_area(geometry, location.country_code)
        except GeometryError as error:
            raise DistrictError(f"{where}: {error.message}") from None
        except ValueError as error:
            raise DistrictError(f"{where}: {error}") from None
        return _Official(number, location, nationality, area, source.strip())

    def valid_area(self, geometry: dict[str, Any], host: str) -> WKBElement:
        """The polygon made valid by PostGIS; ``ValueError`` with the reason if it cannot be."""
        document = json.dumps({"type": geometry["type"], "coordinates": geometry["coordinates"]})
        # 2D: a position may carry an altitude, which the column does not hold.
        given = func.ST_SetSRID(func.ST_Force2D(func.ST_GeomFromGeoJSON(document)), 4326)
        shape = select(given.label("geom")).cte("given")
        fixed = valid_multipolygon(shape.c.geom)
        checked = select(
            fixed.label("area"),
            func.ST_IsValidReason(shape.c.geom).label("reason"),
        ).cte("checked")
        query = select(
            checked.c.area,
            checked.c.reason,
            func.ST_Area(checked.c.area).label("size"),
            select(func.ST_Intersects(Country.boundary, checked.c.area))
            .where(Country.code == host)
            .scalar_subquery()
            .label("in_host"),
        )
        try:
            with self.session.begin_nested():
                area, reason, size, in_host = self.session.execute(query).one()
        except DBAPIError as error:
            raise ValueError(f"PostGIS cannot read the geometry: {error.orig}") from None
        if not size:
            raise ValueError(f"the polygon has no area once made valid ({reason})")
        if not in_host:
            raise ValueError(f"the polygon lies outside {host}, the office's country")
        return area

    def write(self, official: _Official) -> int:
        """Archive the (location, nationality)'s official row, drop its computed one, add."""
        location_id = official.location.id
        current = self.session.scalars(
            select(ConsularDistrict).where(
                ConsularDistrict.location_id == location_id,
                ConsularDistrict.nationality_code == official.nationality,
                ConsularDistrict.archived_at.is_(None),
            )
        ).all()
        replaced = 0
        for district in current:
            if district.origin == DistrictOrigin.OFFICIAL:
                district.archived_at = dt.datetime.now(dt.UTC)
                replaced += 1
            else:
                self.session.delete(district)
        self.session.flush()
        self.session.add(
            ConsularDistrict(
                location_id=location_id,
                nationality_code=official.nationality,
                origin=DistrictOrigin.OFFICIAL,
                area=official.area,
                source=official.source,
            )
        )
        self.session.flush()
        return replaced


def _check_overlaps(session: Session, checked: list[_Official]) -> None:
    """Refuse official districts of one group that overlap each other (beyond rounding).

    Compared with each other and with the group's official districts that the file does not
    replace, so two neighbours' boundaries can be moved in one file.
    """
    for group in sorted({Group(o.nationality, o.location.country_code) for o in checked}):
        new = [o for o in checked if Group(o.nationality, o.location.country_code) == group]
        replaced = {o.location.id for o in new}
        areas = [
            (f"the official district of location {location_id}", to_shape(area))
            for location_id, area in session.execute(_official_areas(group))
            if location_id not in replaced
        ]
        for official in new:
            shape = to_shape(official.area)
            for label, other in areas:
                shared = shape.intersection(other).area
                if shared > OFFICIAL_OVERLAP_TOLERANCE * min(shape.area, other.area):
                    raise DistrictError(
                        f"feature {official.number} (location {official.location.id}): "
                        f"overlaps {label} for nationality {group.nationality}"
                    )
            areas.append((f"feature {official.number}", shape))


def load_official_districts(
    session: Session, path: Path, progress: Progress[Any] = no_progress
) -> DistrictReport:
    """Load the official districts of a GeoJSON file, then recompute the groups they touch.

    Every feature is checked (and its polygon made valid) before anything is written, so a
    bad feature raises ``DistrictError`` naming it and leaves the database as it was.
    """
    loader = _OfficialLoader(session, path)
    features = read_features(path, DistrictError)
    checked: list[_Official] = []
    seen: dict[tuple[int, str], int] = {}
    numbered: Sequence[tuple[int, Any]] = list(enumerate(features, start=1))
    for number, feature in progress(numbered, "districts"):
        official = loader.check(number, feature)
        key = (official.location.id, official.nationality)
        if key in seen:
            raise DistrictError(
                f"feature {number} (location {key[0]}): same office and nationality "
                f"as feature {seen[key]}"
            )
        seen[key] = number
        checked.append(official)
    _check_overlaps(session, checked)

    report = DistrictReport(loaded=len(checked))
    for official in checked:
        report.replaced += loader.write(official)
    touched: Iterable[Group] = sorted(
        {Group(o.nationality, o.location.country_code) for o in checked}
    )
    with _without_jit(session):
        for group in touched:
            report.add(_recompute_group(session, group))
    return report
