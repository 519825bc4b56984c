"""The referral slip (issue 15): one printable page a consular officer hands to a national.

From a partner row of the office page, the officer picks the national's language and gets
the partner's name, where it is (as exactly as the directory knows it), phones, weekly hours
and how sure they are, who it admits and what to bring, a directions link, the consulate's
own 24/7 protection line and the date — on one page for paper, and the same as plain text
to paste into a message (``.../slip.txt``).

The whole page is in the national's language: ``lang`` is the site's own language parameter,
so dates, times and words all follow it, and the printed page carries no second language.
The officer's language rides along in ``back_lang`` only to lead back to the office page in
it (``lang`` in a URL becomes the site's remembered choice).

Nothing about the national is asked, stored or logged: the slip is made of public records
only and reads the same for everyone. It says hours, never "open now" (paper is read
later), and says "not known" where the directory does not know.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import abort, make_response, render_template, request, url_for
from flask_babel import gettext as _

from directory.consular.referrals import Referral, referral
from directory.consular.services import Partner, consular_office
from directory.consular.slip import slip_partner
from directory.db import LocalizedText, PositionPrecision, db
from directory.i18n.selection import current_language, known_language
from directory.places.models import Location
from directory.public import public
from directory.public.formatting import long_date, timezone_city
from directory.web import http
from directory.web.partner_rows import hours_lines

# Paper is read later: a slip is not a search and the same for everyone, like the office
# page it comes from; but nobody should find a slip through a search engine.
ROBOTS = "noindex, nofollow"
# Where the directions link points: OpenStreetMap's own site, as a link only
# (the page loads nothing from it).
DIRECTIONS = "https://www.openstreetmap.org/directions?to={lat:.5f},{lon:.5f}"


@dataclass(frozen=True, slots=True)
class Slip:
    """What a referral slip says, formatted in the page's language (both faces use it)."""

    office: Location
    partner: Location
    referral: Referral
    today: dt.date
    language: str
    hours: list[str]  # the weekly schedule as lines, [] when not known
    hours_zone: str | None  # "Tapachula time", with weekly hours only
    directions_url: str | None  # None when the point is only the town
    what_to_bring: LocalizedText
    admission_rules: LocalizedText

    @property
    def partner_where(self) -> str:
        return where(self.partner, self.language)

    @property
    def office_where(self) -> str:
        return where(self.office, self.language)

    @property
    def status_note(self) -> str | None:
        """A status the place gave with the hours (full, closed for a while), as of the
        slip's date; never "open" or "closed now"."""
        state = self.referral.state
        until = self.referral.full_until
        if state.reason == "full":
            return _("Full until %(date)s", date=long_date(until)) if until else _("Full")
        if state.reason == "temporarily_closed":
            if until:
                return _("Temporarily closed until %(date)s", date=long_date(until))
            return _("Temporarily closed")
        return None


def where(location: Location, language: str) -> str:
    """The address when known, then always the town, its state or department and the
    country (an address alone may not name the town)."""
    parts = [location.address, location.city, location.admin_area, location.country.name(language)]
    return ", ".join(part for part in parts if part)


def directions_url(location: Location) -> str | None:
    """OpenStreetMap directions to the point, only when the point is the place or its
    street: to the centre of a town it would lead a person to the square, not the door."""
    if location.position_precision == PositionPrecision.CITY:
        return None
    lon, lat = location.position
    return DIRECTIONS.format(lat=lat, lon=lon)


def build_slip(office: Location, partner: Partner, language: str) -> Slip:
    location = partner.location
    now = dt.datetime.now(dt.UTC)
    return Slip(
        office=office,
        partner=location,
        referral=referral(partner, now),
        # The office's own date: the slip is printed there.
        today=now.astimezone(ZoneInfo(office.timezone)).date(),
        language=language,
        hours=hours_lines(location.opening_hours),
        hours_zone=(
            _("%(city)s time", city=timezone_city(location.timezone))
            if location.opening_hours and not location.opening_hours.get("always")
            else None
        ),
        directions_url=directions_url(location),
        what_to_bring=location.what_to_bring_in(language),
        admission_rules=location.admission_rules_in(language),
    )


def _slip_or_404(location_id: int, partner_id: int) -> Slip:
    office = consular_office(db.session, location_id)
    if office is None:
        abort(404)
    partner = slip_partner(db.session, office, partner_id)
    if partner is None:
        abort(404)
    return build_slip(office, partner, current_language())


def _officer_language() -> str:
    """The language to lead back to the office page in: the one the officer came with."""
    return known_language(request.args.get("back_lang")) or current_language()


def _not_indexed(response):
    response.headers["X-Robots-Tag"] = ROBOTS
    # The directions link opens another site: it must not learn which slip it came from
    # (the site sends this on every answer; said here too, since the slip relies on it).
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@public.get("/consulates/<int:location_id>/partners/<int:partner_id>/slip")
@http.policy(http.public(300))
def referral_slip(location_id: int, partner_id: int):
    slip = _slip_or_404(location_id, partner_id)
    back_lang = _officer_language()
    page = render_template(
        "referral_slip.html",
        slip=slip,
        slip_text=render_template("referral_slip.txt", slip=slip),
        back_lang=back_lang,
        back_url=url_for("public.consulate", location_id=location_id, lang=back_lang),
        text_url=url_for(
            "public.referral_slip_text",
            location_id=location_id,
            partner_id=partner_id,
            lang=slip.language,
        ),
    )
    return _not_indexed(make_response(page))


@public.get("/consulates/<int:location_id>/partners/<int:partner_id>/slip.txt")
@http.policy(http.public(300))
def referral_slip_text(location_id: int, partner_id: int):
    slip = _slip_or_404(location_id, partner_id)
    response = make_response(render_template("referral_slip.txt", slip=slip))
    response.content_type = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'inline; filename="referral-{partner_id}-{slip.language}.txt"'
    )
    return _not_indexed(response)
