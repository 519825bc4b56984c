"""The JSON API under /api/v1/ (GeoJSON for collections of places)."""

from flask import Blueprint

api = Blueprint("api", __name__)

from directory.api import (  # noqa: E402,F401  (registers the routes)
    consulates,
    corridor,
    districts,
    locations,
    places,
    views,
)
