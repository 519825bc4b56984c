"""Every GeoJSON the directory sends is standard GeoJSON (RFC 7946), read as such by GDAL.

On the demo data, every GeoJSON endpoint and export is fetched, and in each body every
Polygon and MultiPolygon must be valid (shapely), have its exterior rings counter-clockwise
and its holes clockwise (RFC 7946, section 3.1.6) and coordinates with at most 6 decimals
(section 11.2); GDAL's ``ogrinfo`` must then open the body with no warning and count the
features it holds. The GeoJSON routes (``ROUTES``, each with how it is fetched here):

* ``/api/v1/countries/outlines`` (``detail=coarse`` and ``fine``), ``/api/v1/routes``,
  ``/api/v1/districts?nationality=…`` (Guatemala's and the five with the most districts;
  every stored district is checked valid by ``test_stored_polygons_are_valid…``);
* ``/api/v1/locations?bbox=…`` (points, clusters, a box across the antimeridian),
  ``/api/v1/locations/nearest``;
* ``/api/v1/routes/<key>/corridor`` and ``POST /api/v1/corridor``;
* ``/api/v1/consulates/serving`` (one Feature), ``/api/v1/consulates/<id>/partners``;
* ``/consulates/<id>/partners.geojson``, ``/downloads/directory.geojson``;

and, outside the URL map: ``flask export geojson OUT``, the district drawn on the office
pages and in the offline map (``district_geometry``) and the corridor drawn on a route's
page (``route_drawing``). A route added to the app that answers GeoJSON fails
``test_every_geojson_route_is_checked`` until it is added to ``ROUTES``.

``ogrinfo`` is GDAL's (Debian ``gdal-bin``), which ``make test`` installs; without it these
tests fail, they are never skipped.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from shapely.geometry import shape
from shapely.validation import explain_validity
from sqlalchemy import func, select, text

from directory.consular.models import ConsularDistrict
from directory.consular.services import district_geometry
from directory.corridors.models import Route
from directory.corridors.services import route_drawing
from directory.places import map_area
from directory.places.models import Country
from tests import factories
from tests.gdal import gdal_faults

MAX_DECIMALS = 6  # RFC 7946, section 11.2: about 10 cm


# --- what a standard body is --------------------------------------------------------------


def _positions(coordinates: Any) -> Iterator[list[Decimal | int]]:
    if coordinates and isinstance(coordinates[0], Decimal | int | float):
        yield coordinates
        return
    for part in coordinates:
        yield from _positions(part)


def _decimals(value: Decimal | int) -> int:
    """Decimals as written: ``Decimal("-92.26")`` has 2, ``17`` none."""
    if isinstance(value, int):
        return 0
    return max(0, -int(value.as_tuple().exponent))


def _geometries(body: dict) -> Iterator[tuple[str, dict]]:
    """(where, geometry) of every geometry of a FeatureCollection, Feature or geometry."""
    if body.get("type") == "FeatureCollection":
        for index, feature in enumerate(body["features"]):
            label = feature.get("properties", {}).get("code") or feature.get("id") or index
            if feature.get("geometry") is not None:
                yield f"feature {label}", feature["geometry"]
    elif body.get("type") == "Feature":
        if body.get("geometry") is not None:
            yield "the feature", body["geometry"]
    else:
        yield "the geometry", body


def polygon_faults(body: dict, exact: dict) -> list[str]:
    """What is not RFC 7946 about the polygons of ``body``: invalid ones, exterior rings
    clockwise, holes counter-clockwise, more than 6 decimals (read from ``exact``, the
    same body parsed with ``Decimal``). Empty when all is well."""
    faults = []
    for (where, geometry), (_, written) in zip(_geometries(body), _geometries(exact), strict=True):
        if geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue
        area = shape(geometry)
        if not area.is_valid:
            faults.append(f"{where}: invalid ({explain_validity(area)})")
        polygons = list(area.geoms) if geometry["type"] == "MultiPolygon" else [area]
        for number, polygon in enumerate(polygons):
            if not polygon.exterior.is_ccw:
                faults.append(f"{where}: polygon {number}'s exterior ring is clockwise")
            for hole in polygon.interiors:
                if hole.is_ccw:
                    faults.append(f"{where}: a hole of polygon {number} is counter-clockwise")
        most = max(
            (
                _decimals(value)
                for position in _positions(written["coordinates"])
                for value in position
            ),
            default=0,
        )
        if most > MAX_DECIMALS:
            faults.append(f"{where}: coordinates with {most} decimals")
    return faults


def bbox_faults(body: dict) -> list[str]:
    """RFC 7946, section 5: a ``bbox`` member (none is sent today) is ``[west, south, east,
    north]``, latitudes in order, longitudes within ±180 and ``west > east`` only across
    the antimeridian (section 5.2), and it holds the positions it bounds."""
    faults = []
    members = [("the body", body)]
    members += [(f"feature {i}", f) for i, f in enumerate(body.get("features") or [])]
    for where, member in members:
        if "bbox" not in member:
            continue
        box = member["bbox"]
        if len(box) != 4 or not all(isinstance(value, int | float) for value in box):
            faults.append(f"{where}: bbox {box} is not [west, south, east, north]")
            continue
        west, south, east, north = box
        if not (-90 <= south <= north <= 90 and -180 <= west <= 180 and -180 <= east <= 180):
            faults.append(f"{where}: bbox {box} is out of range or out of order")
        for _, geometry in _geometries(member):
            for lon, lat, *_ in _positions(geometry["coordinates"]):
                inside = west <= lon <= east if west <= east else lon >= west or lon <= east
                if not (inside and south <= lat <= north):
                    faults.append(f"{where}: [{lon}, {lat}] lies outside its bbox {box}")
                    break
    return faults


def feature_count(body: dict) -> int:
    if body.get("type") == "FeatureCollection":
        return len(body["features"])
    return 1  # a single Feature: GDAL reads it as a layer of one


@dataclass(frozen=True)
class Checked:
    label: str
    faults: list[str]


def check_text(label: str, document: str, tmp_path: Path) -> Checked:
    """Every check on one GeoJSON document (text as sent)."""
    body = json.loads(document)
    exact = json.loads(document, parse_float=Decimal)
    faults = polygon_faults(body, exact) + bbox_faults(body)
    path = tmp_path / f"{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')[:80]}.geojson"
    path.write_text(document, encoding="utf-8")
    faults += gdal_faults(path, feature_count(body))
    return Checked(label, [f"{label}: {fault}" for fault in faults])


# --- the demo data, and what each route is fetched with ------------------------------------


@pytest.fixture
def client(demo_app, demo_session):
    """The demo data, in a transaction rolled back after the test (places are added)."""
    return demo_app.test_client()


@dataclass(frozen=True)
class Demo:
    nationalities: list[str]  # of the district layers checked
    office_id: int  # a consular office whose district holds partners
    office_nationality: str
    route_code: str
    route_line: list[list[float]]
    tapachula: tuple[float, float]  # lat, lon


@pytest.fixture
def demo(demo_session) -> Demo:
    session = demo_session
    # Guatemala's (874 of its 920 exterior rings were clockwise) and the five with the
    # most districts: each layer takes a couple of seconds to check, all 16 half a minute.
    by_districts = session.scalars(
        select(ConsularDistrict.nationality_code)
        .where(ConsularDistrict.archived_at.is_(None))
        .group_by(ConsularDistrict.nationality_code)
        .order_by(func.count().desc(), ConsularDistrict.nationality_code)
        .limit(5)
    ).all()
    nationalities = sorted({"GT", *by_districts})
    # The office whose district holds the most partners (a real list to export).
    office_id, nationality = session.execute(
        text(
            """
            SELECT d.location_id, d.nationality_code
            FROM consular_districts AS d
            JOIN locations AS p ON ST_Covers(d.area, p.point::geometry)
            JOIN organizations AS o ON o.id = p.organization_id
            WHERE d.archived_at IS NULL AND p.archived_at IS NULL
              AND o.kind IN ('shelter', 'civil_society', 'international_org')
            GROUP BY d.location_id, d.nationality_code
            ORDER BY count(*) DESC, d.location_id
            LIMIT 1
            """
        )
    ).one()
    route = session.scalars(select(Route).order_by(Route.id)).first()
    assert route is not None
    line = json.loads(
        session.scalar(select(func.ST_AsGeoJSON(Route.path, 5)).where(Route.id == route.id))
    )
    return Demo(
        nationalities=nationalities,
        office_id=office_id,
        office_nationality=nationality,
        route_code=route.code,
        route_line=line["coordinates"],
        tapachula=(14.905, -92.263),
    )


Fetch = Callable[[Any, Demo], list[tuple[str, str]]]  # (label, body text) of each answer


def _get(client: Any, url: str, **kwargs: Any) -> tuple[str, str]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/geo+json", url
    return url, response.get_data(as_text=True)


def _outlines(client, demo):
    return [_get(client, f"/api/v1/countries/outlines?detail={d}") for d in ("coarse", "fine")]


def _districts(client, demo):
    return [_get(client, f"/api/v1/districts?nationality={n}") for n in demo.nationalities]


def _area(client, demo):
    lat, lon = demo.tapachula
    points = _get(client, f"/api/v1/locations?bbox={lon - 1},{lat - 1},{lon + 1},{lat + 1}")
    with mock.patch.object(map_area, "MAX_POINTS", 20):  # the demo's 543 places as clusters
        clusters = _get(client, "/api/v1/locations?bbox=-120,-60,-30,35")
    assert any(f["properties"].get("cluster") for f in json.loads(clusters[1])["features"])
    crossing = _get(client, "/api/v1/locations?bbox=170,-20,-170,-10")  # across ±180
    return [points, clusters, crossing]


def _nearest(client, demo):
    lat, lon = demo.tapachula
    return [_get(client, f"/api/v1/locations/nearest?lat={lat}&lon={lon}&limit=50")]


def _route_corridor(client, demo):
    return [_get(client, f"/api/v1/routes/{demo.route_code}/corridor?buffer_km=50&limit=200")]


def _line_corridor(client, demo):
    url = "/api/v1/corridor?buffer_km=50&limit=200"
    line = {"type": "LineString", "coordinates": demo.route_line}
    response = client.post(url, json=line)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [(f"POST {url}", response.get_data(as_text=True))]


def _serving(client, demo):
    lat, lon = demo.tapachula
    return [_get(client, f"/api/v1/consulates/serving?nationality=GT&lat={lat}&lon={lon}")]


def _api_partners(client, demo):
    url = f"/api/v1/consulates/{demo.office_id}/partners"
    return [_get(client, f"{url}?nationality={demo.office_nationality}&limit=100")]


def _partners_export(client, demo):
    url = f"/consulates/{demo.office_id}/partners.geojson"
    return [_get(client, f"{url}?nationality={demo.office_nationality}")]


def _directory_download(client, demo):
    return [_get(client, "/downloads/directory.geojson")]


ROUTES: dict[str, Fetch] = {
    "/api/v1/countries/outlines": _outlines,
    "/api/v1/routes": lambda client, demo: [_get(client, "/api/v1/routes")],
    "/api/v1/districts": _districts,
    "/api/v1/locations": _area,
    "/api/v1/locations/nearest": _nearest,
    "/api/v1/routes/<key>/corridor": _route_corridor,
    "/api/v1/corridor": _line_corridor,
    "/api/v1/consulates/serving": _serving,
    "/api/v1/consulates/<int:location_id>/partners": _api_partners,
    "/consulates/<int:location_id>/partners.geojson": _partners_export,
    "/downloads/directory.geojson": _directory_download,
}

# What in a view's source says it answers GeoJSON.
_ANSWERS_GEOJSON = re.compile(r"http\.geojson\(|http\.GEOJSON|geo\+json")


def geojson_rules(app) -> set[str]:
    """The rules of the app whose view answers GeoJSON, or whose path ends in .geojson."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            source = ""
        if rule.rule.endswith(".geojson") or _ANSWERS_GEOJSON.search(source):
            found.add(rule.rule)
    return found


