"""Our records as HSDS 3.0 objects (plain dicts ready for JSON).

Pure functions over ORM rows: no query is run here, so the export and the API decide how rows
are loaded (in batches, with their organization, country and categories already loaded).
docs/hsds.md describes the mapping for readers; the importer (``directory.hsds.importer``)
maps each field back, so the round trip
export → import → export gives the same documents, ids and ``last_modified`` aside.

Three small taxonomies of our own carry what HSDS has no field for: the service categories
(attributes on the service), the organization kinds (an attribute on the organization) and
the position precision (an attribute on the location). Texts are in the language they were
written in; vocabulary (categories, kinds, countries, languages) is in English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Final

from babel import Locale

from directory.db import Cost, OperationalStatus, OrganizationKind, PositionPrecision
from directory.hsds import ids
from directory.places.models import Location, Organization, ServiceCategory

Json = dict[str, Any]

#: The HSDS version the objects follow.
HSDS_VERSION: Final = "3.0"
#: ``external_identifier_type`` of our locations' ``external_id``.
EXTERNAL_IDENTIFIER_TYPE: Final = "protection-directory"
TAXONOMY_URI: Final = "https://protection-directory.invalid/taxonomy/"

# Our three taxonomies: key → (name, description). The key names the id and the URI.
TAXONOMIES: Final[dict[str, tuple[str, str]]] = {
    ids.TAXONOMY_CATEGORIES: (
        "Protection Directory service categories",
        "The kinds of help a place offers (shelter, food, legal aid, consular assistance…).",
    ),
    ids.TAXONOMY_ORGANIZATION_KINDS: (
        "Protection Directory organization kinds",
        "What an organization is: a consulate, an embassy's consular section, a shelter, a "
        "civil-society organization, an international organization or a government office.",
    ),
    ids.TAXONOMY_POSITION_PRECISION: (
        "Protection Directory position precision",
        "How exactly a location's point is known: the door (exact), the street or block "
        "(street), or only the town (city, a point in its centre).",
    ),
}

# English labels of our vocabularies. HSDS documents are exchanged between systems, not
# read in a person's language, so they carry the English names (the codes stay the key).
KIND_LABELS: Final[dict[OrganizationKind, str]] = {
    OrganizationKind.CONSULATE: "Consulate",
    OrganizationKind.EMBASSY: "Embassy (consular section)",
    OrganizationKind.SHELTER: "Shelter",
    OrganizationKind.CIVIL_SOCIETY: "Civil-society organization",
    OrganizationKind.INTERNATIONAL_ORG: "International organization",
    OrganizationKind.GOVERNMENT: "Government office",
}
PRECISION_LABELS: Final[dict[PositionPrecision, str]] = {
    PositionPrecision.EXACT: "Exact position (the door)",
    PositionPrecision.STREET: "Street or block",
    PositionPrecision.CITY: "Town only (a point in its centre)",
}
COST_LABELS: Final[dict[Cost, str]] = {
    Cost.FREE: "Free",
    Cost.LOW_COST: "Low cost",
    Cost.FEE: "Fee",
}
HOURS_CONFIRMED: Final = "Hours confirmed by the organization"
HOURS_TYPICAL: Final = "Typical hours, not confirmed"
WHATSAPP: Final = "WhatsApp"
# The description of the phone that carries a consular office's 24/7 protection line: HSDS
# has no field for it, and the importer knows the line by this exact text.
PROTECTION_LINE: Final = "24/7 consular protection line"

# attribute.link_type of each of our attributes.
LINK_CATEGORY: Final = "service_category"
LINK_KIND: Final = "organization_kind"
LINK_PRECISION: Final = "position_precision"

_DAYS: Final = ("mo", "tu", "we", "th", "fr", "sa", "su")
COORDINATE_DECIMALS: Final = 6


# --- Taxonomies and their terms -----------------------------------------------------------


def taxonomy(key: str) -> Json:
    """One of our three taxonomies."""
    name, description = TAXONOMIES[key]
    return {
        "id": ids.taxonomy_id(key),
        "name": name,
        "description": description,
        "uri": TAXONOMY_URI + key.replace("_", "-"),
        "version": "1",
    }


def taxonomies() -> list[Json]:
    return [taxonomy(key) for key in TAXONOMIES]


def _term(taxonomy_key: str, code: str, name: str) -> Json:
    return {
        "id": ids.taxonomy_term_id(taxonomy_key, code),
        "code": code,
        "name": name,
        "description": name,
        "taxonomy": TAXONOMIES[taxonomy_key][0],
        "taxonomy_id": ids.taxonomy_id(taxonomy_key),
        "language": "en",
    }


def category_term(category: ServiceCategory) -> Json:
    return _term(ids.TAXONOMY_CATEGORIES, category.code, category.name("en"))


def kind_term(kind: OrganizationKind) -> Json:
    return _term(ids.TAXONOMY_ORGANIZATION_KINDS, kind.value, KIND_LABELS[kind])


def precision_term(precision: PositionPrecision) -> Json:
    return _term(ids.TAXONOMY_POSITION_PRECISION, precision.value, PRECISION_LABELS[precision])


def taxonomy_terms(categories: Iterable[ServiceCategory]) -> list[Json]:
    """Every term of our taxonomies: categories (in their order), kinds, precisions."""
    return [
        *(category_term(category) for category in categories),
        *(kind_term(kind) for kind in OrganizationKind),
        *(precision_term(precision) for precision in PositionPrecision),
    ]


def _attribute(
    attribute_id: str, link_entity: str, link_id: str, link_type: str, term: Json
) -> Json:
    return {
        "id": attribute_id,
        "link_id": link_id,
        "link_entity": link_entity,
        "link_type": link_type,
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }


# --- Organizations -------------------------------------------------------------------------


def organization_description(organization: Organization) -> str:
    """The description in the language it was written in (else Spanish, else any); when
    there is none, the English name of its kind: HSDS requires a description."""
    original = organization.description_language or "es"
    text = organization.description_in(original).text
    return text or KIND_LABELS[organization.kind]


def organization_list_object(organization: Organization) -> Json:
    """An organization's one-to-one fields (compiled/organization_list.json)."""
    body: Json = {
        "id": ids.organization_id(organization.id),
        "name": organization.name,
        "description": organization_description(organization),
    }
    if organization.email and "@" in organization.email:
        body["email"] = organization.email
    if organization.website:
        body["website"] = organization.website
    return body


