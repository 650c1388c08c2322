"""Messages on an introduced match: a thread between the two sides, with attachments and unread counts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The thread pages, `msg_perm` for templates, and `unread_messages()` for the navigation."""
    from market.db import db
    from market.messages import permissions, routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["msg_perm"] = permissions
    app.jinja_env.globals["unread_messages"] = lambda: service.unread_for_current_user(db())
