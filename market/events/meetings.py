"""1:1 meetings (b2match style): requests with a reason, accept / decline, scheduling into sessions ×
slots × tables through the `scheduling` library, agendas with .ics files, outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlmodel import Session, or_, select

from market import links
from market.accounts.models import Organization, User
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.events import permissions as perm
from market.events.models import Event, MeetingRequest, Registration
from market.events.service import CHINA, participants
from market.listings import service as listings
from market.listings.models import KINDS
from market.notifications.service import notify
from scheduling import Assignment, Problem, Request, Schedule, Table, solve
from vocab.taxonomy import MeetingOutcome, values

PENDING, ACCEPTED, DECLINED = "待回复", "已接受", "已拒绝"


def request_meeting(
    session: Session, *, actor: User, event: Event, to_user_id: int, reason: str
) -> MeetingRequest:
    """Ask another admitted participant for a meeting, saying why."""
    if not perm.is_participant(session, actor, event):
        raise NotAllowed((None, "报名通过后才能预约会谈"))
    other = session.get(User, to_user_id)
    if other is None or not perm.is_participant(session, other, event):
        raise DomainError(("to_user_id", "对方不是本活动已通过审核的参会者"))
    if other.id == actor.id:
        raise DomainError(("to_user_id", "不能和自己预约会谈"))
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError(("reason", "请写明会谈目的（至少 4 个字）"))
    existing = session.exec(
        select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id,
            or_(
                (MeetingRequest.from_user_id == actor.id) & (MeetingRequest.to_user_id == other.id),
                (MeetingRequest.from_user_id == other.id) & (MeetingRequest.to_user_id == actor.id),
            ),
        )
    ).first()
    if existing is not None:
        raise ConflictError(("to_user_id", "你们之间已有会谈请求"))
    meeting = MeetingRequest(
        event_id=event.id, from_user_id=actor.id, to_user_id=other.id, reason=reason[:500]
    )
    session.add(meeting)
    session.flush()
    notify(
        session,
        user_ids=[other.id],
        message=f"{actor.display_name} 希望在“{event.title}”与您会谈：{reason[:60]}",
        link=links.event(event.id),
    )
    return meeting


def respond(session: Session, *, actor: User, meeting: MeetingRequest, accept: bool) -> MeetingRequest:
    """The invited side accepts or declines."""
    if actor.id != meeting.to_user_id:
        raise NotAllowed((None, "只有被邀请方可以回复"))
    if meeting.status != PENDING:
        raise ConflictError((None, f"该请求已{meeting.status}"))
    meeting.status = ACCEPTED if accept else DECLINED
    meeting.responded_at = utcnow()
    session.add(meeting)
    session.flush()
    event = session.get(Event, meeting.event_id)
    notify(
        session,
        user_ids=[meeting.from_user_id],
        message=f"{actor.display_name} {'接受' if accept else '婉拒'}了您在“{event.title}”的会谈请求",
        link=links.event(event.id),
    )
    return meeting


def set_locked(session: Session, *, actor: User, event: Event, meeting: MeetingRequest, locked: bool):
    """The organiser fixes a scheduled meeting where it is (kept by every re-run) or frees it."""
    if not perm.is_organiser(actor, event):
        raise NotAllowed((None, "只有主办方可以锁定会谈"))
    if locked and meeting.slot is None:
        raise DomainError((None, "只能锁定已排定时间的会谈"))
    meeting.locked = locked
    session.add(meeting)
    session.flush()
    return meeting


def n_slots(event: Event) -> int:
    return len(event.session_starts) * event.slots_per_session


def slot_time(event: Event, slot: int) -> tuple[datetime, datetime]:
    """Start and end of a slot index (session by session)."""
    session_index, offset = divmod(slot, event.slots_per_session)
    start = datetime.fromisoformat(event.session_starts[session_index])
    start = (start if start.tzinfo else start.replace(tzinfo=CHINA)) + timedelta(
        minutes=offset * event.slot_minutes
    )
    return start, start + timedelta(minutes=event.slot_minutes)


def problem_for(session: Session, event: Event) -> tuple[Problem, dict[int, MeetingRequest]]:
    """The scheduling problem of the event's accepted requests between admitted participants."""
    if not event.session_starts:
        raise DomainError((None, "请先设置 1:1 会谈的场次"))
    admitted = {reg.user_id: reg for reg, _ in participants(session, event)}
    meetings = session.exec(
        select(MeetingRequest).where(MeetingRequest.event_id == event.id, MeetingRequest.status == ACCEPTED)
    ).all()
    meetings = [m for m in meetings if m.from_user_id in admitted and m.to_user_id in admitted]
    per = event.slots_per_session
    available = {}
    for user_id, reg in admitted.items():
        if reg.sessions:
            available[user_id] = frozenset(s * per + k for s in reg.sessions for k in range(per))
    locked = {
        m.id: Assignment(m.slot, m.table)
        for m in meetings
        if m.locked and m.slot is not None and m.table is not None and m.slot < n_slots(event)
    }
    problem = Problem(
        sessions=len(event.session_starts),
        slots_per_session=per,
        tables=tuple(Table(k, 2) for k in range(1, event.tables + 1)),
        requests=tuple(Request(m.id, m.from_user_id, m.to_user_id) for m in meetings),
        available=available,
        locked=locked,
    )
    return problem, {m.id: m for m in meetings}


