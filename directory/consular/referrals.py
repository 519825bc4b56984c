"""What a consular officer needs to refer a national to a partner (issue 15), in one place.

The partner list on the office page, its API, its CSV / XLSX / GeoJSON exports and the
referral slip all say the same things about a partner: how to reach it, when it is open and
how sure that is, who it admits, whether it is full, when it was last checked, and how far
it is from the office and from where the national is. ``Referral`` gathers them from a
``Partner`` so the faces only format them.

A value the directory does not know stays ``None`` (or empty): each face must say "not
known" for it, never show a blank that reads like "none" (a blank phone cell looks like a
place without a phone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from directory.consular.services import Partner
from directory.db import LocalizedText
from directory.places.models import Location
from directory.places.opening_hours import OpenState

# How sure the hours are: given or confirmed by the organization, typical hours from another
# source (never "open now"), or no hours at all.
HoursCertainty = Literal["confirmed", "typical", "unknown"]


@dataclass(frozen=True, slots=True)
class Referral:
    """One partner as a referral: the location, its state now, and its distances.

    ``distance_from_m`` is from the place the officer typed (the national's location), when
    one was typed; it is computed per request and never stored or logged.
    """

    location: Location
    state: OpenState
    distance_office_m: float
    distance_from_m: float | None = None

    @property
    def hours_certainty(self) -> HoursCertainty:
        if self.location.opening_hours is None:
            return "unknown"
        return "confirmed" if self.location.hours_confirmed else "typical"

    @property
    def open_now(self) -> bool:
        """Open at this instant by hours the organization confirmed (never from typical
        hours, never while full or closed)."""
        return self.state.is_open

    @property
    def full_until(self) -> dt.datetime | None:
        """The end of a "full" (or other) status, when one is set and known."""
        return self.state.until if self.state.reason not in ("open", "always") else None

    def admission_rules(self, language: str) -> LocalizedText:
        return self.location.admission_rules_in(language)

    def what_to_bring(self, language: str) -> LocalizedText:
        return self.location.what_to_bring_in(language)


def referral(partner: Partner, at: dt.datetime) -> Referral:
    """``partner`` as a referral at the aware instant ``at``."""
    return Referral(
        location=partner.location,
        state=partner.location.open_state(at),
        distance_office_m=partner.distance_m,
        distance_from_m=partner.distance_from_m,
    )
