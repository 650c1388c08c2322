"""信息有效期 (freshness against zombie data): every published listing is valid until a day; the owner
is reminded before it lapses and re-confirms in one click; lapsed listings are badged 待更新, rank
lower in search and matching (`conditions`: score × FRESHNESS_MATCH_PENALTY) and leave both after a
grace period; operators read a report by organisation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Settings, the pages, the worker job and the template helpers."""
    from market.freshness import conditions, permissions, routes, rules, service
    from market.outbox.worker import Job, register_job

    for name, value in rules.DEFAULTS.items():
        app.config.setdefault(name, value)
    app.config.setdefault("FRESHNESS_MATCH_PENALTY", conditions.MATCH_PENALTY)
    app.register_blueprint(routes.bp)
    register_job(
        app,
        Job("freshness", every=float(app.config.get("FRESHNESS_CHECK_SECONDS", 3600)), run=service.run_due),
    )
    app.jinja_env.globals.update(freshness_perm=permissions, is_lapsed=rules.is_lapsed)
