"""Review queue (审核) and organisation verification (机构认证)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import func, select

from market import health, links
from market.accounts import service as accounts
from market.accounts.models import Organization, User
from market.accounts.permissions import admin_required
from market.db import db
from market.errors import DomainError
from market.listings import fields as field_suggestions
from market.listings import permissions as perm
from market.listings import queries, service
from market.listings.forms import ReasonForm
from market.listings.models import KINDS, ListingRevision
from market.notifications.service import notify
from vocab.taxonomy import ListingStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/review")
@admin_required
def review():
    session = db()
    rows = queries.pending(session)
    inferred = _inferred_fields(session)
    model = field_suggestions.classifier(session) if inferred else None
    suggestions = {
        (listing.kind, listing.id): model.suggest(field_suggestions.text_of(listing))
        for listing, _ in inferred
    }
    return render_template(
        "admin/review.html",
        rows=rows,
        revisions=service.pending_revisions(session),
        inferred=inferred,
        suggestions=suggestions,
        form=ReasonForm(),
    )


#: inferred fields shown for confirmation at once
INFERRED_PAGE = 30


def _inferred_fields(session) -> list:
    """Listings whose field the system inferred (系统推断), least confident first."""
    out = []
    for model in KINDS.values():
        out.extend(
            session.exec(
                select(model, Organization)
                .join(Organization, Organization.id == model.organization_id)
                .where(model.field_inferred, model.status != ListingStatus.CLOSED)
                .order_by(model.field_confidence.asc().nulls_first(), model.id)
                .limit(INFERRED_PAGE)
            ).all()
        )
    return sorted(out, key=lambda row: (row[0].field_confidence or 0.0, row[0].kind, row[0].id))[
        :INFERRED_PAGE
    ]


@bp.route("/fields/<kind:kind>/<int:listing_id>", methods=["POST"])
@admin_required
def confirm_field(kind: str, listing_id: int):
    """One click: confirm the inferred field, or take another one."""
    session = db()
    listing = perm.load_listing(session, kind, listing_id, current_user)
    if not ReasonForm().validate_on_submit():
        abort(400)
    try:
        service.confirm_field(
            session, actor=current_user, listing=listing, field=request.form.get("field", "")
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
    else:
        session.commit()
        flash(f"已确认技术领域：{listing.title} → {listing.field}", "success")
    return redirect(url_for("admin.review"))


@bp.route("/review/<kind:kind>/<int:listing_id>", methods=["POST"])
@admin_required
def decide(kind: str, listing_id: int):
    session = db()
    listing = perm.load_listing(session, kind, listing_id, current_user, need=perm.can_review)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    decision = request.form.get("decision")
    try:
        if decision == "approve":
            service.approve(session, actor=current_user, listing=listing)
            message = f"已发布：{listing.title}"
        elif decision == "reject":
            service.reject(session, actor=current_user, listing=listing, reason=form.reason.data or "")
            message = f"已退回修改：{listing.title}"
        else:
            abort(400)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
    else:
        session.commit()
        flash(message, "success")
    return redirect(url_for("admin.review"))


@bp.route("/revisions/<int:revision_id>", methods=["POST"])
@admin_required
def decide_revision(revision_id: int):
    """Accept or return a material edit of a published listing."""
    session = db()
    session.get(ListingRevision, revision_id) or abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    decision = request.form.get("decision")
    try:
        if decision == "approve":
            listing = service.approve_revision(session, actor=current_user, revision_id=revision_id)
            message = f"修改已通过：{listing.title}"
        elif decision == "reject":
            listing = service.reject_revision(
                session, actor=current_user, revision_id=revision_id, reason=form.reason.data or ""
            )
            message = f"修改已退回：{listing.title}"
        else:
            abort(400)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
    else:
        session.commit()
        flash(message, "success")
    return redirect(url_for("admin.review"))


@bp.route("/organizations")
@admin_required
def organizations():
    session = db()
    show = request.args.get("show", "unverified")
    stmt = select(Organization, func.count(User.id)).join(
        User, User.organization_id == Organization.id, isouter=True
    )
    if show == "unverified":
        stmt = stmt.where(Organization.verified.is_(False))
    rows = session.exec(stmt.group_by(Organization.id).order_by(Organization.created_at.desc())).all()
    return render_template(
        "admin/organizations.html",
        rows=rows,
        show=show,
        form=ReasonForm(),
        pending=accounts.pending_members(session),
    )


@bp.route("/members/<int:user_id>", methods=["POST"])
@admin_required
def decide_member(user_id: int):
    """Approve or refuse a request to join an existing organisation."""
    session = db()
    user = session.get(User, user_id) or abort(404)
    if not ReasonForm().validate_on_submit():
        abort(400)
    approve = request.form.get("decision") == "approve"
    try:
        accounts.decide_membership(session, user=user, approve=approve)
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("admin.organizations"))
    notify(
        session,
        user_ids=[user.id],
        message="您加入机构的申请已通过" if approve else "您加入机构的申请未通过，请联系平台运营",
        link=links.account(),
    )
    session.commit()
    flash(f"{user.display_name}：{'已加入机构' if approve else '已拒绝加入'}", "success")
    return redirect(url_for("admin.organizations"))


@bp.route("/organizations/<int:org_id>/verify", methods=["POST"])
@admin_required
def verify(org_id: int):
    session = db()
    org = session.get(Organization, org_id) or abort(404)
    if not ReasonForm().validate_on_submit():
        abort(400)
    verified = request.form.get("verified", "1") == "1"
    accounts.set_verified(session, org=org, verified=verified)
    session.commit()
    flash(f"{org.name}：{'已认证' if verified else '已取消认证'}", "success")
    return redirect(url_for("admin.organizations", show=request.args.get("show", "unverified")))


@bp.route("/system")
@admin_required
def system():
    """The parts the site stands on: database, search index, match store, background worker."""
    return render_template("admin/system.html", **health.details())
