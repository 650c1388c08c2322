"""揭榜挂帅 pages: the public board, a challenge, 我要揭榜, the applicants side by side, one application."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from market.accounts.models import Organization
from market.challenges import permissions, service
from market.challenges.forms import ActionForm, ApplyForm, DecideForm, QuestionForm
from market.challenges.models import ChallengeApplication
from market.db import db
from market.errors import DomainError, apply_to_form
from market.listings.models import TechNeed

bp = Blueprint("challenges", __name__)


def _page_arg() -> int:
    raw = (request.args.get("page") or "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400, description="页码（参数 page）应为 1 到 100000 之间的整数")
    return int(raw)


def _need(need_id: int) -> TechNeed:
    need = db().get(TechNeed, need_id)
    if not service.is_challenge(need):
        abort(404)
    return need


def _reviewer_need(need_id: int) -> TechNeed:
    need = _need(need_id)
    if not permissions.can_review(current_user, need):
        abort(403)
    return need


def _application(need: TechNeed, application_id: int) -> ChallengeApplication:
    application = db().get(ChallengeApplication, application_id)
    if application is None or not permissions.can_read_application(current_user, need, application):
        abort(404)
    return application


@bp.route("/challenges")
def board():
    finished = request.args.get("tab") == "finished"
    page = _page_arg()
    rows, total = service.board(db(), finished=finished, page=page)
    session = db()
    return render_template(
        "challenges/board.html",
        rows=[(need, org, n, service.phase(session, need), service.countdown(need)) for need, org, n in rows],
        total=total,
        page=page,
        per_page=service.PER_PAGE,
        finished=finished,
        winners={need.id: service.winners(session, need) for need, _o, _n in rows} if finished else {},
    )


@bp.route("/challenges/<int:need_id>")
def detail(need_id: int):
    session = db()
    need = _need(need_id)
    org = session.get(Organization, need.organization_id)
    mine = service.application_of(session, need, getattr(current_user, "organization_id", None))
    my_org = (
        session.get(Organization, current_user.organization_id)
        if getattr(current_user, "organization_id", None)
        else None
    )
    return render_template(
        "challenges/detail.html",
        need=need,
        org=org,
        phase=service.phase(session, need),
        countdown=service.countdown(need),
        closes_at=service.closes_at(need),
        applicants=len(service.applications(session, need)),
        winners=service.winners(session, need),
        closing=service.closing_of(session, need),
        mine=mine,
        eligible=permissions.eligible_team(current_user, my_org),
    )


@bp.route("/challenges/<int:need_id>/apply", methods=["GET", "POST"])
@login_required
def apply(need_id: int):
    session = db()
    need = _need(need_id)
    my_org = session.get(Organization, current_user.organization_id) if current_user.organization_id else None
    if not permissions.eligible_team(current_user, my_org):
        abort(403)
    form = ApplyForm()
    results = service.team_results(session, my_org.id)
    form.result_ids.choices = [(r.id, r.title) for r in results]
    status = 200
    if form.validate_on_submit():
        try:
            application = service.apply(
                session,
                actor=current_user,
                need=need,
                plan=form.plan.data,
                team=form.team.data,
                milestones=form.milestones.data,
                result_ids=form.result_ids.data or [],
            )
        except DomainError as exc:
            session.rollback()
            apply_to_form(form, exc)
            status = exc.status if exc.status != 403 else 400
        else:
            session.commit()
            flash("揭榜申请已提交，发榜方评审后会通知你们", "success")
            return redirect(url_for("challenges.application", need_id=need.id, application_id=application.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "challenges/apply.html",
        form=form,
        need=need,
        phase=service.phase(session, need),
        countdown=service.countdown(need),
    ), status


@bp.route("/challenges/<int:need_id>/applicants")
@login_required
def applicants(need_id: int):
    session = db()
    need = _reviewer_need(need_id)
    rows = service.applications(session, need)
    linked = service.results_by_id(session, [i for a, _o in rows for i in a.result_ids])
    return render_template(
        "challenges/applicants.html",
        need=need,
        rows=rows,
        linked=linked,
        questions=service.questions(session, [a.id for a, _o in rows]),
        phase=service.phase(session, need),
        countdown=service.countdown(need),
        action=ActionForm(),
        ask=QuestionForm(),
        decide=DecideForm(),
    )


@bp.route("/challenges/<int:need_id>/applications/<int:application_id>")
@login_required
def application(need_id: int, application_id: int):
    session = db()
    need = _need(need_id)
    a = _application(need, application_id)
    return render_template(
        "challenges/application.html",
        need=need,
        a=a,
        org=session.get(Organization, a.organization_id),
        linked=service.results_by_id(session, a.result_ids),
        questions=service.questions(session, [a.id])[a.id],
        phase=service.phase(session, need),
        ask=QuestionForm(),
    )


@bp.route("/challenges/<int:need_id>/applications/<int:application_id>/shortlist", methods=["POST"])
@login_required
def shortlist(need_id: int, application_id: int):
    session = db()
    need = _reviewer_need(need_id)
    a = _application(need, application_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not permissions.can_decide(current_user, need):
        abort(403)
    try:
        service.shortlist(session, actor=current_user, need=need, application=a)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("challenges.applicants", need_id=need.id)), 303
    session.commit()
    flash("已入围", "success")
    return redirect(url_for("challenges.applicants", need_id=need.id))


@bp.route("/challenges/<int:need_id>/applications/<int:application_id>/questions", methods=["POST"])
@login_required
def ask(need_id: int, application_id: int):
    session = db()
    need = _need(need_id)
    a = _application(need, application_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.ask(session, actor=current_user, need=need, application=a, body=form.body.data)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("challenges.application", need_id=need.id, application_id=a.id)), 303
    session.commit()
    flash("已发送", "success")
    return redirect(url_for("challenges.application", need_id=need.id, application_id=a.id))


@bp.route("/challenges/<int:need_id>/decide", methods=["POST"])
@login_required
def decide(need_id: int):
    session = db()
    need = _reviewer_need(need_id)
    if not permissions.can_decide(current_user, need):
        abort(403)
    form = DecideForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        chosen = service.decide(
            session,
            actor=current_user,
            need=need,
            chosen_ids=form.chosen.data or [],
            outcome=form.outcome.data,
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("challenges.applicants", need_id=need.id)), 303
    session.commit()
    flash(f"评审结束：{len(chosen)} 个团队中榜，所有揭榜团队已收到通知", "success")
    return redirect(url_for("challenges.detail", need_id=need.id))