def organization_object(organization: Organization) -> Json:
    """An organization with its kind as an attribute, whose ``value`` is a consulate's
    sending country (compiled/organization.json, without the nested services and
    locations, which the export lists on their own)."""
    body = organization_list_object(organization)
    kind = _attribute(
        ids.sub_id("attribute", "organization", organization.id, 0),
        "organization",
        body["id"],
        LINK_KIND,
        kind_term(OrganizationKind(organization.kind)),
    )
    if organization.sending_country_code:
        # A consulate's sending country (the nationality it serves): HSDS has no field for
        # it, and an importer must not have to guess it from the office's name.
        kind["value"] = organization.sending_country_code
    body["attributes"] = [kind]
    return body


# --- Locations ------------------------------------------------------------------------------


@cache
def language_name(code: str) -> str:
    """The English name of an ISO 639 code (CLDR), else the code itself."""
    return Locale("en").languages.get(code) or code


def _languages(
    codes: Sequence[str], parent_kind: str, parent_our_id: int, link: Json
) -> list[Json]:
    return [
        {
            "id": ids.sub_id("language", parent_kind, parent_our_id, n),
            **link,
            "name": language_name(code),
            "code": code,
        }
        for n, code in enumerate(codes)
    ]


def _address(location: Location, location_hsds_id: str) -> Json:
    address: Json = {
        "id": ids.sub_id("address", "location", location.id, 0),
        "location_id": location_hsds_id,
        "address_1": location.address or location.city,
        "city": location.city,
        "state_province": location.admin_area or location.city,
        "postal_code": "",  # required by HSDS; our records have none
        "country": location.country_code,
        "address_type": "physical",
    }
    if location.admin_area:
        address["region"] = location.admin_area
    return address


