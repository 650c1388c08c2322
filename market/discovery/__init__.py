"""Related listings and view counts on detail pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """`related_listings()` and `view_count()` for the detail page, and the view recorder."""
    from market.db import db
    from market.discovery import service

    app.jinja_env.globals["related_listings"] = lambda listing: service.related(db(), listing)
    app.jinja_env.globals["view_count"] = lambda listing: service.view_count(db(), listing.kind, listing.id)
    app.jinja_env.globals["record_view"] = service.record_view_of_current_request
