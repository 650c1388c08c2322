"""Event pages: list, detail (registration, participants, pitch track, 1:1 requests), agenda, .ics."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from market.db import db
from market.errors import DomainError, apply_to_form
from market.events import meetings, service
from market.events import permissions as perm
from market.events.forms import (
    BlankForm,
    EventForm,
    MeetingForm,
    OutcomeForm,
    PitchForm,
    RegisterForm,
    ReviewerForm,
    ScoreForm,
)
from market.events.models import Event, MeetingRequest, PitchApplication, Registration
from market.financing.models import FinancingRequest
from market.listings.models import ResearchResult, TechNeed
from vocab.taxonomy import ListingStatus

bp = Blueprint("events", __name__)


def _load(event_id: int) -> Event:
    event = db().get(Event, event_id)
    if event is None or not perm.can_view(current_user, event):
        abort(404)
    return event


def _back(event_id: int, anchor: str = ""):
    return redirect(url_for("events.detail", event_id=event_id) + anchor)


def _post(event: Event, run, done: str, anchor: str = ""):
    session = db()
    if not BlankForm().validate_on_submit():
        abort(400)
    try:
        run(session)
    except DomainError as exc:
        session.rollback()
        if exc.status == 403:
            abort(403, description=exc.message)
        flash(exc.message, "danger")
        return _back(event.id, anchor), 303
    session.commit()
    flash(done, "success")
    return _back(event.id, anchor)


@bp.route("/events")
def index():
    rows = db().exec(select(Event).where(Event.published).order_by(Event.starts_at.desc()).limit(100)).all()
    return render_template("events/index.html", rows=rows)


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def create():
    if not perm.can_create(current_user):
        abort(403)
    form = EventForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            form.form_errors.append("时间格式不正确，请按“年-月-日 时:分”填写")
        else:
            data = form.data | {"session_starts": [form.session1.data, form.session2.data]}
            try:
                event = service.create_event(db(), actor=current_user, data=data)
            except DomainError as exc:
                db().rollback()
                apply_to_form(form, exc)
            else:
                db().commit()
                flash("活动已创建", "success")
                return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/edit.html", form=form)


def _own_published(user, sources) -> list[tuple[str, str]]:
    """("kind:id", "标签：title") for the user's organisation's published items of each (model, kind,
    label) in `sources`, at most 50 of each."""
    if not getattr(user, "organization_id", None):
        return []
    out = []
    for model, kind, label in sources:
        rows = db().exec(
            select(model.id, model.title)
            .where(model.organization_id == user.organization_id, model.status == ListingStatus.PUBLISHED)
            .limit(50)
        )
        out += [(f"{kind}:{rid}", f"{label}：{title}") for rid, title in rows.all()]
    return out


def _listing_choices(user) -> list[tuple[str, str]]:
    own = _own_published(user, ((ResearchResult, "result", "成果"), (TechNeed, "need", "需求")))
    return [("", "不展示"), *own] if getattr(user, "organization_id", None) else []


def _pitch_choices(user) -> list[tuple[str, str]]:
    return _own_published(user, ((ResearchResult, "result", "成果"), (FinancingRequest, "financing", "融资")))


@bp.route("/events/<int:event_id>")
def detail(event_id: int):
    session = db()
    event = _load(event_id)
    organiser = perm.is_organiser(current_user, event)
    mine = perm.registration_of(session, current_user, event)
    participant = mine is not None and mine.status == perm.ADMITTED
    register_form = RegisterForm()
    register_form.sessions.choices = [(i, f"第 {i + 1} 场") for i in range(len(event.session_starts))]
    register_form.listing.choices = _listing_choices(current_user)
    meeting_form = MeetingForm()
    people = service.participants(session, event) if (participant or organiser) else []
    meeting_form.to_user_id.choices = [
        (u.id, u.display_name) for _, u in people if u.id != getattr(current_user, "id", None)
    ]
    pitch_form = PitchForm()
    pitch_form.subject.choices = _pitch_choices(current_user)
    sent, received = meetings.requests_of(session, event, current_user) if participant else ([], [])
    reviewer = perm.is_reviewer(session, current_user, event)
    pitch_rows = [
        (p, service.scores_of(session, p))
        for p in service.pitches(session, event)
        if organiser or reviewer or p.status == "已入选" or p.user_id == getattr(current_user, "id", None)
    ]
    return render_template(
        "events/detail.html",
        event=event,
        organiser=organiser,
        mine=mine,
        participant=participant,
        reviewer=reviewer,
        open_now=service.registration_open(event),
        people=people,
        registrations=service.registrations(session, event) if organiser else [],
        sent=sent,
        received=received,
        all_meetings=meetings.agenda(session, event, None) if organiser else [],
        requests_total=len(meetings.all_requests(session, event)) if organiser else 0,
        outcomes=meetings.outcome_counts(session, event) if organiser else {},
        pitch_rows=pitch_rows,
        average=service.average,
        session_times=event.session_starts,
        register_form=register_form,
        meeting_form=meeting_form,
        pitch_form=pitch_form,
        reviewer_form=ReviewerForm(),
        score_form=ScoreForm(),
        form=BlankForm(),
    )


@bp.route("/events/<int:event_id>/register", methods=["POST"])
@login_required
def register(event_id: int):
    event = _load(event_id)
    form = RegisterForm()
    form.sessions.choices = [(i, str(i)) for i in range(len(event.session_starts))]
    kind, _, raw = (form.listing.data or "").partition(":")
    listing_id = int(raw) if raw.isdigit() else None
    return _post(
        event,
        lambda s: service.register(
            s,
            actor=current_user,
            event=event,
            sessions=form.sessions.data or [],
            listing_kind=kind or None,
            listing_id=listing_id,
            note=form.note.data,
        ),
        "已报名，等待主办方审核",
    )


@bp.route("/events/<int:event_id>/registrations/<int:reg_id>/<any(admit, reject):action>", methods=["POST"])
@login_required
def decide(event_id: int, reg_id: int, action: str):
    event = _load(event_id)
    if not perm.is_organiser(current_user, event):
        abort(403)
    reg = db().get(Registration, reg_id)
    if reg is None or reg.event_id != event.id:
        abort(404)
    return _post(
        event,
        lambda s: service.decide_registration(
            s, actor=current_user, event=event, reg=reg, admit=action == "admit"
        ),
        "已通过报名" if action == "admit" else "已拒绝报名",
        "#registrations",
    )


@bp.route("/events/<int:event_id>/meetings", methods=["POST"])
@login_required
def request_meeting(event_id: int):
    event = _load(event_id)
    form = MeetingForm()
    try:
        to_user = int(request.form.get("to_user_id", ""))
    except ValueError:
        to_user = 0
    return _post(
        event,
        lambda s: meetings.request_meeting(
            s, actor=current_user, event=event, to_user_id=to_user, reason=form.reason.data
        ),
        "会谈请求已发送",
        "#meetings",
    )


def _meeting(event: Event, meeting_id: int) -> MeetingRequest:
    meeting = db().get(MeetingRequest, meeting_id)
    if meeting is None or meeting.event_id != event.id:
        abort(404)
    if not (perm.in_meeting(current_user, meeting) or perm.is_organiser(current_user, event)):
        abort(404)
    return meeting


@bp.route("/events/<int:event_id>/meetings/<int:meeting_id>/<any(accept, decline):action>", methods=["POST"])
@login_required
def respond(event_id: int, meeting_id: int, action: str):
    event = _load(event_id)
    meeting = _meeting(event, meeting_id)
    return _post(
        event,
        lambda s: meetings.respond(s, actor=current_user, meeting=meeting, accept=action == "accept"),
        "已接受会谈" if action == "accept" else "已婉拒",
        "#meetings",
    )


@bp.route("/events/<int:event_id>/meetings/<int:meeting_id>/<any(lock, unlock):action>", methods=["POST"])
@login_required
def lock(event_id: int, meeting_id: int, action: str):
    event = _load(event_id)
    meeting = _meeting(event, meeting_id)
    return _post(
        event,
        lambda s: meetings.set_locked(
            s, actor=current_user, event=event, meeting=meeting, locked=action == "lock"
        ),
        "已锁定，重新排程时保持不变" if action == "lock" else "已解锁",
        "#schedule",
    )


@bp.route("/events/<int:event_id>/meetings/<int:meeting_id>/outcome", methods=["POST"])
@login_required
def outcome(event_id: int, meeting_id: int):
    event = _load(event_id)
    meeting = _meeting(event, meeting_id)
    form = OutcomeForm()
    done = _post(
        event,
        lambda s: meetings.record_outcome(
            s, actor=current_user, meeting=meeting, outcome=form.outcome.data, note=form.note.data
        ),
        "已记录会谈结果",
    )
    return done


@bp.route("/events/<int:event_id>/schedule", methods=["POST"])
@login_required
def run_schedule(event_id: int):
    """Read the problem, end the transaction, solve (seconds, holding no lock), then write the result
    in a short transaction that checks nothing changed meanwhile."""
    session = db()
    event = _load(event_id)
    if not perm.is_organiser(current_user, event):
        abort(403)
    if not BlankForm().validate_on_submit():
        abort(400)
    try:
        problem = meetings.prepare(session, actor=current_user, event=event)
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "danger")
        return _back(event.id, "#schedule"), 303
    session.commit()
    result = meetings.solve_problem(
        problem, time_limit=float(current_app.config.get("SCHEDULE_SECONDS", 10.0))
    )
    event = session.get(Event, event_id)
    return _post(
        event,
        lambda s: meetings.apply_schedule(s, actor=current_user, event=event, problem=problem, result=result),
        "已生成初步日程",
        "#schedule",
    )


@bp.route("/events/<int:event_id>/<any(finalize, reopen):action>", methods=["POST"])
@login_required
def finalize(event_id: int, action: str):
    event = _load(event_id)
    if not perm.is_organiser(current_user, event):
        abort(403)
    return _post(
        event,
        lambda s: meetings.finalize(s, actor=current_user, event=event, final=action == "finalize"),
        "已发布最终日程" if action == "finalize" else "已改回初步日程",
        "#schedule",
    )


@bp.route("/events/<int:event_id>/agenda")
@login_required
def agenda(event_id: int):
    session = db()
    event = _load(event_id)
    if not (perm.is_participant(session, current_user, event) or perm.is_organiser(current_user, event)):
        abort(403)
    items = meetings.agenda(session, event, current_user)
    return render_template(
        "events/agenda.html", event=event, items=items, outcome_form=OutcomeForm(), form=BlankForm()
    )


@bp.route("/events/<int:event_id>/agenda.ics")
@login_required
def agenda_ics(event_id: int):
    session = db()
    event = _load(event_id)
    if not perm.is_participant(session, current_user, event):
        abort(403)
    body = meetings.ics(event, meetings.agenda(session, event, current_user), current_user)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="event-{event.id}-agenda.ics"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/events/<int:event_id>/pitches", methods=["POST"])
@login_required
def apply_pitch(event_id: int):
    event = _load(event_id)
    kind, _, raw = (request.form.get("subject") or "").partition(":")
    ident = int(raw) if raw.isdigit() else None
    return _post(
        event,
        lambda s: service.apply_pitch(
            s,
            actor=current_user,
            event=event,
            result_id=ident if kind == "result" else None,
            financing_id=ident if kind == "financing" else None,
        ),
        "路演申请已提交，等待评委评分",
        "#pitches",
    )


@bp.route("/events/<int:event_id>/reviewers", methods=["POST"])
@login_required
def add_reviewer(event_id: int):
    event = _load(event_id)
    if not perm.is_organiser(current_user, event):
        abort(403)
    return _post(
        event,
        lambda s: service.add_reviewer(
            s, actor=current_user, event=event, email=request.form.get("email", "")
        ),
        "已添加评委",
        "#pitches",
    )


def _pitch(event: Event, pitch_id: int) -> PitchApplication:
    row = db().get(PitchApplication, pitch_id)
    if row is None or row.event_id != event.id:
        abort(404)
    return row


@bp.route("/events/<int:event_id>/pitches/<int:pitch_id>/score", methods=["POST"])
@login_required
def score(event_id: int, pitch_id: int):
    event = _load(event_id)
    application = _pitch(event, pitch_id)
    scores = {c: request.form.get(f"score_{i}") for i, c in enumerate(event.criteria)}
    form = ScoreForm()
    return _post(
        event,
        lambda s: service.score_pitch(
            s,
            actor=current_user,
            event=event,
            application=application,
            scores=scores,
            veto=bool(form.veto.data),
            comment=form.comment.data,
        ),
        "评分已保存",
        "#pitches",
    )


@bp.route("/events/<int:event_id>/pitches/<int:pitch_id>/<any(accept, reject):action>", methods=["POST"])
@login_required
def decide_pitch(event_id: int, pitch_id: int, action: str):
    event = _load(event_id)
    if not perm.is_organiser(current_user, event):
        abort(403)
    application = _pitch(event, pitch_id)
    return _post(
        event,
        lambda s: service.decide_pitch(
            s, actor=current_user, event=event, application=application, accept=action == "accept"
        ),
        "已确定路演项目" if action == "accept" else "已标记未入选",
        "#pitches",
    )
