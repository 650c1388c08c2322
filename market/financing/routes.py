"""成果融资 pages: the showcase, a request's page, editing, review, the data room, the investor desk."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from market.accounts.models import Organization
from market.accounts.permissions import admin_required
from market.db import db, write_transaction
from market.errors import ConflictError, DomainError, apply_to_form
from market.financing import permissions as perm
from market.financing import pipeline, queries, service
from market.financing.forms import FileForm, FinancingForm, NdaForm, PipelineForm, ProfileForm, ReasonForm
from market.financing.models import FinancingRequest
from market.listings.models import ResearchResult
from vocab.taxonomy import FIELDS, FinancingStage, ListingStatus, Role, values

bp = Blueprint("financing", __name__)


def _load(request_id: int) -> FinancingRequest:
    row = db().get(FinancingRequest, request_id)
    if row is None or not perm.can_view(current_user, row):
        abort(404)
    return row


def _ip() -> str | None:
    return request.remote_addr


@bp.route("/financing")
def index():
    stage = request.args.get("stage") or None
    field = request.args.get("field") or None
    rows = service.published(db(), stage=stage if stage in values(FinancingStage) else None, field=field)
    return render_template(
        "financing/index.html", rows=rows, stages=values(FinancingStage), fields=FIELDS, stage=stage
    )


@bp.route("/financing/mine")
@login_required
def mine():
    if not perm.can_create(current_user):
        abort(403)
    return render_template("financing/mine.html", rows=service.mine(db(), current_user))


def _result_choices(org_id: int):
    rows = (
        db()
        .exec(
            select(ResearchResult.id, ResearchResult.title)
            .where(ResearchResult.organization_id == org_id)
            .order_by(ResearchResult.id.desc())
            .limit(200)
        )
        .all()
    )
    return [(rid, title) for rid, title in rows]


@bp.route("/financing/new", methods=["GET", "POST"])
@login_required
def create():
    if not perm.can_create(current_user):
        abort(403)
    form = FinancingForm()
    form.result_ids.choices = _result_choices(current_user.organization_id)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            row = service.create_request(db(), actor=current_user, data=form.data)
        except DomainError as exc:
            db().rollback()
            apply_to_form(form, exc)
        else:
            db().commit()
            flash("融资需求已保存为草稿；上传数据室资料后提交审核", "success")
            return redirect(url_for("financing.detail", request_id=row.id))
    return render_template("financing/edit.html", form=form, row=None)


@bp.route("/financing/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request_id: int):
    row = _load(request_id)
    if not perm.can_edit(current_user, row):
        abort(403)
    form = FinancingForm(obj=row if request.method == "GET" else None)
    form.result_ids.choices = _result_choices(row.organization_id)
    if request.method == "GET":
        form.version.data = row.version
    else:
        if not form.validate_on_submit():
            abort(400)
        try:
            version = int(form.version.data) if form.version.data else None
        except ValueError:
            version = None
        try:
            service.update_request(db(), actor=current_user, request=row, data=form.data, version=version)
        except ConflictError as exc:
            db().rollback()
            form.form_errors.append(exc.message)
            return render_template("financing/edit.html", form=form, row=row), 409
        except DomainError as exc:
            db().rollback()
            apply_to_form(form, exc)
        else:
            db().commit()
            flash("已保存", "success")
            return redirect(url_for("financing.detail", request_id=row.id))
    return render_template("financing/edit.html", form=form, row=row)


@bp.route("/financing/<int:request_id>")
def detail(request_id: int):
    session = db()
    row = _load(request_id)
    org = session.get(Organization, row.organization_id)
    owner = perm.is_owner(current_user, row)
    investor = perm.verified_investor(session, current_user)
    entry = pipeline.entry_for(session, row.id, investor.id) if investor else None
    results = [session.get(ResearchResult, rid) for rid in row.result_ids or []]
    return render_template(
        "financing/detail.html",
        row=row,
        org=org,
        owner=owner,
        investor=investor,
        entry=entry,
        entry_steps=pipeline.steps(session, entry) if entry else [],
        actions=pipeline.actions_from(entry.state if entry else None) if investor else [],
        labels=pipeline.LABELS,
        results=[r for r in results if r is not None and (owner or r.status == ListingStatus.PUBLISHED)],
        files=service.files_of(session, row) if owner else [],
        followers=pipeline.investors_on(session, row) if owner else [],
        recommended=queries.recommended_investors(session, row) if owner else [],
        room_open=perm.can_open_data_room(session, current_user, row),
        may_accept=perm.may_accept_nda(session, current_user, row),
        nda_hash=perm.nda_hash(row.nda_text),
        reason_form=ReasonForm(),
        file_form=FileForm(),
        nda_form=NdaForm(),
        pipeline_form=PipelineForm(),
        unverified_investor=getattr(current_user, "role", None) == Role.INVESTOR and investor is None,
    )


def _post(request_id: int, run, done: str):
    session = db()
    row = _load(request_id)
    if not ReasonForm().validate_on_submit():
        abort(400)
    try:
        run(session, row)
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            abort(403, description=exc.message)
        flash(exc.message, "danger")
        return redirect(url_for("financing.detail", request_id=request_id)), 303
    session.commit()
    flash(done, "success")
    return redirect(url_for("financing.detail", request_id=request_id))


_DONE = {
    "submit": "已提交审核",
    "approve": "已通过审核并发布",
    "reject": "已退回修改",
    "withdraw": "已下架",
    "close": "已标记为融资完成",
}


@bp.route(
    "/financing/<int:request_id>/<any(submit, approve, reject, withdraw, close):action>", methods=["POST"]
)
@login_required
def act(request_id: int, action: str):
    return _post(
        request_id,
        lambda s, row: service.move(
            s, actor=current_user, request=row, action=action, reason=request.form.get("reason")
        ),
        _DONE[action],
    )


@bp.route("/financing/<int:request_id>/files", methods=["POST"])
@login_required
def upload(request_id: int):
    row = _load(request_id)
    if not perm.is_owner(current_user, row):
        abort(403)
    form = FileForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", None):
        flash("请选择要上传的文件", "danger")
        return redirect(url_for("financing.detail", request_id=request_id)), 303
    data = upload.read(service.MAX_FILE_BYTES + 1)
    return _post(
        request_id,
        lambda s, r: service.add_file(
            s, actor=current_user, request=r, name=upload.filename, category=form.category.data, data=data
        ),
        "文件已加入数据室",
    )


@bp.route("/financing/<int:request_id>/nda", methods=["POST"])
@login_required
def accept_nda(request_id: int):
    form = NdaForm()
    return _post(
        request_id,
        lambda s, row: service.accept_nda(
            s, actor=current_user, request=row, text_hash=form.text_hash.data or "", ip=_ip()
        ),
        "已接受保密协议，数据室已开放",
    )


@bp.route("/financing/<int:request_id>/dataroom")
@login_required
def data_room(request_id: int):
    session = db()
    row = _load(request_id)
    if not perm.can_open_data_room(session, current_user, row):
        abort(403, description="数据室仅对签署保密协议的认证投资机构开放")
    files = service.files_of(session, row)
    with write_transaction() as writing:
        service.log_view(writing, actor=current_user, request=row, file=None, ip=_ip())
    return render_template("financing/data_room.html", row=row, files=files)


@bp.route("/financing/<int:request_id>/files/<int:file_id>")
@login_required
def download(request_id: int, file_id: int):
    row = _load(request_id)
    if not perm.can_open_data_room(db(), current_user, row):
        abort(403, description="数据室仅对签署保密协议的认证投资机构开放")
    try:
        with write_transaction() as writing:
            response = service.open_file(writing, actor=current_user, request=row, file_id=file_id, ip=_ip())
    except DomainError:
        abort(404)
    if response is None:
        abort(404)
    return response


@bp.route("/financing/<int:request_id>/views")
@login_required
def views(request_id: int):
    session = db()
    row = _load(request_id)
    if not perm.is_owner(current_user, row):
        abort(403)
    return render_template(
        "financing/views.html",
        row=row,
        views=service.views_of(session, row),
        ndas=service.ndas_of(session, row),
    )


@bp.route(
    "/financing/<int:request_id>/pipeline/<any(watch, diligence, intent, invest, drop):action>",
    methods=["POST"],
)
@login_required
def pipeline_move(request_id: int, action: str):
    form = PipelineForm()
    if not form.validate_on_submit():
        flash("日期格式不正确", "danger")
        return redirect(url_for("financing.detail", request_id=request_id)), 303
    return _post(
        request_id,
        lambda s, row: pipeline.move(
            s, actor=current_user, request=row, action=action, note=form.note.data, on_date=form.on_date.data
        ),
        f"已记录：{pipeline.LABELS[action]}",
    )


@bp.route("/financing/review")
@admin_required
def review():
    return render_template("financing/review.html", rows=service.pending_review(db()), form=ReasonForm())


@bp.route("/investor", methods=["GET", "POST"])
@login_required
def investor_desk():
    if current_user.role != Role.INVESTOR:
        abort(403)
    session = db()
    org = session.get(Organization, current_user.organization_id)
    profile = service.profile_of(session, org.id)
    form = ProfileForm(obj=profile if request.method == "GET" else None)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            profile = service.save_profile(session, actor=current_user, data=form.data)
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
        else:
            session.commit()
            flash("投资偏好已保存", "success")
            return redirect(url_for("financing.investor_desk"))
    return render_template(
        "financing/investor.html",
        org=org,
        form=form,
        profile=profile,
        recommended=queries.recommended_requests(session, profile) if org.verified else [],
        board=pipeline.board(session, org.id) if org.verified else {},
    )
