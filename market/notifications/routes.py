"""The notification list."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from market.db import db
from market.notifications import service

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    items = service.recent(db(), current_user.id)
    return render_template("notifications/index.html", items=items, form=FlaskForm())


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    if not FlaskForm().validate_on_submit():
        abort(400)
    session = db()
    service.mark_all_read(session, current_user.id)
    session.commit()
    return redirect(url_for("notifications.index"))
