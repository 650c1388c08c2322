"""Directory pages: agencies and brokers (lists, profiles, track records), profile editing, certificate
checks, and 请经纪人 requests with their answers. Routes translate HTTP; the rules are in the services."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from market.accounts.models import Organization, User
from market.accounts.permissions import admin_required, role_required
from market.contacts.policy import agency_contact_basis
from market.db import db
from market.directory import asks, service, track
from market.directory import permissions as perm
from market.directory.forms import (
    AgencyProfileForm,
    AnswerForm,
    AskForm,
    BrokerProfileForm,
    CertificateForm,
    CheckForm,
)
from market.directory.models import AgencyProfile, BrokerCertificate, BrokerProfile, BrokerRequest
from market.errors import DomainError, apply_to_form
from market.forms import choices
from market.security import safe_next
from market.stats.period import parse_period
from vocab import regions
from vocab.taxonomy import FIELDS, AgencyType, Role, values

bp = Blueprint("directory", __name__)


def _period():
    """The track record's period from ?from=&to= (blank: everything so far); errors name the field."""
    return parse_period(start=request.args.get("from"), end=request.args.get("to"))


def _list_page(template: str, lister):
    filters = service.DirectoryFilters.parse(request.args)
    status, page = 200, None
    try:
        page = lister(db(), filters)
    except DomainError:
        status = 400
    return render_template(
        template,
        filters=filters,
        page=page,
        fields=FIELDS,
        subtypes=values(AgencyType),
        region_choices=regions.choices(),
        region_name=regions.region_name,
    ), status


@bp.route("/agencies")
def agencies():
    return _list_page("directory/agencies.html", service.list_agencies)


@bp.route("/brokers")
def brokers():
    return _list_page("directory/brokers.html", service.list_brokers)


def _ask_form(session) -> AskForm | None:
    if not perm.can_ask(current_user):
        return None
    form = AskForm()
    form.listing.choices = choices(
        (f"{listing.kind}:{listing.id}", f"{'成果' if listing.kind == 'result' else '需求'}：{listing.title}")
        for listing in asks.own_listings(session, current_user)
    )
    return form


def _track_or_errors():
    try:
        return _period(), []
    except DomainError as exc:
        return None, exc.errors


@bp.route("/agencies/<int:org_id>")
def agency(org_id: int):
    session = db()
    card = service.agency(session, org_id)
    if card is None:
        abort(404)
    period, period_errors = _track_or_errors()
    record = track.agency_record(session, org_id, period=period) if period else None
    brokers = service.brokers_of(session, org_id)
    return render_template(
        "directory/agency.html",
        card=card,
        brokers=brokers,
        broker_records=track.lines_for(session, [b.id for b in brokers]),
        record=record,
        period_errors=period_errors,
        contact_basis=agency_contact_basis(session, current_user, card.org),
        ask_form=_ask_form(session),
        region_name=regions.region_name,
    ), (200 if record else 400)


@bp.route("/brokers/<int:user_id>")
def broker(user_id: int):
    session = db()
    card = service.broker(session, user_id, viewer=current_user)
    if card is None:
        abort(404)
    period, period_errors = _track_or_errors()
    record = track.broker_record(session, user_id, period=period) if period else None
    return render_template(
        "directory/broker.html",
        card=card,
        record=record,
        period_errors=period_errors,
        ask_form=_ask_form(session),
        cert_form=CertificateForm() if perm.can_edit_broker(current_user, card.user) else None,
        region_name=regions.region_name,
    ), (200 if record else 400)


