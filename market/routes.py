"""Blueprint registration, in one place."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_DB_ID = 2**31 - 1  # PostgreSQL integer primary keys


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that never matches a number the database cannot hold (404, not a 500)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    from market.accounts.routes import bp as accounts_bp
    from market.admin.routes import bp as admin_bp
    from market.api.routes import bp as api_bp
    from market.deals.routes import bp as deals_bp
    from market.imports.routes import bp as imports_bp
    from market.listings.routes import bp as listings_bp
    from market.main.routes import bp as main_bp
    from market.matches.routes import bp as matches_bp
    from market.notifications.routes import bp as notifications_bp
    from market.searching.routes import bp as search_bp
    from market.stats.routes import bp as stats_bp

    for bp in (
        main_bp,
        accounts_bp,
        listings_bp,
        admin_bp,
        api_bp,
        imports_bp,
        search_bp,
        stats_bp,
        matches_bp,
        deals_bp,
        notifications_bp,
    ):
        app.register_blueprint(bp)
