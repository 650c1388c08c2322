"""Home page, health check and the template context."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The home page and /healthz; the navigation and role labels every template uses."""
    from market.main import context, routes

    app.register_blueprint(routes.bp)
    context.init_app(app)
