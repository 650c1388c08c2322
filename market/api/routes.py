"""Read API for published listings: /api/v1/results, /api/v1/needs."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from market.accounts.models import Organization
from market.db import db
from market.extensions import csrf
from market.listings import permissions as perm
from market.listings import queries
from market.listings.schemas_out import listing_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token-authenticated JSON; session cookies are SameSite=Lax and forms keep CSRF

PLURAL = {"results": "result", "needs": "need"}


def _kind(kinds: str) -> str:
    if kinds not in PLURAL:
        abort(404)
    return PLURAL[kinds]


@bp.route("/<kinds>")
def listings(kinds: str):
    """Published listings with the showcase filters and pagination."""
    kind = _kind(kinds)
    filters = queries.Filters.parse(request.args, strict=True)
    page = queries.published_page(db(), kind, filters)
    return jsonify(
        {
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
            "items": [listing_json(listing, org) for listing, org in page.items],
        }
    )


@bp.route("/<kinds>/<int:listing_id>")
def listing(kinds: str, listing_id: int):
    """One listing; drafts, pending and withdrawn listings are 404 to everyone but owners and admins."""
    session = db()
    item = perm.load_listing(session, _kind(kinds), listing_id, current_user)
    return jsonify(listing_json(item, session.get(Organization, item.organization_id)))