# --- the tests --------------------------------------------------------------------------


def test_every_geojson_route_is_checked(demo_app):
    found = geojson_rules(demo_app)
    assert found - set(ROUTES) == set(), "GeoJSON routes this module does not check: add them"
    assert set(ROUTES) - found == set(), "routes checked here no longer answer GeoJSON"


@pytest.mark.parametrize("rule", sorted(ROUTES))
def test_every_geojson_answer_is_rfc_7946_and_gdal_reads_it(client, demo, rule, tmp_path):
    answers = ROUTES[rule](client, demo)
    faults = [
        fault for label, body in answers for fault in check_text(label, body, tmp_path).faults
    ]
    assert faults == [], "\n".join(faults[:40])
    polygons = sum(
        geometry["type"] in ("Polygon", "MultiPolygon")
        for _, body in answers
        for _, geometry in _geometries(json.loads(body))
    )
    if rule in ("/api/v1/countries/outlines", "/api/v1/districts"):
        assert polygons > 0  # positive control: the polygons were there to check


def test_the_directory_export_command_writes_rfc_7946_that_gdal_reads(demo_runner, tmp_path):
    out = tmp_path / "directory.geojson"
    result = demo_runner.invoke(args=["export", "geojson", str(out)])
    assert result.exit_code == 0, result.output
    checked = check_text("flask export geojson", out.read_text(encoding="utf-8"), tmp_path)
    assert checked.faults == []
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) > 100


