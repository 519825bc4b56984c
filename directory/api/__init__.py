"""The JSON API under /api/v1/ (GeoJSON for collections of places).

Views parse the request (``directory.web``), call a service and respond; nothing here is
imported by the HTML pages, nor the other way round.
"""

from flask import Blueprint

api = Blueprint("api", __name__)

from directory.api import (  # noqa: E402,F401  (registers the routes)
    consulates,
    corridor,
    layers,
    locations,
    openapi,
    reference,
    towns,
)
