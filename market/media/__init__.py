"""Pictures and PDF attachments on listings: up to 6 images per result or need, checked by content,
re-encoded without metadata, with two thumbnail sizes, shown as a gallery; and up to LISTING_FILES_MAX
PDFs (checked by content with pypdf), shown as a list of downloads. All kept by `market.storage`."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The upload, delete, image and download routes; `listing_images()` and `listing_files()` for the
    detail page."""
    from market.db import db
    from market.media import attachments, routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["listing_images"] = lambda kind, listing_id: service.images(db(), kind, listing_id)
    app.jinja_env.globals["listing_files"] = lambda kind, listing_id: attachments.files(
        db(), kind, listing_id
    )
    app.jinja_env.globals["listing_files_max"] = attachments.max_files
    app.jinja_env.globals["listing_file_max_bytes"] = attachments.max_bytes
    app.jinja_env.filters["file_size"] = attachments.human_size