def test_the_drawn_districts_and_corridors_are_rfc_7946(demo_session, tmp_path):
    """What the pages draw from data attributes, and the offline map: districts as
    ``district_geometry`` gives them (the 12 with the most vertices, simplified before
    drawing, and the 12 with the fewest: every one of the 320 takes seconds, and the
    layer test above reads them all through the same ``geo.polygons.drawn``), and each
    route's corridor as its page draws it."""
    faults = []
    by_size = select(ConsularDistrict).where(ConsularDistrict.archived_at.is_(None))
    points = func.ST_NPoints(ConsularDistrict.area)
    districts = [
        *demo_session.scalars(by_size.order_by(points.desc(), ConsularDistrict.id).limit(12)),
        *demo_session.scalars(by_size.order_by(points, ConsularDistrict.id).limit(12)),
    ]
    for district in districts:
        geometry = district_geometry(demo_session, district)
        assert geometry is not None
        assert geometry["type"] == "MultiPolygon"
        document = json.dumps(geometry)
        faults += polygon_faults(geometry, json.loads(document, parse_float=Decimal))
    for route in demo_session.scalars(select(Route)).all():
        for buffer_km in (50,):
            _line, corridor = route_drawing(demo_session, route, buffer_km, None)
            assert corridor is not None
            feature = {"type": "Feature", "properties": {}, "geometry": corridor}
            document = json.dumps(feature)
            label = f"corridor {route.code} {buffer_km} km"
            faults += check_text(label, document, tmp_path).faults
    assert faults == [], "\n".join(faults[:40])


