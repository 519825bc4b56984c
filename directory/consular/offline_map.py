"""A consular district's map as one HTML file, for staff to keep and open offline.

Consular staff work where the connection is poor or watched, and need the district and its
partner organizations at hand in the field: a file on a phone or laptop that opens with no
network. So the map is built on the server with folium (geo/maps.py), Leaflet inlined
from the vendored copy (directory/assets.py), every partner's contact details in its
popup, and no host contacted but the configured tile server (the map still shows the
district and the partners without tiles). It is a snapshot: the panel says when it was
made and how much of it was verified.

The file is written in the language of the request that downloads it: the caller passes
``language`` (names of countries and services); the sentences go through the request's
catalog and numbers and dates through ``directory.i18n.formatting``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from directory.assets import offline_assets
from directory.consular.models import ConsularDistrict, DistrictOrigin
from directory.consular.services import (
    Partner,
    PartnerQuery,
    district_geometry,
    partners_in_district,
)
from directory.i18n.formatting import decimal, long_date
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
    language: str = "en",
    today: dt.date | None = None,
) -> str:
    """The district of ``office`` for ``district.nationality_code``, with every partner
    organization inside it, as a standalone HTML document in ``language``."""
    partners = partners_in_district(session, office, district, PartnerQuery())
    geometry = district_geometry(session, district)
    country = session.get(Country, district.nationality_code)
    nationality = country.name(language) if country else district.nationality_code

    fmap = base_map(center=(office.position.lon, office.position.lat), zoom=8, tiles=tiles)
    if geometry is not None:
        add_area(fmap, geometry, name=_("Consular district"), style=DISTRICT_STYLE)
    layers = _partner_layers(partners, language)
    add_marker_layers(fmap, [*layers, _office_layer(office, language)])
    InfoPanel(
        _("Consular district of %(office)s", office=office.display_name),
        _panel_lines(district, nationality, partners, today or dt.date.today()),
        [
            LegendEntry(_("Consular office"), OFFICE_COLOR),
            LegendEntry(_("Consular district"), DISTRICT_COLOR),
            *(
                # Translators: a legend entry: "Shelters (12)".
                LegendEntry(
                    _("%(kind)s (%(count)s)", kind=layer.label, count=len(layer.markers)),
                    layer.color,
                )
                for layer in layers
            ),
        ],
    ).add_to(fmap)
    title = _(
        "%(office)s: consular district for nationals of %(country)s",
        office=office.display_name,
        country=nationality,
    )
    return render_standalone(fmap, offline_assets(), title=title)


def _panel_lines(
    district: ConsularDistrict, nationality: str, partners: list[Partner], today: dt.date
) -> list[str]:
    if district.origin is DistrictOrigin.OFFICIAL:
        origin = _("Official district (source: %(source)s).", source=district.source)
    else:
        origin = _(
            "Computed district: the part of the host country nearer to this office than to "
            "the country's other offices (source: %(source)s).",
            source=district.source,
        )
    verified = sum(1 for partner in partners if partner.location.verified_at)
    return [
        _("For nationals of %(country)s.", country=nationality),
        origin,
        ngettext(
            "%(num)d partner organization; %(verified)d of them verified.",
            "%(num)d partner organizations; %(verified)d of them verified.",
            len(partners),
            verified=verified,
        ),
        _(
            "Made %(date)s from the Protection Directory: call before you go.",
            date=long_date(today),
        ),
    ]


def _partner_layers(partners: Iterable[Partner], language: str) -> list[MarkerLayer]:
    """One layer per kind of organization, in the vocabulary's order; empty kinds left out."""
    layers = {
        kind: MarkerLayer(key=kind.value, label=str(style.plural), color=style.color)
        for kind, style in KINDS.items()
    }
    for partner in partners:
        location = partner.location
        layers[location.organization.kind].markers.append(
            _marker(location, _partner_lines(partner, language))
        )
    return [layer for layer in layers.values() if layer.markers]


def _office_layer(office: Location, language: str) -> MarkerLayer:
    lines = [str(KINDS[office.organization.kind].label), *_place_lines(office, language)]
    return MarkerLayer(
        key="office",
        label=_("Consular office"),
        color=OFFICE_COLOR,
        markers=[_marker(office, lines)],
        radius=9,
    )


def _marker(location: Location, lines: Iterable[str]) -> Marker:
    position = location.position
    return Marker(position.lon, position.lat, location.display_name, tuple(lines))


def _partner_lines(partner: Partner, language: str) -> list[str]:
    location = partner.location
    organization = location.organization
    lines = [
        str(KINDS[organization.kind].label),
        _(
            "%(distance)s km from the office (straight line)",
            distance=decimal(partner.distance_m / 1000),
        ),
        *_place_lines(location, language),
    ]
    if organization.networks:
        networks = ", ".join(network.code for network in organization.networks)
        lines.append(_("Networks: %(networks)s", networks=networks))
    return lines


def _place_lines(location: Location, language: str) -> list[str]:
    where = ", ".join(part for part in (location.city, location.admin_area) if part)
    lines = [
        f"{location.address + ', ' if location.address else ''}{where} ({location.country_code})"
    ]
    if location.categories:
        services = ", ".join(category.name(language) for category in location.categories)
        lines.append(_("Services: %(services)s", services=services))
    lines.extend(_("Phone: %(phone)s", phone=phone) for phone in location.phones)
    if location.whatsapp:
        lines.append(_("WhatsApp: %(number)s", number=location.whatsapp))
    if location.email:
        lines.append(_("E-mail: %(address)s", address=location.email))
    if location.verified_at:
        lines.append(
            _(
                "Verified %(date)s · source: %(source)s",
                date=long_date(location.verified_at),
                source=location.source,
            )
        )
    else:
        lines.append(_("Not verified · source: %(source)s", source=location.source))
    return lines
