"""The signed-in workspace (``/workspace/``) where the directory is kept true (issue 12).

The secretariat, the countries' focal points, the organizations' own editors and consular
staff sign in here. Every view asks ``permissions`` (one module decides who may do what to
which record); services that change records take a session and the acting user, and write
an audit entry in the same transaction.
"""

from flask import Blueprint

workspace = Blueprint("workspace", __name__, url_prefix="/workspace")

from directory.workspace import contacts  # noqa: E402,F401  (registers the contact pages)


@workspace.errorhandler(403)
def refused(_error):
    """A refused action, in the workspace's frame and the reader's language (the attempt
    was audited by ``access.refuse``)."""
    from flask import render_template

    return render_template("workspace/forbidden.html"), 403


from directory.workspace import (  # noqa: E402,F401  (registers the routes)
    common,
    confirmations,
    contact_editing,
    duplicates,
    imports,
    locations,
    moderation,
    organizations,
    two_factor,
    users_admin,
    views,
)
