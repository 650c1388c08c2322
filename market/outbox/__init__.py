"""The transactional outbox and the background worker: changes recorded with the change, relayed to
search and matching; scheduled jobs; `flask serve` (the site with its worker)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """`flask outbox …`, `flask serve`, and the worker's health."""
    from market.health import Probe, register_probe
    from market.outbox import worker
    from market.outbox.cli import outbox_cli, serve_command

    app.cli.add_command(outbox_cli)
    app.cli.add_command(serve_command)
    public = lambda d: {"ok": d["ok"], "backlog": d.get("backlog", {}).get("due")}  # noqa: E731
    register_probe(app, Probe("worker", worker.health, public))
