"""公告 / 政策: the public list and detail pages, attachments, and the administrators' editor."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from market.accounts.permissions import admin_required
from market.db import db
from market.errors import DomainError, apply_to_form
from market.notices import service
from market.notices.forms import ActionForm, AttachmentForm, NoticeForm
from market.notices.markdown import render
from market.notices.models import Notice, NoticeAttachment

bp = Blueprint("notices", __name__)


def _page_arg() -> int:
    raw = (request.args.get("page") or "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400, description="页码（参数 page）应为 1 到 100000 之间的整数")
    return int(raw)


@bp.route("/notices")
def index():
    kind = (request.args.get("kind") or "").strip() or None
    if kind and kind not in service.KINDS:
        abort(400, description="类型（参数 kind）应为“公告”或“政策”")
    page = _page_arg()
    rows, total = service.published(db(), page=page, kind=kind)
    return render_template(
        "notices/index.html", rows=rows, total=total, page=page, per_page=service.PER_PAGE, kind=kind
    )


def _load(notice_id: int) -> Notice:
    notice = db().get(Notice, notice_id)
    if notice is None or not service.can_read(current_user, notice):
        abort(404)
    return notice


@bp.route("/notices/<int:notice_id>")
def detail(notice_id: int):
    notice = _load(notice_id)
    return render_template(
        "notices/detail.html",
        notice=notice,
        body=render(notice.body_md),
        attachments=service.attachments(db(), notice.id),
    )


@bp.route("/notices/<int:notice_id>/files/<int:file_id>")
def attachment(notice_id: int, file_id: int):
    notice = _load(notice_id)
    att = db().get(NoticeAttachment, file_id)
    if att is None or att.notice_id != notice.id:
        abort(404)
    response = service.download(att)
    if response is None:
        abort(404)
    return response


@bp.route("/admin/notices")
@admin_required
def manage():
    return render_template("notices/manage.html", rows=service.everything(db()), form=ActionForm())


@bp.route("/admin/notices/new", methods=["GET", "POST"])
@admin_required
def create():
    return _edit(None)


@bp.route("/admin/notices/<int:notice_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(notice_id: int):
    notice = db().get(Notice, notice_id)
    if notice is None:
        abort(404)
    return _edit(notice)


def _edit(notice: Notice | None):
    session = db()
    form = NoticeForm(obj=notice)
    status = 200
    if form.validate_on_submit():
        try:
            saved = service.save(
                session,
                actor=current_user,
                notice=notice,
                kind=form.kind.data,
                title=form.title.data,
                body_md=form.body_md.data,
                issued_on=form.issued_on.data,
            )
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
            status = 400
        else:
            session.commit()
            flash("已保存" + ("" if saved.status == service.PUBLISHED else "（尚未发布）"), "success")
            return redirect(url_for("notices.edit", notice_id=saved.id))
    elif request.method == "POST":
        status = 400
    files = service.attachments(session, notice.id) if notice else []
    return render_template(
        "notices/edit.html",
        form=form,
        notice=notice,
        files=files,
        upload=AttachmentForm(),
        actions=ActionForm(),
        preview=render(notice.body_md) if notice else None,
    ), status


@bp.route("/admin/notices/<int:notice_id>/files", methods=["POST"])
@admin_required
def upload(notice_id: int):
    session = db()
    notice = session.get(Notice, notice_id)
    if notice is None:
        abort(404)
    form = AttachmentForm()
    if not form.validate_on_submit():
        abort(400)
    file = form.attachment.data
    try:
        service.attach(
            session,
            actor=current_user,
            notice=notice,
            data=file.read() if file else b"",
            name=getattr(file, "filename", None),
        )
        session.commit()  # the file moves into place only now
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("notices.edit", notice_id=notice_id)), 303
    flash("附件已上传", "success")
    return redirect(url_for("notices.edit", notice_id=notice_id))


@bp.route("/admin/notices/<int:notice_id>/<any(publish, withdraw):action>", methods=["POST"])
@admin_required
def act(notice_id: int, action: str):
    session = db()
    notice = session.get(Notice, notice_id)
    if notice is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.move(session, actor=current_user, notice=notice, action=action)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("notices.manage")), 303
    session.commit()
    flash("已发布" if action == "publish" else "已撤回，公众不再能看到该公告", "success")
    return redirect(url_for("notices.manage"))
