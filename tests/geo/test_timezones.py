import pytest

from geo.timezones import timezone_at


@pytest.mark.parametrize(
    ("lon", "lat", "zone"),
    [
        (-92.2667, 14.9, "America/Mexico_City"),  # Tapachula
        (-92.1383, 14.6786, "America/Guatemala"),  # Tecún Umán, across the river
        (-117.0382, 32.5149, "America/Tijuana"),
        (-106.4245, 31.6904, "America/Ciudad_Juarez"),
        (-72.3388, 18.5392, "America/Port-au-Prince"),
        (-76.7836, 8.4269, "America/Bogota"),  # Necoclí
    ],
)
def test_zone_of_places_on_the_routes(lon, lat, zone):
    assert timezone_at(lon, lat) == zone


def test_a_point_at_sea_gets_a_nautical_zone():
    assert timezone_at(-100.0, 5.0).startswith("Etc/GMT")
