"""Voronoi cells of points, clipped to an area, computed by PostGIS.

Each point gets the part of the area nearer to it than to any other point. Done naively in
longitude/latitude degrees the cells are distorted (a degree of longitude shrinks towards the
poles), so the work happens in an azimuthal equidistant projection centred on the area, where
distances from the centre are true and the distortion across a country is small:

1. The area is segmentized (``AREA_SEGMENT_DEG``) *before* it is projected: a long straight
   edge in degrees (the 49th parallel) is a curve in the projection, and projecting only its
   two end points would cut thousands of square kilometres off. The projected area is made
   valid again (projection can fold slivers).
2. ``ST_VoronoiPolygons`` of the projected points, over an extent larger than the area.
3. Each cell goes to the point nearest to it (its generator lies inside it, at distance 0).
   Coincident points are merged into one cell by PostGIS; that cell goes to the one with the
   lowest ``rank`` (then lowest id), and the others get no row.
4. Each cell is segmentized (``CELL_SEGMENT_M``: its straight edges are curves in degrees),
   intersected with the area *in the projection* (cells that cross the antimeridian would
   break in degrees), and projected back to SRID 4326 as a MultiPolygon.

A sole point (or points all at one place) gets the whole area. The cells of neighbours share
their edges vertex for vertex, so they neither overlap nor leave gaps beyond rounding.

Not supported: an area whose parts touch each other *at* the antimeridian (±180°, as in
Russia or Fiji): made valid in the projection they merge into one polygon that cannot be
projected back to degrees. Parts that stop short of it (the Aleutians in Natural Earth's
United States) are fine.

PostGIS declares its functions expensive, so the planner's cost estimate for this query can
pass ``jit_above_cost``; callers should run it with JIT off (compiling costs seconds, the
query itself takes milliseconds per point).
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import ColumnElement, Select, case, func, select, true
from sqlalchemy.sql import FromClause

# Degrees: densify the area before projecting it (about 5 km at the equator).
AREA_SEGMENT_DEG = 0.05
# Metres: densify the cells (straight in the projection) before projecting them back.
CELL_SEGMENT_M = 20_000.0
# Metres added around the projected area for the Voronoi extent, so no cell is cut short.
EXTENT_MARGIN_M = 1_000_000.0


def aeqd_projection(area: ColumnElement) -> ColumnElement:
    """The PROJ string of an azimuthal equidistant projection centred on ``area``."""
    centre = func.ST_PointOnSurface(area)
    return func.format(
        "+proj=aeqd +lat_0=%s +lon_0=%s +datum=WGS84 +units=m",
        func.ST_Y(centre),
        func.ST_X(centre),
    )


def voronoi_cells(points: FromClause, area: ColumnElement) -> Select:
    """A query of ``(id, area)``: the part of ``area`` nearest to each point.

    ``points`` is a subquery or table with columns ``id``, ``geom`` (a point geometry in SRID
    4326) and ``rank`` (among coincident points the lowest rank wins the cell). ``area`` is a
    geometry expression in SRID 4326 (a scalar subquery, say). Points whose cell misses the
    area, coincident points that lose, and every point when the area is empty, get no row.
    The ``area`` column is a ``MultiPolygon`` in SRID 4326.
    """
    given = select(area.label("geom")).cte("voronoi_area")
    frame = (
        select(given.c.geom, aeqd_projection(given.c.geom).label("proj"))
        .where(func.ST_IsEmpty(given.c.geom).is_(False))
        .cte("voronoi_frame")
    )
    projected = select(
        func.ST_MakeValid(
            func.ST_Transform(func.ST_Segmentize(frame.c.geom, AREA_SEGMENT_DEG), frame.c.proj)
        ).label("clip"),
        frame.c.proj,
    ).cte("voronoi_projected")
    sites = (
        select(
            points.c.id,
            points.c.rank,
            func.ST_Transform(points.c.geom, projected.c.proj).label("geom"),
        )
        .select_from(points.join(projected, true()))
        .cte("voronoi_sites")
    )
    extent = func.ST_Expand(func.ST_Envelope(projected.c.clip), EXTENT_MARGIN_M)
    diagram = select(
        func.ST_VoronoiPolygons(
            select(func.ST_Collect(sites.c.geom)).scalar_subquery(), 0, extent
        ).label("cells"),
        extent.label("extent"),
    ).cte("voronoi_diagram")
    # A single distinct point gives an empty diagram: its cell is the whole extent.
    cells_or_extent = case(
        (func.ST_IsEmpty(diagram.c.cells), diagram.c.extent), else_=diagram.c.cells
    )
    numbered = select(
        cells_or_extent.label("cells"),
        func.generate_series(1, func.ST_NumGeometries(cells_or_extent)).label("n"),
    ).cte("voronoi_numbered")
    cells = select(
        numbered.c.n, func.ST_GeometryN(numbered.c.cells, numbered.c.n).label("cell")
    ).cte("voronoi_cells")
    claims = (
        select(
            cells.c.cell,
            sites.c.id,
            func.row_number()
            .over(
                partition_by=cells.c.n,
                order_by=(
                    func.ST_Distance(cells.c.cell, sites.c.geom),
                    sites.c.rank,
                    sites.c.id,
                ),
            )
            .label("place"),
        )
        .select_from(cells.join(sites, true()))
        .cte("voronoi_claims")
    )
    owners = select(claims.c.cell, claims.c.id).where(claims.c.place == 1).cte("voronoi_owners")
    clipped = func.ST_Intersection(
        func.ST_Segmentize(owners.c.cell, CELL_SEGMENT_M), projected.c.clip
    )
    polygons = func.ST_CollectionExtract(func.ST_Transform(clipped, projected.c.proj, 4326), 3)
    result = (
        select(owners.c.id, func.ST_Multi(polygons, type_=Geometry).label("area"))
        .select_from(owners.join(projected, true()))
        .cte("voronoi_result")
    )
    return select(result.c.id, result.c.area).where(func.ST_IsEmpty(result.c.area).is_(False))
