"""Statistics: contracts, 技术交易额, the conversion funnel, agents."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.stats import routes

    app.register_blueprint(routes.bp)
