"""Members apply for verification; administrators work the queue (search, filters, confirm, reason)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from market.accounts.models import Organization, User
from market.accounts.permissions import admin_required
from market.db import db
from market.errors import DomainError, apply_to_form
from market.storage import storage
from market.verification import permissions as perm
from market.verification import service
from market.verification.forms import STATUS_CHOICES, ApplyForm, DecideForm
from market.verification.models import PENDING, OrgVerification
from vocab.taxonomy import OrgKind, values

bp = Blueprint("verification", __name__)


@bp.route("/help/verification")
def help_page():
    return render_template("verification/help.html", contact=current_app.config.get("OPERATOR_CONTACT") or "")


@bp.route("/verification", methods=["GET", "POST"])
@login_required
def apply():
    if not perm.can_apply(current_user):
        abort(404)
    session = db()
    org = session.get(Organization, current_user.organization_id)
    form = ApplyForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            upload = form.document.data
            data = upload.read(service.MAX_DOCUMENT_BYTES + 1) if upload else b""
            try:
                service.apply(
                    session,
                    actor=current_user,
                    credit_code=form.credit_code.data,
                    document_kind=form.document_kind.data,
                    name=getattr(upload, "filename", None),
                    data=data,
                )
            except DomainError as exc:
                session.rollback()
                apply_to_form(form, exc)
                status = exc.status if exc.status in (403, 409) else 400
            else:
                session.commit()
                flash("认证申请已提交，平台运营审核后会通知您（站内通知和邮件）", "success")
                return redirect(url_for("verification.apply"))
        else:
            status = 400
    return render_template(
        "verification/apply.html",
        form=form,
        org=org,
        latest=service.latest(session, org.id),
        open_request=service.open_request(session, org.id),
        max_mb=service.MAX_DOCUMENT_BYTES // 1024 // 1024,
    ), status


@bp.route("/admin/verifications")
@admin_required
def queue():
    session = db()
    filters = service.QueueFilters.parse(request.args)
    return render_template(
        "verification/queue.html",
        rows=service.queue(session, filters),
        filters=filters,
        counts=service.counts(session),
        statuses=STATUS_CHOICES,
        kinds=values(OrgKind),
        limit=service.QUEUE_LIMIT,
    )


def _load(request_id: int) -> OrgVerification:
    return db().get(OrgVerification, request_id) or abort(404)


def _review_page(row: OrgVerification, form: DecideForm, status: int = 200):
    session = db()
    org = session.get(Organization, row.organization_id)
    history = service.history(session, org.id)
    return render_template(
        "verification/review.html",
        row=row,
        org=org,
        applicant=session.get(User, row.submitted_by_id),
        decided_by=session.get(User, row.decided_by_id) if row.decided_by_id else None,
        history=history,
        form=form,
    ), status


@bp.route("/admin/verifications/<int:request_id>")
@admin_required
def review(request_id: int):
    return _review_page(_load(request_id), DecideForm())


@bp.route("/admin/verifications/<int:request_id>/document")
@admin_required
def document(request_id: int):
    row = _load(request_id)
    response = storage().response(
        row.document_key, mimetype=row.document_mimetype, download_name=row.document_name
    )
    return response or abort(404)


@bp.route("/admin/verifications/<int:request_id>/decide", methods=["POST"])
@admin_required
def decide(request_id: int):
    """First post: the confirmation page (nothing changes); with confirmed=1: the decision."""
    session = db()
    row = _load(request_id)
    form = DecideForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "refuse"):
        return _review_page(row, form, 400)
    approve = form.decision.data == "approve"
    reason = " ".join((form.reason.data or "").split())
    if row.status != PENDING:
        form.form_errors.append(f"该申请已处理（{row.status}），不能重复审核")
        return _review_page(row, form, 409)
    if not approve and len(reason) < service.MIN_REASON:
        form.reason.errors = [f"不通过时请写明原因（至少 {service.MIN_REASON} 个字），申请人将看到它"]
        return _review_page(row, form, 400)
    if form.confirmed.data != "1":
        org = session.get(Organization, row.organization_id)
        return render_template(
            "verification/confirm.html", row=row, org=org, form=form, approve=approve, reason=reason
        )
    try:
        service.decide(session, actor=current_user, request=row, approve=approve, reason=reason)
    except DomainError as exc:
        session.rollback()
        apply_to_form(form, exc)
        return _review_page(row, form, 409 if exc.status == 409 else 400)
    session.commit()
    org = session.get(Organization, row.organization_id)
    flash(f"{org.name}：{'已通过认证' if approve else '认证未通过，已通知申请机构'}", "success")
    return redirect(url_for("verification.queue"))
