"""成果融资: financing requests with a data room, verified investors, NDAs, the investor pipeline."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The financing pages and the `fin_perm` predicates for templates."""
    from market.financing import permissions, routes

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["fin_perm"] = permissions
