"""消息: my threads with unread counts, one match's thread, sending, attachments, reporting."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from market.db import db, write_transaction
from market.errors import DomainError
from market.matches.queries import Row, one
from market.messages import permissions, service
from market.messages.forms import MessageForm, ReportForm
from market.messages.models import Message

bp = Blueprint("messages", __name__)


def _row(match_id: int, *, write: bool = False) -> Row:
    """The match, 404 for anyone who is not a side (or an admin of a reported thread)."""
    session = db()
    row = one(session, match_id)
    if row is None:
        abort(404)
    allowed = (
        permissions.can_write(current_user, row)
        if write
        else permissions.can_read(current_user, row, reported=service.reported(session, match_id))
    )
    if not allowed:
        abort(404)
    return row


@bp.route("/messages")
@login_required
def inbox():
    session = db()
    threads = []
    for match_id, count, unread in service.inbox(session, current_user):
        threads.append((one(session, match_id), count, unread))
    return render_template("messages/inbox.html", threads=threads)


@bp.route("/matches/<int:match_id>/messages")
@login_required
def thread(match_id: int):
    session = db()
    row = _row(match_id)
    items = service.thread(session, match_id)
    writable = permissions.can_write(current_user, row)
    is_reported = service.reported(session, match_id)
    if writable and items:  # a GET that writes the read mark: a short write transaction of its own
        with write_transaction() as write:
            service.mark_read(write, user_id=current_user.id, match_id=match_id)
    return render_template(
        "messages/thread.html",
        row=row,
        items=items,
        form=MessageForm(),
        report=ReportForm(),
        writable=writable,
        reported=is_reported,
    )


@bp.route("/matches/<int:match_id>/messages", methods=["POST"])
@login_required
def send(match_id: int):
    session = db()
    row = _row(match_id, write=True)
    form = MessageForm()
    if not form.validate_on_submit():
        abort(400)
    file = form.attachment.data
    try:
        service.send(
            session,
            actor=current_user,
            row=row,
            body=form.body.data,
            data=file.read() if file else b"",
            name=getattr(file, "filename", None),
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("messages.thread", match_id=match_id)), 303
    flash("已发送", "success")
    return redirect(url_for("messages.thread", match_id=match_id))


@bp.route("/matches/<int:match_id>/messages/<int:message_id>/file")
@login_required
def attachment(match_id: int, message_id: int):
    _row(match_id)
    message = db().get(Message, message_id)
    if message is None or message.match_id != match_id:
        abort(404)
    response = service.download(message)
    if response is None:
        abort(404)
    return response


@bp.route("/matches/<int:match_id>/messages/report", methods=["POST"])
@login_required
def report(match_id: int):
    session = db()
    row = _row(match_id, write=True)
    form = ReportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.report(session, actor=current_user, row=row, reason=form.reason.data)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("messages.thread", match_id=match_id)), 303
    session.commit()
    flash("已举报，平台管理员将查看此对话", "success")
    return redirect(url_for("messages.thread", match_id=match_id))