def prepare(session: Session, *, actor: User, event: Event) -> Problem:
    """The problem the organiser is about to schedule (checked: may they, is the agenda still open)."""
    if not perm.is_organiser(actor, event):
        raise NotAllowed((None, "只有主办方可以排程"))
    if event.agenda == "最终":
        raise ConflictError((None, "日程已发布为最终版；如需调整请先改回初步日程"))
    return problem_for(session, event)[0]


def solve_problem(problem: Problem, *, time_limit: float = 10.0) -> Schedule:
    """The solver's run, outside any transaction (it takes seconds)."""
    return solve(problem, time_limit=time_limit, workers=1)


def apply_schedule(
    session: Session, *, actor: User, event: Event, problem: Problem, result: Schedule
) -> dict:
    """Write a schedule computed for `problem`, unless the accepted or locked meetings changed meanwhile;
    the agenda becomes 初步 (preliminary)."""
    prepare(session, actor=actor, event=event)
    current, meetings = problem_for(session, event)
    if (current.requests, dict(current.locked), dict(current.available)) != (
        problem.requests,
        dict(problem.locked),
        dict(problem.available),
    ):
        raise ConflictError((None, "排程期间会谈请求有变化，请重新排程"))
    for mid, meeting in meetings.items():
        place = result.assignments.get(mid)
        meeting.slot, meeting.table = (place.slot, place.table) if place else (None, None)
        session.add(meeting)
    unplaced = len(meetings) - result.scheduled
    how = "求解器" if result.method == "cp-sat" else "贪心排程"
    event.agenda = "初步"
    event.agenda_note = (
        f"已排 {result.scheduled}/{len(meetings)} 场会谈（{how}）"
        + (f"，{unplaced} 场因时间或桌位冲突未能安排" if unplaced else "")
        + ("；" + "；".join(result.notes) if result.notes else "")
    )[:500]
    session.add(event)
    session.flush()
    people = {m.from_user_id for m in meetings.values()} | {m.to_user_id for m in meetings.values()}
    notify(
        session,
        user_ids=sorted(people),
        message=f"“{event.title}”的初步会谈日程已生成",
        link=links.event_agenda(event.id),
    )
    return {"scheduled": result.scheduled, "requests": len(meetings), "method": result.method}


def schedule(session: Session, *, actor: User, event: Event, time_limit: float = 10.0) -> dict:
    """Prepare, solve and apply in one go (scripts and tests; the page solves between transactions)."""
    problem = prepare(session, actor=actor, event=event)
    return apply_schedule(
        session,
        actor=actor,
        event=event,
        problem=problem,
        result=solve_problem(problem, time_limit=time_limit),
    )


def finalize(session: Session, *, actor: User, event: Event, final: bool = True) -> Event:
    if not perm.is_organiser(actor, event):
        raise NotAllowed((None, "只有主办方可以发布日程"))
    if final and event.agenda != "初步":
        raise ConflictError((None, "请先生成初步日程"))
    event.agenda = "最终" if final else "初步"
    session.add(event)
    session.flush()
    return event


def agenda(session: Session, event: Event, user: User | None) -> list[dict]:
    """Scheduled meetings, in time order: the user's own, or all of them (user None, organisers)."""
    query = select(MeetingRequest).where(
        MeetingRequest.event_id == event.id,
        MeetingRequest.status == ACCEPTED,
        MeetingRequest.slot.is_not(None),
    )
    if user is not None:
        query = query.where(or_(MeetingRequest.from_user_id == user.id, MeetingRequest.to_user_id == user.id))
    rows = session.exec(query.order_by(MeetingRequest.slot, MeetingRequest.table)).all()
    ids = {m.from_user_id for m in rows} | {m.to_user_id for m in rows}
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids))).all()} if ids else {}
    orgs_ids = {u.organization_id for u in users.values() if u.organization_id}
    orgs = (
        {o.id: o.name for o in session.exec(select(Organization).where(Organization.id.in_(orgs_ids))).all()}
        if orgs_ids
        else {}
    )
    out = []
    for m in rows:
        if m.slot >= n_slots(event):
            continue
        start, end = slot_time(event, m.slot)
        a, b = users[m.from_user_id], users[m.to_user_id]
        other = b if user is not None and user.id == a.id else a
        out.append(
            {
                "meeting": m,
                "start": start,
                "end": end,
                "table": m.table,
                "a": a,
                "b": b,
                "other": other,
                "other_org": orgs.get(other.organization_id, ""),
            }
        )
    return out


