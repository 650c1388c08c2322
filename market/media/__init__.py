"""Pictures on listings: up to 6 images per result or need, checked by content, re-encoded without
metadata, with two thumbnail sizes, kept by `market.storage` and shown as a gallery."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The upload, delete and image routes, and `listing_images()` for the detail page's gallery."""
    from market.db import db
    from market.media import routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["listing_images"] = lambda kind, listing_id: service.images(db(), kind, listing_id)
