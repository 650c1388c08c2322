"""Events (路演, 对接会): registration and admission, the pitch track, scheduled 1:1 meetings."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The event pages and the `event_perm` predicates for templates."""
    from market.events import permissions, routes

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["event_perm"] = permissions
