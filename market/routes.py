"""Blueprint registration, in one place."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from market.accounts.routes import bp as accounts_bp
    from market.main.routes import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
