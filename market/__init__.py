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

    from market import (
        accounts,
        admin,
        api,
        challenges,
        cli,
        db,
        deals,
        directory,
        discovery,
        errors,
        events,
        extensions,
        federation,
        financing,
        freshness,
        imports,
        links,
        listings,
        mail,
        main,
        matches,
        media,
        messages,
        notices,
        notifications,
        outbox,
        routing,
        saved,
        searching,
        security,
        stats,
        storage,
        trade,
        verification,
    )

    db.register_db(app)
    extensions.register_extensions(app)
    errors.register_errors(app)
    security.register_security_headers(app)
    routing.init_app(app)
    storage.init_app(app)
    cli.init_app(app)
    # Each feature wires itself (blueprints, commands, outbox handlers, rebuild steps, worker jobs,
    # signal receivers, health probes). The order is the order of the blueprints and rebuild steps.
    for feature in (
        main,
        accounts,
        listings,
        admin,
        api,
        imports,
        searching,
        stats,
        matches,
        deals,
        directory,
        notices,
        financing,
        events,
        notifications,
        mail,
        outbox,
        trade,
        verification,
        federation,
        challenges,
        saved,
        messages,
        media,
        discovery,
        freshness,
    ):
        feature.init_app(app)
    links.init_app(app)
    return app
