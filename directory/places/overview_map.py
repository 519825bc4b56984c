"""The home page's overview map: every place by kind, the routes and country outlines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from geoalchemy2 import Geography
from sqlalchemy import Numeric, cast, func, select
from sqlalchemy.orm import Session, joinedload

from directory.corridors.models import Route
from directory.db import OrganizationKind
from directory.places.models import Location, Organization
from geo.coordinates import LonLat
from geo.geojson import feature_collection
from geo.maps import (
    MapFragments,
    Marker,
    MarkerLayer,
    RemoteGeoJsonLayer,
    TileSource,
    add_lines,
    add_marker_layers,
    base_map,
    render_fragments,
)

# Centred on the isthmus, zoomed out to show Colombia to the US border.
DEFAULT_CENTER = (-88.0, 17.0)
DEFAULT_ZOOM = 4


@dataclass(frozen=True, slots=True)
class KindStyle:
    label: str
    color: str


KIND_STYLES: Mapping[OrganizationKind, KindStyle] = {
    OrganizationKind.CONSULATE: KindStyle("Consulates", "#1f5fa8"),
    OrganizationKind.EMBASSY: KindStyle("Embassies (consular section)", "#5b3fa8"),
    OrganizationKind.SHELTER: KindStyle("Shelters", "#c2410c"),
    OrganizationKind.CIVIL_SOCIETY: KindStyle("Civil-society organizations", "#15803d"),
    OrganizationKind.INTERNATIONAL_ORG: KindStyle("International organizations", "#0e7490"),
    OrganizationKind.GOVERNMENT: KindStyle("Government services", "#6b7280"),
}


def marker_layers(session: Session) -> list[MarkerLayer]:
    """One layer per organization kind holding its active locations."""
    locations = session.scalars(
        select(Location)
        .join(Location.organization)
        .where(Location.archived_at.is_(None), Organization.archived_at.is_(None))
        .options(joinedload(Location.organization))
        .order_by(Location.id)
    )
    layers = {
        kind: MarkerLayer(key=kind.value, label=style.label, color=style.color)
        for kind, style in KIND_STYLES.items()
    }
    for location in locations:
        position = LonLat.from_element(location.point)
        layers[location.organization.kind].markers.append(
            Marker(
                lon=position.lon,
                lat=position.lat,
                title=location.display_name,
                lines=_popup_lines(location),
            )
        )
    return [layer for layer in layers.values() if layer.markers]


def _popup_lines(location: Location) -> tuple[str, ...]:
    verified = (
        f"Verified {location.verified_at.isoformat()}" if location.verified_at else "Not verified"
    )
    return (f"{location.city}, {location.country_code}", f"{verified} · {location.source}")


def routes_geojson(session: Session) -> str:
    """The active routes as GeoJSON text (``id``, ``code``, ``name``, ``length_km`` on the
    spheroid), built by PostGIS."""
    length_km = func.ST_Length(cast(Route.path, Geography)) / 1000
    rows = (
        select(
            Route.path.label("geometry"),
            Route.id,
            Route.code,
            func.coalesce(Route.names["en"].astext, Route.code).label("name"),
            func.round(cast(length_km, Numeric), 2).label("length_km"),
        )
        .where(Route.archived_at.is_(None))
        .subquery()
    )
    query = feature_collection(
        rows, geometry="geometry", properties=["id", "code", "name", "length_km"]
    )
    return session.scalar(query) or '{"type": "FeatureCollection", "features": []}'


def routes_collection(session: Session) -> dict:
    """The active routes as a GeoJSON dict, for the folium map."""
    return json.loads(routes_geojson(session))


def build_overview_map(
    session: Session,
    *,
    tiles: TileSource | None,
    outlines_url: str,
    asset_urls: Mapping[str, str | None],
) -> MapFragments:
    fmap = base_map(center=DEFAULT_CENTER, zoom=DEFAULT_ZOOM, tiles=tiles)
    RemoteGeoJsonLayer(
        outlines_url,
        name="Country outlines",
        style={"color": "#475569", "weight": 1, "fillColor": "#f1f5f9", "fillOpacity": 0.6},
        class_name="country-outline",
    ).add_to(fmap)
    routes = routes_collection(session)
    if routes["features"]:
        add_lines(fmap, routes, name="Migration routes", color="#b91c1c")
    add_marker_layers(fmap, marker_layers(session))
    return render_fragments(fmap, asset_urls)