@bp.route("/agencies/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_agency(org_id: int):
    session = db()
    card = service.agency(session, org_id)
    if card is None:
        abort(404)
    if not perm.can_edit_agency(current_user, card.org):
        abort(403)
    profile = card.profile or AgencyProfile(organization_id=org_id)
    form = AgencyProfileForm(obj=profile)
    if request.method == "GET":
        form.fields.data = card.fields
    status = 200
    if form.validate_on_submit():
        try:
            service.save_agency_profile(
                session,
                actor=current_user,
                org=card.org,
                region_code=form.region_code.data,
                fields=form.fields.data or [],
                intro=form.intro.data,
                services=form.services.data,
                contact_name=form.contact_name.data,
                contact_phone=form.contact_phone.data,
                contact_email=form.contact_email.data,
            )
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
            status = 400
        else:
            session.commit()
            flash("机构介绍已保存", "success")
            return redirect(url_for("directory.agency", org_id=org_id))
    elif request.method == "POST":
        status = 400
    return render_template("directory/edit.html", form=form, title=f"编辑机构介绍：{card.org.name}"), status


@bp.route("/brokers/me/edit", methods=["GET", "POST"])
@role_required(Role.AGENT)
def edit_broker():
    session = db()
    profile = session.exec(select(BrokerProfile).where(BrokerProfile.user_id == current_user.id)).first()
    form = BrokerProfileForm(obj=profile)
    if request.method == "GET":
        form.fields.data = service.fields_of(session, "broker", [current_user.id])[current_user.id]
    status = 200
    if form.validate_on_submit():
        try:
            # Only these four come from the form: the track record is never read from a request.
            service.save_broker_profile(
                session,
                actor=current_user,
                region_code=form.region_code.data,
                fields=form.fields.data or [],
                title=form.title.data,
                intro=form.intro.data,
            )
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
            status = 400
        else:
            session.commit()
            flash("经纪人资料已保存；业绩由平台根据对接与合同记录自动统计", "success")
            return redirect(url_for("directory.broker", user_id=current_user.id))
    elif request.method == "POST":
        status = 400
    return render_template("directory/edit.html", form=form, title="编辑我的经纪人资料"), status


@bp.route("/brokers/me/certificates", methods=["POST"])
@role_required(Role.AGENT)
def add_certificate():
    session = db()
    form = CertificateForm()
    if not form.validate_on_submit():
        flash("证书信息有误：发证日期请使用 YYYY-MM-DD 格式", "danger")
        return redirect(url_for("directory.broker", user_id=current_user.id)), 303
    try:
        service.add_certificate(
            session,
            actor=current_user,
            name=form.name.data,
            number=form.number.data,
            issuer=form.issuer.data,
            issued_on=form.issued_on.data,
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("directory.broker", user_id=current_user.id)), 303
    session.commit()
    flash("证书已登记，平台运营核验后显示在您的资料页", "success")
    return redirect(url_for("directory.broker", user_id=current_user.id))


@bp.route("/admin/certificates")
@admin_required
def certificates():
    return render_template(
        "directory/certificates.html", rows=service.pending_certificates(db()), form=CheckForm()
    )


@bp.route("/admin/certificates/<int:cert_id>", methods=["POST"])
@admin_required
def check_certificate(cert_id: int):
    session = db()
    cert = session.get(BrokerCertificate, cert_id)
    if cert is None:
        abort(404)
    form = CheckForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.check_certificate(
            session, actor=current_user, cert=cert, verdict=form.verdict.data, note=form.note.data
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("directory.certificates")), 303
    session.commit()
    flash(f"证书“{cert.name}”：{cert.status}", "success")
    return redirect(url_for("directory.certificates"))


# --- 请经纪人 ---------------------------------------------------------------------------------------------


def _ask(agency: Organization, broker: User | None, page):
    session = db()
    if not perm.can_ask(current_user):
        abort(403)
    form = _ask_form(session)
    if not form.validate_on_submit():
        abort(400)
    try:
        asks.ask(
            session,
            actor=current_user,
            agency=agency,
            broker=broker,
            listing_ref=form.listing.data,
            note=form.note.data,
        )
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
        body, _ = page()
        return body, 400
    session.commit()
    who = broker.display_name if broker else agency.name
    flash(f"已发送给 {who}，对方接受或婉拒后您会收到通知", "success")
    return redirect(url_for("directory.requests"))


@bp.route("/agencies/<int:org_id>/ask", methods=["POST"])
@login_required
def ask_agency(org_id: int):
    card = service.agency(db(), org_id)
    if card is None:
        abort(404)
    return _ask(card.org, None, lambda: agency(org_id))


@bp.route("/brokers/<int:user_id>/ask", methods=["POST"])
@login_required
def ask_broker(user_id: int):
    card = service.broker(db(), user_id)
    if card is None:
        abort(404)
    return _ask(card.org, card.user, lambda: broker(user_id))


@bp.route("/requests")
@login_required
def requests():
    session = db()
    return render_template(
        "directory/requests.html",
        received=asks.received(session, current_user),
        sent=asks.sent(session, current_user),
        form=AnswerForm(),
    )


def _load_request(req_id: int) -> BrokerRequest:
    req = db().get(BrokerRequest, req_id)
    visible = req is not None and (
        perm.can_answer(current_user, req)
        or current_user.organization_id in (req.sender_org_id, req.agency_id)
    )
    if not visible:
        abort(404)
    return req


@bp.route("/requests/<int:req_id>/<any(accept, decline, withdraw):action>", methods=["POST"])
@login_required
def answer(req_id: int, action: str):
    session = db()
    req = _load_request(req_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400)
    back = safe_next(request.form.get("back"), url_for("directory.requests"))
    try:
        if action == "accept":
            asks.accept(session, actor=current_user, req=req, note=form.note.data)
            done = "已接受，请尽快联系对方并跟进该发布"
        elif action == "decline":
            asks.decline(session, actor=current_user, req=req, reason=form.reason.data, note=form.note.data)
            done = "已婉拒，对方会收到您的原因"
        else:
            asks.withdraw(session, actor=current_user, req=req)
            done = "请求已撤回"
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
        return redirect(back), 303
    session.commit()
    flash(done, "success")
    return redirect(back)
