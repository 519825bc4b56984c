"""Voronoi cells clipped to an area (geo.voronoi), on plain points: no directory records."""

from __future__ import annotations

from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon, Point, box
from shapely.ops import unary_union
from sqlalchemy import Float, Integer, column, func, select, values

from geo.voronoi import voronoi_cells


def cells(session, points: list[tuple[int, float, float, int]], area) -> dict:
    """``{id: shape}`` of the cells of ``(id, lon, lat, rank)`` points in ``area`` (shapely)."""
    rows = values(
        column("id", Integer),
        column("lon", Float),
        column("lat", Float),
        column("rank", Integer),
        name="given",
    ).data(points)
    given = select(
        rows.c.id,
        func.ST_SetSRID(func.ST_MakePoint(rows.c.lon, rows.c.lat), 4326).label("geom"),
        rows.c.rank,
    ).subquery()
    clip = func.ST_GeomFromText(area.wkt, 4326)
    return {
        point_id: to_shape(cell) for point_id, cell in session.execute(voronoi_cells(given, clip))
    }


def test_two_points_split_an_area_along_their_bisector(db_session):
    area = box(-2.0, -1.0, 2.0, 1.0)
    result = cells(db_session, [(1, -1.0, 0.0, 0), (2, 1.0, 0.0, 0)], area)
    assert set(result) == {1, 2}
    assert all(isinstance(cell, MultiPolygon) for cell in result.values())
    # Symmetric about the meridian through the area's centre: the bisector is that meridian.
    assert result[1].symmetric_difference(box(-2.0, -1.0, 0.0, 1.0)).area < 1e-6
    assert result[2].symmetric_difference(box(0.0, -1.0, 2.0, 1.0)).area < 1e-6


def test_a_sole_point_gets_the_whole_area(db_session):
    area = box(-100.0, 30.0, -90.0, 40.0)
    result = cells(db_session, [(7, -95.0, 35.0, 0)], area)
    assert result[7].symmetric_difference(area).area < 1e-9


def test_coincident_points_give_the_cell_to_the_lowest_rank_then_id(db_session):
    area = box(-100.0, 30.0, -90.0, 40.0)
    result = cells(
        db_session,
        [(5, -95.0, 35.0, 1), (6, -95.0, 35.0, 0), (4, -95.0, 35.0, 0), (9, -92.0, 32.0, 0)],
        area,
    )
    assert set(result) == {4, 9}
    alone = cells(db_session, [(5, -95.0, 35.0, 1), (6, -95.0, 35.0, 0)], area)
    assert set(alone) == {6}
    assert alone[6].symmetric_difference(area).area < 1e-6


def test_a_point_whose_cell_misses_the_area_gets_no_row(db_session):
    result = cells(db_session, [(1, 0.0, 0.0, 0), (2, 10.0, 0.0, 0)], box(-1.0, -1.0, 1.0, 1.0))
    assert set(result) == {1}


def test_an_empty_area_gives_no_rows(db_session):
    empty = box(0.0, 0.0, 1.0, 1.0).difference(box(-1.0, -1.0, 2.0, 2.0))
    assert cells(db_session, [(1, 0.5, 0.5, 0), (2, 0.7, 0.7, 0)], empty) == {}
    # Positive control: the same points in the box before it was emptied get their cells.
    assert set(cells(db_session, [(1, 0.5, 0.5, 0), (2, 0.7, 0.7, 0)], box(0, 0, 1, 1))) == {1, 2}


def test_long_straight_edges_are_kept_so_cells_cover_the_area_without_overlap(db_session):
    # A 60° long edge along the 49th parallel would bow in the projection if only its ends
    # were projected, leaving a gap of thousands of square kilometres.
    area = box(-125.0, 40.0, -65.0, 49.0)
    points = [(i, -120.0 + 9.0 * i, 44.0 + (i % 3), 0) for i in range(7)]
    result = cells(db_session, points, area)
    assert set(result) == {i for i, *_ in points}
    shapes = list(result.values())
    union = unary_union(shapes)
    assert sum(shape.area for shape in shapes) - union.area < 1e-9
    assert union.symmetric_difference(area).area < 1e-7 * area.area
    for point_id, lon, lat, _ in points:
        assert result[point_id].contains(Point(lon, lat))
