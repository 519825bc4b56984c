import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.coordinates import CoordinateError, LonLat


@given(
    lon=st.floats(min_value=-180, max_value=180, allow_nan=False),
    lat=st.floats(min_value=-90, max_value=90, allow_nan=False),
)
def test_valid_positions_survive_a_round_trip_through_wkt(lon, lat):
    from geoalchemy2.shape import to_shape

    position = LonLat.parse(str(lon), str(lat))
    point = to_shape(position.to_wkt_element())
    assert (point.x, point.y) == (lon, lat)


@pytest.mark.parametrize(
    ("lon", "lat", "name", "message"),
    [
        ("-181", "10", "lon", "between -180 and 180"),
        ("10", "90.5", "lat", "between -90 and 90"),
        ("abc", "10", "lon", "must be a number"),
        ("10", "nan", "lat", "finite"),
        ("inf", "10", "lon", "finite"),
        (None, "10", "lon", "must be a number"),
    ],
)
def test_invalid_positions_name_the_parameter(lon, lat, name, message):
    with pytest.raises(CoordinateError, match=message) as caught:
        LonLat.parse(lon, lat)
    assert caught.value.name == name


def test_latitude_and_longitude_are_not_confused():
    # Tapachula given latitude-first would be a point in the ocean off Antarctica; with
    # named parameters the order cannot be swapped silently.
    position = LonLat.parse(lon=-92.27, lat=14.9)
    assert math.isclose(position.lon, -92.27)
    assert math.isclose(position.lat, 14.9)
