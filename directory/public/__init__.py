"""Public pages: no sign-in, no third-party hosts, light on a weak connection."""

from typing import Any

from flask import Blueprint

from directory.places import kinds as kind_vocabulary

public = Blueprint("public", __name__)


@public.context_processor
def kinds() -> dict[str, Any]:
    """Every public template names and colours kinds of organization the same way:
    ``kinds[kind].label`` / ``.plural`` / ``.color``, and ``kinds_for_scripts`` for the
    ``<body data-kinds>`` that the map scripts read (see ``directory/places/kinds.py``)."""
    return {"kinds": kind_vocabulary.KINDS, "kinds_for_scripts": kind_vocabulary.for_scripts()}


from directory.public import (  # noqa: E402,F401  (registers the routes and filters)
    confirm,
    consulates,
    downloads,
    exports,
    formatting,
    near,
    partner_exports,
    referral_slip,
    routes,
    suggest,
    views,
)
