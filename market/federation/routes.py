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
from flask_login import current_user, login_required

from market.accounts.permissions import admin_required
from market.api.routes import json_body
from market.db import db
from market.errors import DomainError, apply_to_form
from market.federation import export, feed, introductions, service
from market.federation import permissions as perm
from market.federation.crosswalk import ELEMENTS
from market.federation.forms import ActionForm, DecisionForm, IntroductionForm, PartnerForm
from market.federation.introductions import IntroError
from market.federation.models import IncomingIntroduction, LinkedRecord, Partner
from market.listings.models import KINDS

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


@api_bp.route("/federation/introductions", methods=["POST"])
def receive_introduction():
    """A partner platform asks us to introduce one of our published listings (idempotent by its
    request_id: a repeated delivery answers 200 with the request as it stands)."""
    session = db()
    partner = feed.partner_for(session, request.headers.get("Authorization", ""))
    body = json_body()
    row, created = introductions.receive(session, partner, body, prefix=feed.platform()["prefix"])
    session.commit()
    response = jsonify(introductions.incoming_json(row))
    response.headers["Cache-Control"] = "no-store"
    return response, 201 if created else 200


@api_bp.route("/federation/introductions/<request_id>")
def introduction_status(request_id: str):
    """Where a request the partner delivered stands (the sender polls this for the answer)."""
    session = db()
    partner = feed.partner_for(session, request.headers.get("Authorization", ""))
    row = introductions.existing(session, partner, request_id[:40])
    if row is None:
        raise IntroError(404, ("request_id", "该合作平台没有这个编号的引荐申请"))
    response = jsonify(introductions.incoming_json(row))
    response.headers["Cache-Control"] = "no-store"
    return response


def _linked(record_id: int) -> tuple[LinkedRecord, Partner]:
    session = db()
    record = session.get(LinkedRecord, record_id)
    partner = session.get(Partner, record.partner_id) if record is not None else None
    if record is None or record.deleted or partner is None or not partner.enabled:
        abort(404)
    return record, partner


def _linked_page(record: LinkedRecord, partner: Partner, form: IntroductionForm | None = None):
    form = form or IntroductionForm(listing_id=request.args.get("listing", "")[:9])
    shown = perm.can_see_outgoing(current_user)
    return render_template(
        "federation/linked.html",
        record=record,
        partner=partner,
        form=form,
        reachable=introductions.can_reach(partner),
        requests=introductions.requests_for(db(), record.id) if shown else [],
        listing_label="需求" if record.kind == "result" else "成果",
    ), 400 if form.errors or form.form_errors else 200


@bp.route("/linked/<int:record_id>")
def linked(record_id: int):
    """A partner platform's record: linked, with its source and last harvest; no contacts; for
    agents the introduction requests asked of the partner about it, and the form to ask one."""
    return _linked_page(*_linked(record_id))


@bp.route("/linked/<int:record_id>/introductions", methods=["POST"])
@login_required
def request_introduction(record_id: int):
    record, partner = _linked(record_id)
    if not perm.can_request_introduction(current_user):
        abort(403, description="引荐申请由所属机构已通过认证的技术经纪人提出")
    session = db()
    form = IntroductionForm()
    if form.validate_on_submit():
        try:
            introductions.file_request(
                session,
                actor=current_user,
                record=record,
                partner=partner,
                listing_id=form.listing_id.data,
                message=form.message.data,
            )
            session.commit()
            flash(f"引荐申请已排队，后台将转交“{partner.name}”（待发送）", "success")
            return redirect(url_for("federation.linked", record_id=record.id))
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
    return _linked_page(record, partner, form)


@bp.route("/introductions")
@login_required
def introductions_page():
    """Introductions asked of partners (agents: their own; administrators: all) and those partners
    asked of us (owners: about their listings; administrators and agents: all)."""
    session = db()
    outgoing = (
        introductions.outgoing_for(session, current_user, everything=current_user.role == "admin")
        if perm.can_see_outgoing(current_user)
        else []
    )
    incoming = introductions.incoming_for(
        session, current_user, everything=perm.can_see_incoming_all(current_user)
    )
    return render_template(
        "federation/introductions.html", outgoing=outgoing, incoming=incoming, when=introductions.when
    )


def _incoming(introduction_id: int):
    session = db()
    row = session.get(IncomingIntroduction, introduction_id)
    listing = session.get(KINDS[row.kind], row.listing_id) if row is not None else None
    if row is None or not perm.can_decide_incoming(current_user, listing):
        abort(404)
    return row, listing, session.get(Partner, row.partner_id)


@bp.route("/introductions/incoming/<int:introduction_id>")
@login_required
def incoming(introduction_id: int):
    row, listing, partner = _incoming(introduction_id)
    return render_template(
        "federation/incoming.html",
        row=row,
        listing=listing,
        partner=partner,
        form=DecisionForm(),
        when=introductions.when,
    )


@bp.route("/introductions/incoming/<int:introduction_id>/decide", methods=["POST"])
@login_required
def decide(introduction_id: int):
    row, _listing, _partner = _incoming(introduction_id)
    form = DecisionForm()
    if not form.validate_on_submit() or form.decision.data not in ("accept", "decline"):
        abort(400, description="表单已过期或选择无效，请刷新页面后重试")
    session = db()
    try:
        introductions.decide(session, actor=current_user, row=row, accept=form.decision.data == "accept")
        session.commit()
        flash(f"已{row.status}：对方平台将在下次查询时获知", "success")
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "warning")
    return redirect(url_for("federation.incoming", introduction_id=row.id))


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
