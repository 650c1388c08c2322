"""Platform operators: review queue, organisation verification and the system page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.admin import routes

    app.register_blueprint(routes.bp)
