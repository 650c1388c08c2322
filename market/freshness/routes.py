"""Re-confirming a listing (one click, CSRF-checked) and the operators' stale-listings report."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from market.accounts.models import Organization
from market.accounts.permissions import admin_required
from market.db import db
from market.errors import DomainError
from market.freshness import permissions as perm
from market.freshness import rules, service
from market.listings import permissions as listing_perm
from market.listings.forms import ReasonForm
from market.security import safe_next

bp = Blueprint("freshness", __name__)


@bp.route("/<kind:kind>/<int:listing_id>/reconfirm", methods=["POST"])
@login_required
def reconfirm(kind: str, listing_id: int):
    session = db()
    listing = listing_perm.load_listing(session, kind, listing_id, current_user, need=perm.can_reconfirm)
    if not ReasonForm().validate_on_submit():
        abort(400)
    back = url_for("listings.detail", kind=kind, listing_id=listing_id)
    try:
        service.reconfirm(session, actor=current_user, listing=listing)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
    else:
        session.commit()
        flash(f"已确认仍有效，有效期延至 {listing.valid_until}", "success")
    return redirect(safe_next(request.form.get("back"), back))


@bp.route("/admin/stale")
@admin_required
def report():
    session = db()
    rows = service.stale_report(session)
    org_id = request.args.get("org", type=int)
    org = session.get(Organization, org_id) if org_id else None
    listings = service.stale_listings(session, org.id) if org else []
    return render_template(
        "freshness/report.html",
        rows=rows,
        org=org,
        listings=listings,
        remind_days=rules.setting("FRESHNESS_REMIND_DAYS"),
        grace_days=rules.setting("FRESHNESS_GRACE_DAYS"),
        stage=rules.stage,
        labels=rules.LABELS,
    )
