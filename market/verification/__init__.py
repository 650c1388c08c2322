"""Organisation verification (机构认证): 统一社会信用代码, a certificate, the operators' queue."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The members' application page, the help page, the administrators' queue; the predicates as
    Jinja globals."""
    from market.verification import permissions, routes

    app.register_blueprint(routes.bp)
    app.jinja_env.globals.update(
        can_apply_for_verification=permissions.can_apply,
        can_decide_verification=permissions.can_decide,
    )