def test_the_checks_find_what_is_not_standard(tmp_path):
    """The checks above fail where they must: a clockwise exterior, a counter-clockwise
    hole, a ring that crosses itself, 7 decimals, a bbox that does not hold its feature,
    and a file GDAL cannot read."""
    clockwise = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]
    hole_ccw = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8], [0.2, 0.2]]
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    precise = [[0, 0], [1.1234567, 0], [1, 1], [0, 0]]
    outer = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    bodies = {
        "clockwise": {"type": "Polygon", "coordinates": [clockwise]},
        "counter-clockwise": {"type": "Polygon", "coordinates": [outer, hole_ccw]},
        "invalid": {"type": "MultiPolygon", "coordinates": [[bowtie]]},
        "7 decimals": {"type": "Polygon", "coordinates": [precise]},
    }
    for expected, geometry in bodies.items():
        document = json.dumps({"type": "Feature", "properties": {}, "geometry": geometry})
        faults = polygon_faults(json.loads(document), json.loads(document, parse_float=Decimal))
        assert any(expected in fault for fault in faults), (expected, faults)
    crossing = {
        "type": "Feature",
        "bbox": [170, -20, -170, -10],
        "properties": {},
        "geometry": {"type": "Point", "coordinates": [175, -15]},
    }
    assert bbox_faults(crossing) == []
    assert bbox_faults({**crossing, "bbox": [-170, -20, 170, -10]})  # the point is outside
    assert bbox_faults({**crossing, "bbox": [170, -10, -170, -20]})  # south above north
    good = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [outer]},
    }
    assert check_text("good", json.dumps(good), tmp_path).faults == []
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    assert gdal_faults(broken, 0)
    assert gdal_faults(tmp_path / "good.geojson", 2)  # the count is checked


def test_a_box_across_the_antimeridian_finds_the_places_on_both_sides(client, demo_session):
    """RFC 7946, section 5.2: ``west > east`` is a box across ±180."""
    org = factories.organization(demo_session)
    east = factories.location(demo_session, org, 175.0, -15.0)
    west = factories.location(demo_session, org, -175.0, -15.0)
    factories.location(demo_session, org, 160.0, -15.0)  # west of the box
    factories.location(demo_session, org, -175.0, -25.0)  # south of it
    response = client.get("/api/v1/locations?bbox=170,-20,-170,-10")
    assert response.status_code == 200, response.json
    ids = {feature["id"] for feature in response.json["features"]}
    assert ids == {east.id, west.id}


def test_stored_polygons_are_valid_after_computing_the_districts(demo_runner, demo_session):
    result = demo_runner.invoke(args=["districts", "compute"])
    assert result.exit_code == 0, result.output
    invalid = demo_session.execute(
        text(
            """
            SELECT (SELECT count(*) FROM consular_districts WHERE NOT ST_IsValid(area)),
                   (SELECT count(*) FROM countries WHERE NOT ST_IsValid(boundary)),
                   (SELECT count(*) FROM barriers WHERE NOT ST_IsValid(area))
            """
        )
    ).one()
    assert tuple(invalid) == (0, 0, 0)
    # Positive control: there was something to check.
    assert demo_session.scalar(select(func.count()).select_from(ConsularDistrict)) > 50
    assert demo_session.scalar(select(func.count()).select_from(Country)) > 5
