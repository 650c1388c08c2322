"""In-site notifications, with an optional e-mail hook."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The notifications page, and the unread count every page shows."""
    from market.notifications import routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["unread_notifications"] = service.unread_for_current_user
