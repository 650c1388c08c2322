"""展示交易: 公示 with 异议, 挂牌 with 意向受让方, 竞价 with a hash-chained bid log, deals, the
成交确认书 and evidence pack, and the registration (技术合同认定登记) of the contracts that follow."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pages and API, `flask trade …`, and the worker job that closes what is due."""
    from market.extensions import csrf
    from market.outbox.worker import Job, register_job
    from market.trade import closing
    from market.trade.cli import trade_cli
    from market.trade.routes import api_bp, bp

    app.config.setdefault("TRADE_PUBLICITY_DAYS", 15)
    app.config.setdefault("TRADE_LISTING_DAYS", 20)
    app.config.setdefault("TRADE_EXTEND_MINUTES", 5)
    app.register_blueprint(bp)
    csrf.exempt(api_bp)  # read-only JSON; the bid form posts to the page blueprint with its CSRF token
    app.register_blueprint(api_bp)
    app.cli.add_command(trade_cli)
    register_job(app, Job("trade-close", every=1.0, run=closing.run_due))