def location_list_object(location: Location) -> Json:
    """A location's one-to-one fields (as nested in compiled/service_at_location_list)."""
    position = location.position
    return {
        "id": ids.location_id(location.id),
        "location_type": "physical",
        "organization_id": ids.organization_id(location.organization_id),
        "name": location.display_name,
        "latitude": round(position.lat, COORDINATE_DECIMALS),
        "longitude": round(position.lon, COORDINATE_DECIMALS),
        "external_identifier": location.external_id,
        "external_identifier_type": EXTERNAL_IDENTIFIER_TYPE,
    }


def location_object(location: Location) -> Json:
    """A location with its address, languages and position precision."""
    body = location_list_object(location)
    body["addresses"] = [_address(location, body["id"])]
    body["languages"] = _languages(
        location.languages, "location", location.id, {"location_id": body["id"]}
    )
    body["attributes"] = [
        _attribute(
            ids.sub_id("attribute", "location", location.id, 0),
            "location",
            body["id"],
            LINK_PRECISION,
            precision_term(PositionPrecision(location.position_precision)),
        )
    ]
    return body


# --- Services (one per location) ----------------------------------------------------------


def service_name(location: Location) -> str:
    return f"{location.organization.name} — {location.city}"


def service_status(location: Location) -> str:
    if location.status == OperationalStatus.TEMPORARILY_CLOSED:
        return "temporarily closed"
    return "active"  # open or full: it runs


def service_description(location: Location) -> str:
    """The location's notes in the language they were written in, else the organization's
    description (which may be empty)."""
    notes = location.notes_in(location.notes_language or "es").text
    if notes:
        return notes
    organization = location.organization
    return organization.description_in(organization.description_language or "es").text


def eligibility_description(location: Location) -> str:
    """Who the place admits, in the language it was written in (HSDS has one text)."""
    return location.admission_rules_in(location.admission_rules_language or "es").text


def application_process(location: Location) -> str:
    """What a person should bring, in the language it was written in: the steps to be
    received there, as far as our records say them."""
    return location.what_to_bring_in(location.what_to_bring_language or "es").text


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def service_list_object(location: Location, *, with_organization: bool = True) -> Json:
    """A service's one-to-one fields (compiled/service_list.json), with its organization's."""
    service_hsds_id = ids.service_id(location.id)
    body: Json = {
        "id": service_hsds_id,
        "organization_id": ids.organization_id(location.organization_id),
        "name": service_name(location),
        "status": service_status(location),
    }
    if description := service_description(location):
        body["description"] = description
    if location.email and "@" in location.email:
        body["email"] = location.email
    if process := application_process(location):
        body["application_process"] = process
    if location.cost is not None:
        body["fees_description"] = COST_LABELS[Cost(location.cost)]
    if eligibility := eligibility_description(location):
        body["eligibility_description"] = eligibility
    if location.verified_at is not None:
        body["assured_date"] = location.verified_at.isoformat()
    body["last_modified"] = _timestamp(location.updated_at)
    if with_organization:
        body["organization"] = organization_list_object(location.organization)
    return body


def schedules(opening_hours: Any) -> list[tuple[str, str, str]]:
    """Our weekly hours as (byday, opens_at, closes_at), one per distinct interval.

    ``{"always": true}`` is every day from 00:00:00 to 24:00:00. Days that share an
    interval share a schedule ("MO,TU,WE,TH,FR"); intervals are sorted by opening time.
    An interval past midnight keeps its closing time (``20:00:00``–``02:00:00``).
    """
    if not opening_hours:
        return []
    if opening_hours.get("always"):
        return [(",".join(day.upper() for day in _DAYS), "00:00:00", "24:00:00")]
    days_of: dict[tuple[str, str], list[str]] = {}
    for day in _DAYS:
        for opens, closes in opening_hours.get(day) or ():
            days_of.setdefault((opens, closes), []).append(day)
    return [
        (",".join(day.upper() for day in days), f"{opens}:00", f"{closes}:00")
        for (opens, closes), days in sorted(days_of.items())
    ]


