"""京津冀 互联互通: the harvest feed, the partner registry, the puller and partners' linked records."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The feed API and pages; the change log follows listings through the outbox (and is filled
    for older listings by a rebuild step); the worker harvests partners; the search page asks
    `linked_hit(hit)` whether a hit is a partner's record, a listing's matches page
    `linked_matches_for(listing)` for partners' records that match it; agents ask partners for
    introductions, which the worker delivers, and answer those partners ask of us; `flask federation …`."""
    from market.db import db
    from market.extensions import csrf
    from market.federation import cli, feed, harvest, introductions, matching, permissions, routes
    from market.federation.models import LinkedRecord, linked_id_of_doc
    from market.outbox.rebuild import register_rebuild_step
    from market.outbox.worker import Job, register_handler, register_job

    app.register_blueprint(routes.bp)
    csrf.exempt(routes.api_bp)  # read-only JSON behind a partner's bearer token
    app.register_blueprint(routes.api_bp)
    app.cli.add_command(cli.federation_cli)
    register_handler(app, feed.feed_handler(app))
    register_rebuild_step(app, "互联互通目录", cli.backfill_step)
    every = float(app.config.get("FEDERATION_HARVEST_SECONDS", 60))
    register_job(app, Job("federation-harvest", every=every, run=harvest.run_due))
    # introduction requests to partners: delivered when filed (the doorbell), retried with back-off
    intro_every = float(app.config.get("FEDERATION_INTRO_SECONDS", 10))
    register_job(
        app, Job("federation-introductions", every=intro_every, run=introductions.run_due, on_wake=True)
    )

    def linked_hit(hit):
        record_id = linked_id_of_doc(hit.db_id)
        return None if record_id is None else db().get(LinkedRecord, record_id)

    app.jinja_env.globals["linked_hit"] = linked_hit
    for name in ("can_request_introduction", "can_see_outgoing", "can_decide_incoming"):
        app.jinja_env.globals[name] = getattr(permissions, name)
    app.jinja_env.globals["linked_matches_for"] = lambda listing: matching.linked_matches(app, db(), listing)
