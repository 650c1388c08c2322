"""Agents' workspace (queue, board, match page, actions, contract) and owners' matches for a listing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from market.accounts.permissions import broker_required
from market.db import db, the_app
from market.deals import service as deals
from market.deals.models import Contract
from market.errors import ConflictError, DomainError, apply_to_form
from market.federation.matching import linked_match_json, linked_matches
from market.listings import permissions as listing_perm
from market.matches import permissions as perm
from market.matches import queries, service
from market.matches.forms import ActionForm, ContractForm, DeclineForm, FeedbackForm, NoteForm
from market.matches.sections import queue_sections
from market.security import safe_next
from vocab.taxonomy import FIELDS, Region, values

bp = Blueprint("matches", __name__)


@bp.route("/matches")
@broker_required
def queue():
    filters = queries.QueueFilters.parse(request.args)
    rows, total = queries.queue(db(), filters)
    return render_template(
        "matches/queue.html",
        rows=rows,
        total=total,
        filters=filters,
        fields=FIELDS,
        regions=values(Region),
        form=ActionForm(),
        sections=queue_sections(db(), current_user),
    )


@bp.route("/matches/board")
@broker_required
def board():
    return render_template("matches/board.html", columns=queries.board(db(), current_user.id))


@bp.route("/matches/<int:match_id>")
@login_required
def detail(match_id: int):
    return _detail(match_id)


def _detail(match_id: int, *, conflict: str | None = None, status: int = 200):
    session = db()
    row = perm.load_match(session, match_id, current_user)
    contract = None
    if row.match.status == "已签约":
        contract = session.exec(select(Contract).where(Contract.match_id == row.match.id)).first()
    return render_template(
        "matches/detail.html",
        row=row,
        timeline=queries.timeline(session, match_id),
        form=ActionForm(),
        decline_form=DeclineForm(),
        note_form=NoteForm(),
        feedback_form=FeedbackForm(),
        contract=contract,
        conflict=conflict,
    ), status


def _post(match_id: int, form_cls, run, done: str | None, *, need=perm.can_view):
    """Load the match, check the form (CSRF), run a service call, commit, flash, go back.

    A refusal by the rules is flashed in Chinese (403 when the user may not act at all).
    """
    session = db()
    row = perm.load_match(session, match_id, current_user, need=need)
    form = form_cls()
    if not form.validate_on_submit():
        abort(400)
    back = safe_next(request.form.get("back"), url_for("matches.detail", match_id=match_id))
    try:
        run(session, row.match, form)
    except ConflictError as exc:
        # Someone else got there first: show the match as it is now, with who holds it (409).
        session.rollback()
        return _detail(match_id, conflict=exc.message, status=409)
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "danger")
        return redirect(back), 303
    session.commit()
    if done:
        flash(done, "success")
    return redirect(back)


ACTIONS = {
    "claim": (lambda s, m, form: service.claim(s, actor=current_user, match=m), "已认领，请尽快联系双方"),
    "release": (
        lambda s, m, form: service.release(s, actor=current_user, match=m, note=form.note.data),
        "已释放，匹配回到待认领队列",
    ),
    "introduce": (
        lambda s, m, form: service.introduce(s, actor=current_user, match=m, note=form.note.data),
        "已对接，双方现在可以看到对方的联系方式",
    ),
    "negotiate": (
        lambda s, m, form: service.negotiate(s, actor=current_user, match=m, note=form.note.data),
        "已进入洽谈",
    ),
}


@bp.route("/matches/<int:match_id>/<any(claim, release, introduce, negotiate):action>", methods=["POST"])
@broker_required
def act(match_id: int, action: str):
    run, done = ACTIONS[action]
    return _post(match_id, ActionForm, run, done)


@bp.route("/matches/<int:match_id>/decline", methods=["POST"])
@broker_required
def decline(match_id: int):
    return _post(
        match_id,
        DeclineForm,
        lambda s, m, form: service.decline(
            s, actor=current_user, match=m, reason=form.reason.data, note=form.note.data
        ),
        "已记录为未成交",
    )


@bp.route("/matches/<int:match_id>/note", methods=["POST"])
@broker_required
def note(match_id: int):
    return _post(
        match_id,
        NoteForm,
        lambda s, m, form: service.add_note(s, actor=current_user, match=m, note=form.note.data),
        None,
    )


@bp.route("/matches/<int:match_id>/sign", methods=["GET", "POST"])
@broker_required
def sign(match_id: int):
    session = db()
    row = perm.load_match(session, match_id, current_user, need=perm.holds)
    form = ContractForm()
    status = 200
    if form.validate_on_submit():
        upload = form.pdf.data
        data = upload.read() if upload else None
        try:
            contract = deals.record_contract(
                session,
                actor=current_user,
                match=row.match,
                contract_type=form.contract_type.data,
                amount_wan=form.amount_wan.data,
                tech_amount_wan=form.tech_amount_wan.data,
                signed_on=form.signed_on.data,
                pdf=data or None,
                pdf_name=getattr(upload, "filename", None),
                close_listings=form.close_listings.data,
            )
            session.commit()  # the PDF moves into place only now (deals.stage_pdf)
        except DomainError as exc:
            session.rollback()
            if exc.status == 403:
                abort(403)
            apply_to_form(form, exc)
            status = 400
        except IntegrityError:
            session.rollback()
            if not deals.has_contract(session, match_id):
                raise
            # Another tab or agent signed this match between our read and our write.
            form.form_errors.append("该匹配已经登记过技术合同（可能刚被他人登记），请返回匹配页查看")
            status = 409
        else:
            flash("技术合同已登记，匹配已标记为已签约", "success")
            return redirect(url_for("deals.detail", contract_id=contract.id))
    elif request.method == "POST":
        status = 400
    return render_template("matches/sign.html", row=row, form=form), status


@bp.route("/matches/<int:match_id>/feedback", methods=["POST"])
@login_required
def feedback(match_id: int):
    return _post(
        match_id,
        FeedbackForm,
        lambda s, m, form: service.give_feedback(
            s, actor=current_user, match=m, verdict=form.verdict.data, reason=form.reason.data or None
        ),
        "反馈已记录，谢谢！技术经纪人会参考您的意见",
        need=perm.can_feedback,
    )


@bp.route("/<kind:kind>/<int:listing_id>/matches")
@login_required
def for_listing(kind: str, listing_id: int):
    session = db()
    listing = listing_perm.load_listing(session, kind, listing_id, current_user)
    if not perm.can_view_listing_matches(current_user, listing):
        abort(404)
    rows = queries.for_listing(session, listing.kind, listing.id)
    return render_template(
        "matches/for_listing.html",
        listing=listing,
        rows=rows,
        feedback_form=FeedbackForm(),
    )


def match_json(row: queries.Row) -> dict:
    return {
        "id": row.match.id,
        "score": round(row.match.score, 4),
        "rank_score": round(row.rank, 4),
        "lapsed": row.lapsed,
        "status": row.match.status,
        "result": {
            "id": row.result.id,
            "external_id": row.result.external_id,
            "title": row.result.title,
            "organization": row.result_org.name,
        },
        "need": {
            "id": row.need.id,
            "external_id": row.need.external_id,
            "title": row.need.title,
            "organization": row.need_org.name,
        },
        "reasons": row.match.reasons,
    }


@bp.route("/api/v1/<kind:kind>/<int:listing_id>/matches")
def api_for_listing(kind: str, listing_id: int):
    """A listing's matches: its owners see them, agents and admins all, everyone else 404."""
    session = db()
    listing = listing_perm.load_listing(session, kind, listing_id, current_user)
    if not perm.can_view_listing_matches(current_user, listing):
        abort(404)
    rows = queries.for_listing(session, listing.kind, listing.id)
    linked = linked_matches(the_app(), session, listing)
    return jsonify(
        {
            "kind": listing.kind,
            "id": listing.id,
            "matches": [match_json(r) for r in rows],
            # partners' records, kept apart: never local matches, never counted
            "linked_matches": [linked_match_json(m) for m in linked],
        }
    )