def ics(event: Event, items: list[dict], user: User) -> bytes:
    """The user's agenda as an iCalendar file (one VEVENT per meeting)."""
    cal = Calendar()
    cal.add("prodid", "-//科技成果转化交易平台//对接会日程//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{event.title} · 我的会谈")
    for item in items:
        m = item["meeting"]
        entry = CalendarEvent()
        entry.add("uid", f"meeting-{m.id}-event-{event.id}@kjcg")
        entry.add("dtstamp", utcnow())
        entry.add("dtstart", item["start"])
        entry.add("dtend", item["end"])
        entry.add("summary", f"1:1 会谈：{item['other'].display_name}（{item['other_org']}）")
        entry.add("location", f"{event.place or event.online_url or ''} · {item['table']} 号桌")
        entry.add("description", f"会谈目的：{m.reason}\n日程状态：{event.agenda or '未排程'}")
        cal.add_component(entry)
    return cal.to_ical()


def record_outcome(
    session: Session, *, actor: User, meeting: MeetingRequest, outcome: str, note: str | None
) -> MeetingRequest:
    """有意向 / 无 / 后续对接. An 意向 reaches the agents as interest in the other side's listing (and so
    a match item); it is never a deal."""
    if not perm.in_meeting(actor, meeting):
        raise NotAllowed((None, "只有会谈双方可以记录结果"))
    if meeting.status != ACCEPTED or meeting.slot is None:
        raise DomainError((None, "只有已排定的会谈可以记录结果"))
    if outcome not in values(MeetingOutcome):
        raise DomainError(("outcome", "请选择会谈结果：有意向、无或后续对接"))
    meeting.outcome, meeting.outcome_note, meeting.outcome_by_id = (
        outcome,
        (note or "").strip()[:500] or None,
        actor.id,
    )
    session.add(meeting)
    session.flush()
    if outcome == MeetingOutcome.INTEREST:
        _interest_from_meeting(session, actor=actor, meeting=meeting)
    return meeting


def _interest_from_meeting(session: Session, *, actor: User, meeting: MeetingRequest) -> None:
    """Whichever side presents a published listing the other side may express interest in."""
    event = session.get(Event, meeting.event_id)
    for presenter_id, viewer_id in (
        (meeting.to_user_id, meeting.from_user_id),
        (meeting.from_user_id, meeting.to_user_id),
    ):
        reg = session.exec(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == presenter_id
            )
        ).first()
        if reg is None or not reg.listing_kind or not reg.listing_id:
            continue
        listing = session.get(KINDS[reg.listing_kind], reg.listing_id)
        viewer = session.get(User, viewer_id)
        if listing is None or viewer is None:
            continue
        try:
            listings.express_interest(
                session, user=viewer, listing=listing, message=f"{event.title} 1:1 会谈：有意向"
            )
        except NotAllowed:
            continue


def requests_of(session: Session, event: Event, user: User) -> tuple[list, list]:
    """(sent, received) meeting requests of a participant with the other side's user."""
    rows = session.exec(
        select(MeetingRequest)
        .where(
            MeetingRequest.event_id == event.id,
            or_(MeetingRequest.from_user_id == user.id, MeetingRequest.to_user_id == user.id),
        )
        .order_by(MeetingRequest.id)
    ).all()
    ids = {m.from_user_id for m in rows} | {m.to_user_id for m in rows}
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids))).all()} if ids else {}
    sent = [(m, users[m.to_user_id]) for m in rows if m.from_user_id == user.id]
    received = [(m, users[m.from_user_id]) for m in rows if m.to_user_id == user.id]
    return sent, received


def all_requests(session: Session, event: Event) -> list[MeetingRequest]:
    return list(
        session.exec(
            select(MeetingRequest).where(MeetingRequest.event_id == event.id).order_by(MeetingRequest.id)
        ).all()
    )


def outcome_counts(session: Session, event: Event) -> dict[str, int]:
    counts = {o: 0 for o in values(MeetingOutcome)}
    for m in all_requests(session, event):
        if m.outcome in counts:
            counts[m.outcome] += 1
    return counts
