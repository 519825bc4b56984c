"""Files to take away: a consular district's map as one HTML file that opens offline.

The staff page (``/consulates/<id>``) links it next to the CSV and GeoJSON exports. The
file is built by ``directory.consular.offline_map``; this view only finds the office and
the district asked for.
"""

from __future__ import annotations

from flask import abort, current_app, request

from directory.consular.offline_map import district_map_filename, district_map_html
from directory.consular.services import active_district, consular_office
from directory.db import db
from directory.public import public
from directory.public.views import configured_tiles
from directory.web import http


@public.get("/consulates/<int:location_id>/district-map.html")
@http.policy(http.public(300))  # directory data, like the CSV and GeoJSON exports
def consulate_district_map(location_id: int):
    """``nationality`` picks one district of a joint office (default: its own country's)."""
    office = consular_office(db.session, location_id)
    if office is None:
        abort(404)
    served = office.organization.nationalities
    nationality = request.args.get("nationality", "").strip().upper() or served[0]
    if nationality not in served:
        abort(400, f"nationality: this office serves {', '.join(served)}")
    district = active_district(db.session, office.id, nationality)
    if district is None:
        abort(404, "This office has no consular district for that nationality yet.")
    html = district_map_html(db.session, office, district, tiles=configured_tiles())
    response = current_app.response_class(html, mimetype="text/html")
    filename = district_map_filename(office, district)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