def _phones(location: Location, service_hsds_id: str) -> list[Json]:
    """The voice phones, then WhatsApp, then a consular office's protection line: the ids
    are positional, so this order keeps them stable when a line is added or removed."""
    numbers: list[tuple[str, str, str | None]] = [
        (number, "voice", None) for number in location.phones if number
    ]
    if location.whatsapp:
        numbers.append((location.whatsapp, "text", WHATSAPP))
    if location.protection_phone:
        numbers.append((location.protection_phone, "voice", PROTECTION_LINE))
    phones = []
    for n, (number, kind, description) in enumerate(numbers):
        phone: Json = {
            "id": ids.sub_id("phone", "service", location.id, n),
            "service_id": service_hsds_id,
            "number": number,
            "type": kind,
        }
        if description:
            phone["description"] = description
        phones.append(phone)
    return phones


def service_object(location: Location, *, nested: bool = False) -> Json:
    """The full service of a location (compiled/service.json).

    ``nested`` adds the organization object and the service_at_location with its location
    (the API's ``/services/{id}``); the export leaves them out (they are listed on their
    own, linked by id).
    """
    body = service_list_object(location, with_organization=False)
    service_hsds_id = body["id"]
    link = {"service_id": service_hsds_id}
    body["phones"] = _phones(location, service_hsds_id)
    description = HOURS_CONFIRMED if location.hours_confirmed else HOURS_TYPICAL
    body["schedules"] = [
        {
            "id": ids.sub_id("schedule", "service", location.id, n),
            **link,
            "freq": "WEEKLY",
            "byday": byday,
            "opens_at": opens,
            "closes_at": closes,
            "description": description,
        }
        for n, (byday, opens, closes) in enumerate(schedules(location.opening_hours))
    ]
    body["service_areas"] = [
        {
            "id": ids.sub_id("service_area", "service", location.id, 0),
            **link,
            "name": location.country.name("en"),
        }
    ]
    body["languages"] = _languages(location.languages, "service", location.id, link)
    if location.cost is not None:
        cost = Cost(location.cost)
        body["cost_options"] = [
            {
                "id": ids.sub_id("cost_option", "service", location.id, 0),
                **link,
                "option": cost.value,
                "amount_description": COST_LABELS[cost],
            }
        ]
    else:
        body["cost_options"] = []
    body["attributes"] = [
        _attribute(
            ids.sub_id("attribute", "service", location.id, n),
            "service",
            service_hsds_id,
            LINK_CATEGORY,
            category_term(category),
        )
        for n, category in enumerate(sorted(location.categories, key=_category_order))
    ]
    if nested:
        body["organization"] = organization_object(location.organization)
        body["service_at_locations"] = [service_at_location_object(location, nested=True)]
    return body


def _category_order(category: ServiceCategory) -> tuple[int, str]:
    return (category.position, category.code)


# --- Service at location ---------------------------------------------------------------


def service_at_location_list_object(location: Location) -> Json:
    """The link with the one-to-one fields of its location and service
    (compiled/service_at_location_list.json)."""
    return {
        **service_at_location_object(location),
        "location": location_list_object(location),
        "service": service_list_object(location),
    }


def service_at_location_object(location: Location, *, nested: bool = False) -> Json:
    """The link between a location's service and the location; ``nested`` adds the full
    location."""
    body: Json = {
        "id": ids.service_at_location_id(location.id),
        "service_id": ids.service_id(location.id),
        "location_id": ids.location_id(location.id),
    }
    if nested:
        body["location"] = location_object(location)
    return body


def service_at_location_full(location: Location) -> Json:
    """The fully nested service_at_location (compiled/service_at_location.json).

    HSDS 3.0's openapi.json declares ``/service_at_locations/{id}`` with the schema of a
    *service* (compiled/service.json), a slip of the published document; the answer also
    carries the service's required ``name`` and ``status`` so that it satisfies both.
    """
    service = service_object(location)
    return {
        **service_at_location_object(location, nested=True),
        "name": service["name"],
        "status": service["status"],
        "service": {**service, "organization": organization_object(location.organization)},
    }
