"""科技成果转化交易平台: the Flask site."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from market import config as config_mod


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: configuration, then a short list of registrations. No I/O happens here."""
    settings = config_mod.from_env()
    settings.update(config or {})
    app = Flask(__name__, instance_path=str(settings["INSTANCE_PATH"]))
    app.config.update(settings)
    config_mod.check(app.config)

    from market import mail, outbox, trade
    from market.cli import register_cli
    from market.db import register_db
    from market.errors import register_errors
    from market.extensions import register_extensions
    from market.listings.service import load_changes
    from market.main.context import register_context
    from market.matches.engine import register_matching
    from market.matches.service import register_match_events
    from market.notifications.service import register_notifications
    from market.outbox.worker import register_loader
    from market.routes import register_blueprints
    from market.searching.engine import register_search
    from market.searching.sync import register_sync
    from market.searching.view import register_view_helpers
    from market.security import register_security_headers

    register_db(app)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_security_headers(app)
    register_search(app)
    register_loader(app, load_changes)
    register_sync(app)
    register_view_helpers(app)
    register_notifications(app)
    register_match_events()
    register_matching(app)
    register_context(app)
    register_cli(app)
    outbox.init_app(app)
    mail.init_app(app)
    trade.init_app(app)
    return app
