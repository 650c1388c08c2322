"""成果融资: financing requests with a data room, verified investors, NDAs, the investor pipeline."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The financing pages, the `fin_perm` predicates for templates, financing figures for the stats page."""
    from market.db import db
    from market.financing import permissions, queries, routes

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["fin_perm"] = permissions
    # the statistics page shows financing when this feature is installed (stats never imports it)
    app.jinja_env.globals["financing_stats"] = lambda: queries.statistics(db())
