"""技术转移机构 and 技术经纪人 directories: profiles, track records counted from the platform's own
matches and contracts, certificates checked by administrators, and 请经纪人 requests."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The directory pages; `dir_perm` for templates; waiting 请经纪人 requests as a section of the
    brokers' queue."""
    from market.directory import asks, permissions, routes
    from market.matches.sections import QueueSection, register_queue_section

    app.register_blueprint(routes.bp)
    app.jinja_env.globals["dir_perm"] = permissions
    app.jinja_env.globals["request_decline_reasons"] = asks.DECLINE_REASONS
    register_queue_section(app, QueueSection("请经纪人", "directory/_queue_section.html", asks.queue_section))
