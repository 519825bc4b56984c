"""Town search: towns by name from the offline gazetteer (no online geocoder).

What the searcher typed is neither logged nor stored, nor kept by any cache.
"""

from __future__ import annotations

from flask import Response, jsonify

from directory.api import api
from directory.db import db
from directory.gazetteer.services import search_towns
from directory.web import http
from directory.web.args import read_query
from directory.web.schemas import TownSearchArgs


@api.get("/towns")
@http.policy(http.SEARCH)
def towns() -> Response:
    """Towns whose name matches ``q`` (accents, case and small typos forgiven), best first.

    ``limit`` (1-50, default 10); ``country`` (ISO alpha-2) keeps one country's towns.
    """
    args = read_query(TownSearchArgs())
    matches = search_towns(db.session, args["q"], limit=args["limit"], country=args["country"])
    return jsonify({"towns": [match.as_dict() for match in matches]})


@api.get("/places")
@http.policy(http.SEARCH)
def places_search_alias() -> Response:
    """Deprecated name of ``/towns`` (the answer's list is ``places``), kept for old links."""
    args = read_query(TownSearchArgs())
    matches = search_towns(db.session, args["q"], limit=args["limit"], country=args["country"])
    return jsonify({"places": [match.as_dict() for match in matches]})
