"""The harvest feed API, the crosswalk and export, linked records' pages and the partner registry."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from market.accounts.permissions import admin_required
from market.db import db
from market.errors import DomainError, apply_to_form
from market.federation import export, feed, service
from market.federation.crosswalk import ELEMENTS
from market.federation.forms import ActionForm, PartnerForm
from market.federation.models import LinkedRecord, Partner

api_bp = Blueprint("federation_api", __name__, url_prefix="/api/v1")
bp = Blueprint("federation", __name__)


@api_bp.route("/feed")
def feed_page():
    """Published listings changed since `since`, tombstones included, for a partner's token."""
    session = db()
    feed.partner_for(session, request.headers.get("Authorization", ""))
    since, limit = feed.parse_args(request.args)
    response = jsonify(feed.feed_page(session, since=since, limit=limit, site=feed.platform()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/federation/crosswalk")
def crosswalk():
    return render_template("federation/crosswalk.html", elements=ELEMENTS, site=feed.platform())


@bp.route("/federation/export.json")
def export_json():
    site = feed.platform()
    body = {"platform": site, "records": list(export.records(db(), site))}
    return Response(
        json.dumps(body, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=gbt30523-export.json"},
    )


@bp.route("/federation/export.xlsx")
def export_xlsx():
    return Response(
        export.xlsx(db(), feed.platform()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=gbt30523-export.xlsx"},
    )


@bp.route("/linked/<int:record_id>")
def linked(record_id: int):
    """A partner platform's record: linked, with its source and last harvest; no contacts."""
    session = db()
    record = session.get(LinkedRecord, record_id)
    partner = session.get(Partner, record.partner_id) if record is not None else None
    if record is None or record.deleted or partner is None or not partner.enabled:
        abort(404)
    return render_template("federation/linked.html", record=record, partner=partner)


# -- the registry ----------------------------------------------------------------------------------


@bp.route("/admin/partners", methods=["GET", "POST"])
@admin_required
def partners():
    session = db()
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = service.save_partner(
                session,
                name=form.name.data,
                base_url=form.base_url.data,
                prefix=form.prefix.data,
                harvest_token=form.harvest_token.data,
                enabled=form.enabled.data,
            )
            session.commit()
            flash(f"已添加合作平台“{partner.name}”", "success")
            return redirect(url_for("federation.partner", partner_id=partner.id))
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
    return render_template(
        "federation/partners.html",
        rows=service.partners(session),
        form=form,
        site=feed.platform(),
    ), 400 if form.errors or form.form_errors else 200


def _partner(partner_id: int) -> Partner:
    partner = db().get(Partner, partner_id)
    if partner is None:
        abort(404)
    return partner


@bp.route("/admin/partners/<int:partner_id>", methods=["GET", "POST"])
@admin_required
def partner(partner_id: int):
    session = db()
    item = _partner(partner_id)
    form = PartnerForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.harvest_token.data = ""
    if form.validate_on_submit():
        try:
            service.save_partner(
                session,
                partner=item,
                name=form.name.data,
                base_url=form.base_url.data,
                prefix=form.prefix.data,
                harvest_token=form.harvest_token.data,
                enabled=form.enabled.data,
            )
            session.commit()
            flash("已保存", "success")
            return redirect(url_for("federation.partner", partner_id=item.id))
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
    return render_template(
        "federation/partner.html", partner=item, form=form, actions=ActionForm(), token=None
    ), 400 if form.errors or form.form_errors else 200


@bp.route("/admin/partners/<int:partner_id>/token", methods=["POST"])
@admin_required
def issue_token(partner_id: int):
    """Issue (or replace) the partner's token for our feed; shown once on the page answered."""
    session = db()
    item = _partner(partner_id)
    actions = ActionForm()
    if not actions.validate_on_submit():
        abort(400, description="表单已过期，请刷新页面后重试")
    raw = feed.issue_token(session, item)
    session.commit()
    form = PartnerForm(obj=item)
    form.harvest_token.data = ""
    return render_template("federation/partner.html", partner=item, form=form, actions=actions, token=raw)


@bp.route("/admin/partners/<int:partner_id>/harvest", methods=["POST"])
@admin_required
def harvest(partner_id: int):
    session = db()
    item = _partner(partner_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="表单已过期，请刷新页面后重试")
    service.harvest_now(session, item)
    session.commit()
    flash("已安排：后台 worker 将在下一轮采集该平台", "success")
    return redirect(url_for("federation.partner", partner_id=item.id))
