"""揭榜挂帅 as a process: 张榜 → 揭榜 → 评审 → 签约, on needs that carry the 揭榜挂帅 flag."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The board, challenge and applicant pages, `challenge_perm` for templates, and the worker job
    that closes challenges at their deadline."""
    from market.challenges import closing, permissions, routes
    from market.outbox.worker import Job, register_job

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["challenge_perm"] = permissions
    register_job(app, Job("challenge-close", every=30.0, run=closing.run_due))
