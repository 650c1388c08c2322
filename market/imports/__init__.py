"""Bulk import of results and needs from CSV / XLSX, and safe tabular export."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The upload pages and `flask import …`."""
    from market.imports import cli, routes

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.import_cli)
