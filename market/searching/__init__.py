"""The site's side of full-text search: documents from listings, the engine, the page and the API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The search page and API; the engine (created on first use); the index follows listing changes
    through the outbox, is part of a full rebuild, and the worker rebuilds an index that was lost;
    `flask search …`; the engine's health."""
    from market.health import Probe, register_probe
    from market.outbox.rebuild import register_rebuild_step
    from market.outbox.worker import Job, register_handler, register_job, register_warmup
    from market.searching import cli, routes, sync, view

    app.register_blueprint(routes.bp)
    app.extensions["search.engine"] = None
    view.init_app(app)
    app.cli.add_command(cli.search_cli)
    register_handler(app, sync.search_handler(app))
    register_rebuild_step(app, "搜索索引", sync.reindex_step)
    register_warmup(app, sync.warm)
    every = float(app.config.get("SEARCH_CHECK_SECONDS", 15))
    register_job(app, Job("search-index", every=every, run=sync.keep_index))
    register_probe(
        app, Probe("search", sync.engine_health, lambda d: {"ok": d["ok"], "engine": d.get("engine")})
    )
