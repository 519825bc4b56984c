"""A consulate's partners as one table: the columns of every partner export (issue 15).

The CSV, the XLSX and the GeoJSON of ``/consulates/<id>/partners.*`` carry the same facts
about each partner, in the same order: how to reach it, its hours and how sure they are,
whether it is open now, who it admits, whether it is full, when it was last verified, and how
far it is from the office and from the place the officer typed. ``COLUMNS`` names them (the
header of both spreadsheets, the property names of the GeoJSON) and ``partner_values``
gives one partner's values, as data: no words, no Flask.

The faces turn those values into cells (``directory/web/partner_rows.py``), and there an
unknown value is said, never left as a blank that reads like "none":

* Columns written for people to read (``PEOPLE_COLUMNS``: address, contacts, hours, the open
  state, categories, languages, populations, admission rules, what to bring, status) hold
  the translated "Not known" when the directory does not know. A blank phone cell reads as
  "this place has no phone"; "Not known" tells the officer to look further.
* Numeric and date columns (lat/lon, capacity, distances, ``status_until``,
  ``verified_at``) stay empty: a spreadsheet must be able to sort and sum them, and a word
  in a number column breaks both. Their emptiness has one meaning per column, said here
  and in no extra ``*_known`` column: capacity not known; no place was typed (so no
  distance from it); no end date of the status; nobody has verified the record.
* Code columns always have a value (``kind``, ``country_code``, ``position_precision``,
  ``hours_certainty`` — ``unknown`` when there are no hours —, ``open_now``), except
  ``networks``, whose emptiness is a fact: the organization is in none of the directory's
  networks.

The GeoJSON keeps JSON's own ``null`` for an unknown value: explicit, and a program reads it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.consular.models import ConsularDistrict
from directory.consular.referrals import Referral
from directory.places.precision import rounded_distance_m

COLUMNS: tuple[str, ...] = (
    "name",
    "organization",
    "kind",
    "networks",
    "categories",
    "address",
    "city",
    "admin_area",
    "country_code",
    "lat",
    "lon",
    "position_precision",
    "phones",
    "whatsapp",
    "email",
    "website",
    "hours",
    "hours_certainty",
    "open_now",
    "open_state",
    "languages",
    "populations",
    "admission_rules",
    "what_to_bring",
    "status",
    "status_until",
    "capacity",
    "verified_at",
    "distance_office_km",
    "distance_from_km",
    "source",
)

# Written for people: "Not known" in the reader's language when empty (see the docstring).
PEOPLE_COLUMNS = frozenset(
    {
        "categories",
        "address",
        "phones",
        "whatsapp",
        "email",
        "website",
        "hours",
        "open_state",
        "languages",
        "populations",
        "admission_rules",
        "what_to_bring",
        "status",
    }
)


def distance_km(distance_m: float | None, precision: str) -> float | None:
    """A straight-line distance in km, no more exact than the place's point is known (the
    API's rounding, ``rounded_distance_m``), to 10 m at most."""
    if distance_m is None:
        return None
    return round(rounded_distance_m(distance_m, precision) / 1000, 2)


def partner_values(referral: Referral, language: str) -> dict[str, Any]:
    """One partner's values by column, as data, texts in ``language`` where there is one.

    Lists stay lists (codes: categories, languages, populations; the phones as written),
    unknown values are ``None`` or an empty list, ``hours`` is the weekly schedule
    (``None`` when not known), ``open_state`` the state's reason (``open``,
    ``probably_open``, ``closed``, ``full``, …), ``status`` the code of the operational status
    that holds now (``open`` once a "full" has passed its end date) and
    the two texts ``LocalizedText`` (falsy when there is none; ``is_fallback`` when not in
    ``language``). A face formats them (``directory/web/partner_rows.py``).
    """
    location = referral.location
    organization = location.organization
    lon, lat = location.position
    precision = location.position_precision.value
    # The status that holds now: one past its end date reads as open again.
    status = location.status.value if referral.state.reason == location.status.value else "open"
    return {
        "name": location.display_name,
        "organization": organization.name,
        "kind": organization.kind.value,
        "networks": [network.code for network in organization.networks],
        "categories": [category.code for category in location.categories],
        "address": location.address or None,
        "city": location.city,
        "admin_area": location.admin_area or None,
        "country_code": location.country_code,
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "position_precision": precision,
        "phones": list(location.phones),
        "whatsapp": location.whatsapp or None,
        "email": location.email or organization.email or None,
        "website": organization.website or None,
        "hours": location.opening_hours,
        "hours_certainty": referral.hours_certainty,
        "open_now": referral.open_now,
        "open_state": referral.state.reason,
        "languages": list(location.languages),
        "populations": list(location.populations),
        "admission_rules": referral.admission_rules(language),
        "what_to_bring": referral.what_to_bring(language),
        "status": status,
        "status_until": referral.full_until if status != "open" else None,
        "capacity": location.capacity,
        "verified_at": location.verified_at,
        "distance_office_km": distance_km(referral.distance_office_m, precision),
        "distance_from_km": distance_km(referral.distance_from_m, precision),
        "source": location.source,
    }


def district_feature(session: Session, district: ConsularDistrict) -> dict[str, Any] | None:
    """The district as a GeoJSON Feature for the partner export: its whole area, not the
    simplified drawing of the pages (``district_geometry``), since a partner on the edge
    must fall inside the polygon the file holds; exterior rings counter-clockwise (RFC 7946
    §3.1.6), 6 decimals (about 10 cm). Looked up by office and nationality, as the partner
    query does, so a district recomputed meanwhile (a new row) is still found."""
    text = session.scalar(
        select(func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(ConsularDistrict.area), 6)).where(
            ConsularDistrict.location_id == district.location_id,
            ConsularDistrict.nationality_code == district.nationality_code,
            ConsularDistrict.archived_at.is_(None),
        )
    )
    if text is None:
        return None
    return {
        "type": "Feature",
        "geometry": json.loads(text),
        "properties": {
            "kind": "consular_district",
            "nationality": district.nationality_code,
            "origin": district.origin.value,
            "source": district.source,
            "office_id": district.location_id,
        },
    }
