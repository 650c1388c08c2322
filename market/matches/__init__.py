"""供需对接: recommended result–need matches and the agents' work on them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The queue and match pages; matches follow listing changes through the outbox, are part of a
    full rebuild, and the worker keeps the store built, refitted and checkpointed; 表达意向 raises
    matches; `flask match …`; the store's state on the system page."""
    from market.health import Probe, register_probe
    from market.matches import cli, engine, permissions, routes, service
    from market.outbox.rebuild import register_rebuild_step
    from market.outbox.worker import Job, register_handler, register_job, register_warmup
    from market.signals import interest_expressed
    from matching.explain import score_level

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.match_cli)
    app.jinja_env.globals["match_perm"] = permissions
    app.jinja_env.filters["score_level"] = score_level
    interest_expressed.connect(service.on_interest)
    register_handler(app, engine.match_handler(app))
    register_rebuild_step(app, "供需匹配", lambda progress: engine.rebuild(app, progress))
    register_job(app, Job("match-store", every=30.0, run=engine.keep_store))
    # every turn of the worker's loop, after the outbox: changes first, then a slice of these
    register_job(app, Job("match-offers", every=0.0, run=engine.make_deferred_offers, on_wake=True))
    register_warmup(app, engine.warm_store)
    register_probe(app, Probe("store", engine.store_health))
    register_probe(app, Probe("ranker", lambda app: {"ok": True, **engine.ranker_status(app)}))
