"""我的收藏, the 收藏 / 关注 toggles, saving a search, changing it, and the one-click unsubscribe."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from market.db import db, write_transaction
from market.errors import DomainError
from market.saved import service
from market.saved.forms import ActionForm, ChangeSearchForm, SaveSearchForm
from market.security import safe_next

bp = Blueprint("saved", __name__)


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


@bp.route("/favourites")
@login_required
def index():
    session = db()
    return render_template(
        "saved/index.html",
        listings=service.favourites(session, current_user.id),
        orgs=service.follows(session, current_user.id),
        searches=service.saved_searches(session, current_user.id),
        action=ActionForm(),
        change=ChangeSearchForm(),
    )


@bp.route("/<kind:kind>/<int:listing_id>/favourite", methods=["POST"])
@login_required
def favourite(kind: str, listing_id: int):
    session = db()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        saved = service.toggle_favourite(session, user=current_user, kind=kind, listing_id=listing_id)
    except DomainError:
        session.rollback()
        abort(404)
    session.commit()
    flash("已收藏" if saved else "已取消收藏", "success")
    return redirect(_back(url_for("listings.detail", kind=kind, listing_id=listing_id)))


@bp.route("/organizations/<int:org_id>/follow", methods=["POST"])
@login_required
def follow(org_id: int):
    session = db()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        following = service.toggle_follow(session, user=current_user, org_id=org_id)
    except DomainError as exc:
        session.rollback()
        if exc.message == "机构不存在":
            abort(404)
        flash(exc.message, "danger")
        return redirect(_back(url_for("saved.index"))), 303
    session.commit()
    flash("已关注该机构" if following else "已取消关注", "success")
    return redirect(_back(url_for("saved.index")))


@bp.route("/saved-searches", methods=["POST"])
@login_required
def save_search():
    session = db()
    form = SaveSearchForm()
    if not form.validate_on_submit():
        abort(400)
    raw = {k: request.form.getlist(k) for k in service.KEPT}
    try:
        search = service.save_search(
            session, user=current_user, raw=raw, name=form.name.data, frequency=form.frequency.data
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("search.page", **{k: v for k, v in raw.items() if v})), 303
    session.commit()
    flash(f"已订阅“{search.name}”：有新发布时站内通知，并按{search.frequency}发邮件汇总", "success")
    return redirect(url_for("saved.index"))


@bp.route("/saved-searches/<int:search_id>", methods=["POST"])
@login_required
def change_search(search_id: int):
    session = db()
    form = ChangeSearchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.change_search(
            session,
            user=current_user,
            search_id=search_id,
            frequency=form.frequency.data,
            delete=request.form.get("delete") == "1",
        )
    except DomainError as exc:
        session.rollback()
        if exc.message == "订阅不存在":
            abort(404)
        flash(exc.message, "danger")
        return redirect(url_for("saved.index")), 303
    session.commit()
    flash("已更新订阅", "success")
    return redirect(url_for("saved.index"))


@bp.route("/saved-searches/unsubscribe/<token>")
def unsubscribe(token: str):
    """One click from the digest mail: no sign-in needed, the signed token is the proof. A GET that
    writes, so in a short write transaction of its own."""
    try:
        with write_transaction() as session:
            name = service.unsubscribe(session, token).name
    except DomainError as exc:
        return render_template("saved/unsubscribed.html", name=None, error=exc.message), 400
    return render_template("saved/unsubscribed.html", name=name, error=None)
