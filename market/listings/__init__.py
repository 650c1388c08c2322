"""科技成果库 and 企业技术需求库: listings, their lifecycle, showcase, import and read API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The showcase and the owners' pages; the outbox reads changed listings through `load_changes`;
    templates ask `listing_perm.can_…` rather than re-deriving who may do what, and `field_label(name)`
    for a field's name."""
    from market.listings import labels, permissions, routes, service
    from market.outbox.worker import register_loader

    app.register_blueprint(routes.bp)
    register_loader(app, service.load_changes)
    app.jinja_env.globals["listing_perm"] = permissions
    app.jinja_env.globals["field_label"] = labels.label
