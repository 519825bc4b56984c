"""geo.area: any map box, normalised, and the database finding exactly the points inside."""

from __future__ import annotations

import pytest
from geoalchemy2 import Geography
from sqlalchemy import cast, func, literal_column, select, text

from geo.area import BBox, within
from geo.coordinates import CoordinateError


@pytest.mark.parametrize(
    ("edges", "normalised", "spans"),
    [
        ((-93, 14, -91, 16), (-93, 14, -91, 16), [(-93, -91)]),
        ((170, -10, -170, 10), (170, -10, -170, 10), [(170, 180), (-180, -170)]),
        ((170, -10, 190, 10), (170, -10, -170, 10), [(170, 180), (-180, -170)]),
        ((-190, -10, -170, 10), (170, -10, -170, 10), [(170, 180), (-180, -170)]),
        ((530, -10, 550, 10), (170, -10, -170, 10), [(170, 180), (-180, -170)]),
        ((180, -10, 190, 10), (-180, -10, -170, 10), [(-180, -170)]),
        ((-180, -85, 180, 85), (-180, -85, 180, 85), [(-180, 180)]),
        ((-540, -85, 540, 85), (-180, -85, 180, 85), [(-180, 180)]),
        ((10, -85, 370, 85), (-180, -85, 180, 85), [(-180, 180)]),
        ((179, 0, 180, 1), (179, 0, 180, 1), [(179, 180)]),
        ((180, 0, -179, 1), (180, 0, -179, 1), [(-180, -179)]),
    ],
)
def test_any_box_is_normalised(edges, normalised, spans):
    bbox = BBox.from_edges(*edges)
    assert (bbox.min_lon, bbox.min_lat, bbox.max_lon, bbox.max_lat) == normalised
    assert bbox.spans() == spans
    assert 0 < bbox.width <= 360


def test_pieces_are_at_most_90_degrees_and_cover_the_spans():
    pieces = BBox.from_edges(-180, -85, 180, 85).pieces()
    assert pieces == [(-180, -90), (-90, 0), (0, 90), (90, 180)]
    crossing = BBox.from_edges(80, 0, -80, 1).pieces()  # 200° across ±180
    assert crossing == [(80, 130), (130, 180), (-180, -130), (-130, -80)]


@pytest.mark.parametrize(
    "text_",
    ["1,2,3", "1,2,3,4,5", "a,2,3,4", "1,95,2,96", "1,3,2,3", "5,1,5,2", "nan,1,2,3"],
)
def test_bad_boxes_are_refused_naming_bbox(text_):
    with pytest.raises(CoordinateError) as caught:
        BBox.parse(text_)
    assert caught.value.name == "bbox"


BOXES = [
    (-180, -90, 180, 90),
    (-130, 10, -40, 80),  # wide, north: great circles between corners leave the parallels
    (-130, -80, -40, -10),  # … and south
    (-179, -60, 179, 60),
    (170, -30, -170, 30),
    (100, -89, -100, 89),
    (-92, -40, -93, 40),
    (-20, -6, 20, 6),
    (-1, -1, 1, 1),
]


@pytest.mark.parametrize("box", BOXES)
def test_the_database_finds_exactly_the_points_inside(db_session, box):
    """Every whole degree of longitude and latitude (65,000 points, many on the edges)."""
    west, south, east, north = box
    grid = (
        select(
            literal_column("lon").label("lon"),
            literal_column("lat").label("lat"),
            cast(
                func.ST_SetSRID(
                    func.ST_MakePoint(literal_column("lon"), literal_column("lat")), 4326
                ),
                Geography,
            ).label("point"),
        )
        .select_from(text("generate_series(-180, 180) AS lon, generate_series(-89, 89) AS lat"))
        .subquery()
    )
    found = set(
        db_session.execute(
            select(grid.c.lon, grid.c.lat).where(within(grid.c.point, BBox.from_edges(*box)))
        ).all()
    )

    def inside(lon: int) -> bool:
        return west <= lon <= east if west < east else lon >= west or lon <= east

    expected = {
        (lon, lat)
        for lon in range(-180, 181)
        for lat in range(-89, 90)
        if inside(lon) and south <= lat <= north
    }
    assert found == expected
