"""The transactional outbox and the background worker: changes recorded with the change, relayed to
search and matching; scheduled jobs; `flask serve` (the site with its worker)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the worker's commands (`flask outbox …`, `flask serve`)."""
    from market.outbox.cli import outbox_cli, serve_command

    app.cli.add_command(outbox_cli)
    app.cli.add_command(serve_command)
