"""技术合同: contracts signed through matches."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.deals import routes

    app.register_blueprint(routes.bp)
