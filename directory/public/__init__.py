"""Public pages: no sign-in, no third-party hosts, light on a weak connection."""

from flask import Blueprint

public = Blueprint("public", __name__)

from directory.public import consulates, near, routes, views  # noqa: E402,F401
