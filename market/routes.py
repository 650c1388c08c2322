"""Blueprint registration, in one place."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
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
