"""收藏与订阅: favourite listings, followed organisations, saved searches with alerts and mail digests."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The 我的收藏 page and toggles, saved searches, the alert and digest worker jobs, and the
    `saved_state` / `favourite_count` template globals."""
    from market.db import db
    from market.outbox.worker import Job, register_job
    from market.saved import alerts, routes, service

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["saved_state"] = lambda kind, listing: service.state_for_current_user(
        db(), kind, listing
    )
    app.jinja_env.globals["favourite_count"] = lambda kind, listing_id: service.favourite_count(
        db(), kind, listing_id
    )
    every = float(app.config.get("ALERT_CHECK_SECONDS", 60))
    register_job(app, Job("saved-search-alerts", every=every, run=alerts.run_alerts))
    register_job(app, Job("saved-search-digests", every=every, run=alerts.run_digests))
