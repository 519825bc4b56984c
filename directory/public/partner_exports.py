"""The exports of a consulate's partner list, for consular staff to work from offline:
every partner matching the office page's filters (no pagination), as CSV, XLSX and GeoJSON.

The two spreadsheets hold the same rows (``directory/consular/partner_table.py`` names the
columns and says how an unknown value is written; ``directory/web/partner_rows.py`` words
them in the reader's language). The CSV starts with a byte order mark, without which Excel
reads UTF-8 as Windows-1252 ("SJR MÃ©xico"); the XLSX has a bold header row that stays in
view and columns as wide as their content. A text cell a spreadsheet would run as a formula
is defused in both.

The GeoJSON holds, in this order: the district the list was filtered by (its whole area,
``kind: "consular_district"``), the office itself (so the file alone shows a map of who is
where from the office: QGIS or a phone's map app draws all three), then the partners, each
as the API gives it (``partner_feature``). ``role`` tells the three apart
(``district``, ``office``, ``partner``).

``from=lat,lon`` (where the national is) adds each partner's distance from there; such an
export is the officer's alone, never kept by a shared cache.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app, url_for

from directory.consular.models import ConsularDistrict
from directory.consular.partner_table import COLUMNS, district_feature
from directory.consular.referrals import referral
from directory.consular.services import Partner, PartnerQuery, partners_in_district
from directory.db import db
from directory.exports.writers import BOM
from directory.i18n.selection import current_language
from directory.io.csv_files import csv_text
from directory.io.xlsx_files import MIMETYPE as XLSX
from directory.io.xlsx_files import xlsx_bytes
from directory.places.models import Location
from directory.places.schemas import location_feature
from directory.public import public
from directory.web import http
from directory.web.args import read_query
from directory.web.features import partners_collection
from directory.web.lookups import (
    district_or_404,
    office_nationality,
    office_or_404,
    partner_filters,
)
from directory.web.partner_rows import csv_cell, partner_cells
from directory.web.schemas import PartnerFilterArgs

# Directory data, the same for everyone; with ``from`` (where a national is), theirs alone.
EXPORT_POLICY = http.public(300, private_if=("from",))


class _Export:
    """Every partner matching the request's filters (no pagination), at one instant."""

    def __init__(self, location_id: int) -> None:
        self.office: Location = office_or_404(db.session, location_id)
        args = read_query(PartnerFilterArgs())
        nationality = office_nationality(self.office, args["nationality"])
        self.district: ConsularDistrict = district_or_404(db.session, self.office, nationality)
        self.at = dt.datetime.now(dt.UTC)
        self.language = current_language()
        query = PartnerQuery(filters=partner_filters(db.session, args), origin=args["start"])
        self.partners: list[Partner] = partners_in_district(
            db.session, self.office, self.district, query, self.at
        )

    def rows(self) -> list[list[Any]]:
        return [
            partner_cells(referral(partner, self.at), self.language) for partner in self.partners
        ]

    def attachment(self, body: str | bytes, mimetype: str, extension: str) -> Response:
        slug = self.office.organization.slug
        nationality = self.district.nationality_code
        response = current_app.response_class(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="partners-{slug}-{nationality}.{extension}"'
        )
        response.headers["Content-Language"] = self.language
        return response


@public.get("/consulates/<int:location_id>/partners.csv")
@http.policy(EXPORT_POLICY)
def consulate_partners_csv(location_id: int):
    export = _Export(location_id)
    rows = ([csv_cell(value) for value in row] for row in export.rows())
    return export.attachment(BOM + csv_text(COLUMNS, rows), "text/csv; charset=utf-8", "csv")


@public.get("/consulates/<int:location_id>/partners.xlsx")
@http.policy(EXPORT_POLICY)
def consulate_partners_xlsx(location_id: int):
    export = _Export(location_id)
    body = xlsx_bytes(COLUMNS, export.rows(), sheet_title="partners")
    return export.attachment(body, XLSX, "xlsx")


@public.get("/consulates/<int:location_id>/partners.geojson")
@http.policy(EXPORT_POLICY)
def consulate_partners_geojson(location_id: int):
    export = _Export(location_id)
    office, district = export.office, export.district
    office_url = url_for("public.consulate", location_id=office.id, _external=True)
    body = partners_collection(
        office, district, export.partners, office_url, at=export.at, language=export.language
    )
    features: list[dict[str, Any]] = []
    area = district_feature(db.session, district)
    if area is not None:
        area["properties"]["role"] = "district"
        features.append(area)
    features.append(
        location_feature(office, role="office", protection_phone=office.protection_phone)
    )
    for feature in body["features"]:
        feature["properties"]["role"] = "partner"
        features.append(feature)
    body["features"] = features
    return export.attachment(current_app.json.dumps(body), http.GEOJSON, "geojson")
