"""The Protection Directory web application."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_compress import Compress
from flask_migrate import Migrate
from werkzeug.middleware.proxy_fix import ProxyFix

from directory import config as app_config
from directory import db_routing, privacy

# Every domain's models, so that the metadata (Alembic, relationships named by string) sees
# every table whichever module a caller imported first.
from directory.accounts import models as _accounts  # noqa: F401
from directory.confirmations import models as _confirmations  # noqa: F401
from directory.consular import models as _consular  # noqa: F401
from directory.corridors import models as _corridors  # noqa: F401
from directory.db import db
from directory.gazetteer import models as _gazetteer  # noqa: F401
from directory.imports import models as _imports  # noqa: F401
from directory.places import models as _places  # noqa: F401
from directory.suggestions import models as _suggestions  # noqa: F401

PROJECT_ROOT = Path(__file__).resolve().parent.parent
migrate = Migrate(directory=str(PROJECT_ROOT / "migrations"))
# Pages, GeoJSON and scripts shrink several times over: it matters on a weak connection.
compress = Compress()
# Every page and message in Spanish, English, French or Haitian Creole (directory/i18n/).
babel = Babel()


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by ``config``."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"))
    app.config.update(app_config.from_environment())
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app_config.sqlalchemy_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app_config.check_secret_key(app.config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        raise RuntimeError(
            "DATABASE_URL is not set. `make run` sets it for the local cluster; "
            "otherwise export DATABASE_URL=postgresql://user@host:port/dbname"
        )

    if proxies := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    privacy.install(app.logger.name)
    db.init_app(app)
    db_routing.install(app)  # DATABASE_REPLICA_URL: public reads from a replica
    migrate.init_app(app, db)
    compress.init_app(app)
    from directory.i18n import selection as language_selection

    babel.init_app(app, locale_selector=language_selection.current_language)
    # `{% trans %}` blocks are extracted and looked up with their whitespace collapsed.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    language_selection.install(app)

    from directory import cli
    from directory.api import api
    from directory.hsds import api as hsds_api
    from directory.ops import ops
    from directory.public import public
    from directory.tiles import views as tile_views
    from directory.web import args, cors, errors, http, limits, security, static
    from directory.workspace import auth as workspace_auth
    from directory.workspace import workspace

    errors.register(app)
    http.register(app)
    app.before_request(args.refuse_nul_bytes)
    security.register(app)
    cli.register(app)
    app.register_blueprint(ops)
    app.register_blueprint(public)
    app.register_blueprint(api, url_prefix="/api/v1")
    # The signed-in workspace: sessions, CSRF on every form (not the public JSON API).
    workspace_auth.install(app, exempt=api)
    app.register_blueprint(workspace)
    limits.install(app, api=api, pages=public, exempt=ops)
    hsds_api.install(app)  # /hsds/v3: the HSDS 3.0 API, with the API's rate limit
    tile_views.install(app)  # /tiles/…: the base map from our own origin, its own limit
    cors.install(app)
    # Outermost: /static/… is answered from the built folder before the app is reached.
    static.install(app)
    return app
