"""Which partner a consular office may refer a national to on a referral slip (issue 15).

A slip is printed from the office page's partner list, so it is given only for a partner
that list could show: an active location of an active partner organization (civil
society, shelter, international organization) inside one of the office's active districts,
for any nationality the office serves (a joint office has one district per nationality).
Anything else is "not found": a slip must never vouch for a place the office's list would
not have offered.

Nothing about the national goes in or comes out: the slip is the partner's and the
office's public details, the same for everyone.
"""

from __future__ import annotations

from sqlalchemy import exists, func
from sqlalchemy.orm import Session, selectinload

from directory.consular.models import ConsularDistrict
from directory.consular.services import PARTNER_KINDS, Partner
from directory.places.filters import active_locations
from directory.places.models import Location, Organization
from directory.places.records import public_details
from geo.coordinates import point_geography


def slip_partner(session: Session, office: Location, partner_id: int) -> Partner | None:
    """The partner location ``partner_id`` of ``office``'s districts (with its distance
    from the office, as the office's list has it), or ``None``.

    ``office`` is a consular office (``consular_office``); the partner must lie inside
    one of its active districts (``ST_Covers``, as ``partners_in_district`` tests it).
    """
    in_a_district = (
        exists()
        .where(
            ConsularDistrict.location_id == office.id,
            ConsularDistrict.nationality_code.in_(office.organization.nationalities),
            ConsularDistrict.archived_at.is_(None),
            func.ST_Covers(ConsularDistrict.area, func.geometry(Location.point)),
        )
        .correlate(Location)
    )
    distance = func.ST_Distance(Location.point, point_geography(office.position))
    row = session.execute(
        active_locations()
        .where(
            Location.id == partner_id,
            Organization.kind.in_(PARTNER_KINDS),
            in_a_district,
        )
        .add_columns(distance)
        .options(*public_details(), selectinload(Location.country))
    ).first()
    return Partner(row[0], row[1]) if row else None
