"""公告 / 政策: notices and policy summaries from the platform, in safe Markdown, with attachments."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The public and admin notice pages; `latest_notices()` for the home page."""
    from market.db import db
    from market.notices import routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["latest_notices"] = lambda n=5: service.latest(db(), n)
