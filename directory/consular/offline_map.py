"""A consular district's map as one HTML file, for staff to keep and open offline.

Consular staff work where the connection is poor or watched, and need the district and its
partner organizations at hand in the field: a file on a phone or laptop that opens with no
network. So the map is built on the server with folium (geo/maps.py), Leaflet inlined
from the vendored copy (directory/assets.py), every partner's contact details in its
popup, and no host contacted but the configured tile server (the map still shows the
district and the partners without tiles). It is a snapshot: the panel says when it was
made and how much of it was verified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from directory.assets import offline_assets
from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.consular.services import (
    Partner,
    PartnerQuery,
    district_geometry,
    partners_in_district,
)
from directory.places.kinds import KINDS
from directory.places.models import Country, Location
from geo.maps import (
    InfoPanel,
    LegendEntry,
    Marker,
    MarkerLayer,
    TileSource,
    add_area,
    add_marker_layers,
    base_map,
    render_standalone,
)

OFFICE_COLOR = "#111827"
DISTRICT_COLOR = "#7c3aed"
DISTRICT_STYLE = {
    "color": DISTRICT_COLOR,
    "weight": 2,
    "fillColor": "#a78bfa",
    "fillOpacity": 0.2,
    "className": "district-area",
}


def district_map_filename(office: Location, district: ConsularDistrict) -> str:
    return f"district-map-{office.organization.slug}-{district.nationality_code}.html"


def district_map_html(
    session: Session,
    office: Location,
    district: ConsularDistrict,
    *,
    tiles: TileSource | None,
    today: dt.date | None = None,
) -> str:
    """The district of ``office`` for ``district.nationality_code``, with every partner
    organization inside it, as a standalone HTML document."""
    partners = partners_in_district(session, office, district, PartnerQuery())
    geometry = district_geometry(session, district)
    country = session.get(Country, district.nationality_code)
    nationality = country.name("en") if country else district.nationality_code

    fmap = base_map(center=(office.position.lon, office.position.lat), zoom=8, tiles=tiles)
    if geometry is not None:
        add_area(fmap, geometry, name="Consular district", style=DISTRICT_STYLE)
    layers = _partner_layers(partners)
    add_marker_layers(fmap, [*layers, _office_layer(office)])
    InfoPanel(
        f"Consular district of {office.display_name}",
        _panel_lines(district, nationality, partners, today or dt.date.today()),
        [
            LegendEntry("Consular office", OFFICE_COLOR),
            LegendEntry("Consular district", DISTRICT_COLOR),
            *(
                LegendEntry(f"{layer.label} ({len(layer.markers)})", layer.color)
                for layer in layers
            ),
        ],
    ).add_to(fmap)
    title = f"{office.display_name}: consular district for nationals of {nationality}"
    return render_standalone(fmap, offline_assets(), title=title)


def _panel_lines(
    district: ConsularDistrict, nationality: str, partners: list[Partner], today: dt.date
) -> list[str]:
    if district.origin is DistrictOrigin.OFFICIAL:
        origin = f"Official district (source: {district.source})."
    else:
        origin = (
            "Computed district: the part of the host country nearer to this office than to "
            f"the country's other offices (source: {district.source})."
        )
    verified = sum(1 for partner in partners if partner.location.verified_at)
    return [
        f"For nationals of {nationality}.",
        origin,
        f"{len(partners)} partner organizations; {verified} of them verified.",
        f"Made {today.isoformat()} from the Protection Directory: call before you go.",
    ]


def _partner_layers(partners: Iterable[Partner]) -> list[MarkerLayer]:
    """One layer per kind of organization, in the vocabulary's order; empty kinds left out."""
    layers = {
        kind: MarkerLayer(key=kind.value, label=style.plural, color=style.color)
        for kind, style in KINDS.items()
    }
    for partner in partners:
        location = partner.location
        layers[location.organization.kind].markers.append(
            _marker(location, _partner_lines(partner))
        )
    return [layer for layer in layers.values() if layer.markers]


def _office_layer(office: Location) -> MarkerLayer:
    lines = [KINDS[office.organization.kind].label, *_place_lines(office)]
    return MarkerLayer(
        key="office",
        label="Consular office",
        color=OFFICE_COLOR,
        markers=[_marker(office, lines)],
        radius=9,
    )


def _marker(location: Location, lines: Iterable[str]) -> Marker:
    position = location.position
    return Marker(position.lon, position.lat, location.display_name, tuple(lines))


def _partner_lines(partner: Partner) -> list[str]:
    location = partner.location
    organization = location.organization
    lines = [
        KINDS[organization.kind].label,
        f"{partner.distance_m / 1000:.1f} km from the office (straight line)",
        *_place_lines(location),
    ]
    if organization.networks:
        lines.append("Networks: " + ", ".join(network.code for network in organization.networks))
    return lines


def _place_lines(location: Location) -> list[str]:
    where = ", ".join(part for part in (location.city, location.admin_area) if part)
    lines = [
        f"{location.address + ', ' if location.address else ''}{where} ({location.country_code})"
    ]
    if location.categories:
        lines.append("Services: " + ", ".join(c.name("en") for c in location.categories))
    lines.extend(f"Phone: {phone}" for phone in location.phones)
    if location.whatsapp:
        lines.append(f"WhatsApp: {location.whatsapp}")
    if location.email:
        lines.append(f"E-mail: {location.email}")
    if location.verified_at:
        lines.append(f"Verified {location.verified_at.isoformat()} · source: {location.source}")
    else:
        lines.append(f"Not verified · source: {location.source}")
    return lines
