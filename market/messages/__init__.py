"""Messages on an introduced match: a thread between the two sides, with attachments and unread counts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The thread pages, `msg_perm` for templates, `unread_messages()`, and `unread_badge()` (unread
    notifications and threads, in one query) for the navigation bar."""
    from market.db import db
    from market.messages import permissions, routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["msg_perm"] = permissions
    app.jinja_env.globals["unread_messages"] = lambda: service.unread_for_current_user(db())
    app.jinja_env.globals["unread_badge"] = lambda: service.badge_for_current_user(db())
