"""Files to take away: a consular district's map as one HTML file that opens offline.

The staff page (``/consulates/<id>``) links it next to the CSV and GeoJSON exports, and it
answers errors the way they do. The file is built by ``directory.consular.offline_map``;
this view only finds the office and the district asked for.
"""

from __future__ import annotations

from flask import current_app

from directory.consular.offline_map import district_map_filename, district_map_html
from directory.db import db
from directory.i18n.selection import current_language
from directory.public import public
from directory.public.views import configured_tiles
from directory.web import http
from directory.web.args import read_query
from directory.web.lookups import district_or_404, office_nationality, office_or_404
from directory.web.schemas import ConsulateListArgs


@public.get("/consulates/<int:location_id>/district-map.html")
@http.policy(http.public(300))  # directory data, like the CSV and GeoJSON exports
def consulate_district_map(location_id: int):
    """``nationality`` picks one district of a joint office (default: its own country's)."""
    office = office_or_404(db.session, location_id)
    nationality = office_nationality(office, read_query(ConsulateListArgs())["nationality"])
    district = district_or_404(db.session, office, nationality)
    html = district_map_html(
        db.session, office, district, tiles=configured_tiles(), language=current_language()
    )
    response = current_app.response_class(html, mimetype="text/html")
    filename = district_map_filename(office, district)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
