"""Event rules: creating events, registration and admission, the pitch track with reviewers' scores."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import Session, select

from market import links
from market.accounts.models import User
from market.db import utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.events import permissions as perm
from market.events.models import Event, EventReviewer, PitchApplication, PitchScore, Registration
from market.financing.models import FinancingRequest
from market.listings.models import KINDS, ResearchResult
from market.notifications.service import notify
from vocab.taxonomy import ListingStatus

DEFAULT_CRITERIA = ["技术先进性", "市场前景", "团队", "转化可行性"]


#: times typed into forms are Beijing wall-clock times
CHINA = timezone(timedelta(hours=8), "CST")


def aware(value: datetime) -> datetime:
    """A form's naive time as Beijing time."""
    return value.replace(tzinfo=CHINA) if value.tzinfo is None else value


def _or(value, default):
    """The form's number, or the default when left empty (0 is a value, and refused)."""
    return default if value in (None, "") else value


def create_event(session: Session, *, actor: User, data: dict) -> Event:
    """An event with its registration window and (optionally) its pitch track and 1:1 grid."""
    if not perm.can_create(actor):
        raise NotAllowed((None, "只有平台运营和技术经纪人可以组织活动"))
    errors: list[tuple[str, str]] = []
    title = (data.get("title") or "").strip()
    if not title:
        errors.append(("title", "请填写活动名称"))
    starts, ends = data.get("starts_at"), data.get("ends_at")
    opens, closes = data.get("registration_opens"), data.get("registration_closes")
    if not starts or not ends:
        errors.append(("starts_at", "请填写活动开始和结束时间"))
    elif ends <= starts:
        errors.append(("ends_at", "结束时间应晚于开始时间"))
    if not opens or not closes:
        errors.append(("registration_closes", "请填写报名开始和截止时间"))
    elif closes <= opens:
        errors.append(("registration_closes", "报名截止应晚于报名开始"))
    elif starts and closes > starts:
        errors.append(("registration_closes", "报名应在活动开始前截止"))
    if not (data.get("place") or "").strip() and not (data.get("online_url") or "").strip():
        errors.append(("place", "请填写地点或线上链接"))
    url = (data.get("online_url") or "").strip()
    if url and not url.startswith(("https://", "http://")):
        errors.append(("online_url", "线上链接应以 https:// 开头"))
    capacity = _or(data.get("capacity"), 0)
    if not 1 <= int(capacity) <= 100_000:
        errors.append(("capacity", "容量应在 1 到 100000 之间"))
    sessions = [s for s in data.get("session_starts") or [] if s]
    grid = {
        "slots_per_session": (_or(data.get("slots_per_session"), 6), 1, 24, "每场时段数应在 1 到 24 之间"),
        "slot_minutes": (_or(data.get("slot_minutes"), 20), 10, 60, "每个时段应在 10 到 60 分钟之间"),
        "tables": (_or(data.get("tables"), 10), 1, 500, "会谈桌数应在 1 到 500 之间"),
    }
    for name, (value, low, high, reason) in grid.items():
        if not low <= int(value) <= high:
            errors.append((name, reason))
    if errors:
        raise DomainError(*errors)
    event = Event(
        organizer_org_id=actor.organization_id,
        created_by_id=actor.id,
        title=title[:200],
        description=(data.get("description") or "").strip(),
        starts_at=aware(starts),
        ends_at=aware(ends),
        place=(data.get("place") or "").strip() or None,
        online_url=url or None,
        capacity=int(capacity),
        registration_opens=aware(opens),
        registration_closes=aware(closes),
        pitch_starts_at=aware(data["pitch_starts_at"]) if data.get("pitch_starts_at") else None,
        criteria=list(data.get("criteria") or DEFAULT_CRITERIA),
        session_starts=[aware(s).isoformat() for s in sessions],
        slots_per_session=int(_or(data.get("slots_per_session"), 6)),
        slot_minutes=int(_or(data.get("slot_minutes"), 20)),
        tables=int(_or(data.get("tables"), 10)),
    )
    session.add(event)
    session.flush()
    return event


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=CHINA)


def registration_open(event: Event, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return _as_utc(event.registration_opens) <= now <= _as_utc(event.registration_closes)


def register(
    session: Session,
    *,
    actor: User,
    event: Event,
    sessions: list[int] | None = None,
    listing_kind: str | None = None,
    listing_id: int | None = None,
    note: str | None = None,
) -> Registration:
    """Register for an event within its window and capacity; the organiser admits registrants."""
    if not registration_open(event):
        raise DomainError((None, "不在报名时间内"))
    if perm.registration_of(session, actor, event) is not None:
        raise ConflictError((None, "您已报名该活动"))
    taken = len(
        session.exec(
            select(Registration.id).where(Registration.event_id == event.id, Registration.status != "已拒绝")
        ).all()
    )
    if taken >= event.capacity:
        raise DomainError((None, "报名人数已满"))
    chosen = sorted({int(s) for s in sessions or [] if 0 <= int(s) < len(event.session_starts)})
    if listing_kind and listing_id:
        model = KINDS.get(listing_kind)
        listing = session.get(model, listing_id) if model else None
        if listing is None or listing.organization_id != actor.organization_id:
            raise DomainError(("listing", "只能展示本机构的成果或需求"))
        if listing.status != ListingStatus.PUBLISHED:
            raise DomainError(("listing", "只能展示已发布的成果或需求"))
    else:
        listing_kind = listing_id = None
    reg = Registration(
        event_id=event.id,
        user_id=actor.id,
        organization_id=actor.organization_id,
        sessions=chosen,
        listing_kind=listing_kind,
        listing_id=listing_id,
        note=(note or "").strip()[:500] or None,
    )
    session.add(reg)
    session.flush()
    return reg


def decide_registration(session: Session, *, actor: User, event: Event, reg: Registration, admit: bool):
    """The organiser admits (validated, now visible to others) or declines a registrant."""
    if not perm.is_organiser(actor, event):
        raise NotAllowed((None, "只有主办方可以审核报名"))
    if reg.event_id != event.id:
        raise DomainError((None, "报名不属于该活动"))
    reg.status = perm.ADMITTED if admit else "已拒绝"
    session.add(reg)
    session.flush()
    notify(
        session,
        user_ids=[reg.user_id],
        message=f"“{event.title}”报名{'已通过' if admit else '未通过'}",
        link=links.event(event.id),
    )
    return reg


def participants(session: Session, event: Event) -> list[tuple[Registration, User]]:
    rows = session.exec(
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event.id, Registration.status == perm.ADMITTED)
        .order_by(Registration.id)
    ).all()
    return list(rows)


def registrations(session: Session, event: Event) -> list[tuple[Registration, User]]:
    rows = session.exec(
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event.id)
        .order_by(Registration.id)
    ).all()
    return list(rows)


# --- pitch track ---------------------------------------------------------------------------------------


def apply_pitch(
    session: Session, *, actor: User, event: Event, result_id: int | None, financing_id: int | None
) -> PitchApplication:
    """A project applies to pitch with one of its published results or financing requests."""
    if event.pitch_starts_at is None:
        raise DomainError((None, "该活动没有路演环节"))
    if not registration_open(event):
        raise DomainError((None, "不在报名时间内"))
    subject = None
    if financing_id:
        subject = session.get(FinancingRequest, financing_id)
    elif result_id:
        subject = session.get(ResearchResult, result_id)
    if subject is None or subject.organization_id != actor.organization_id:
        raise DomainError(("subject", "请选择本机构的成果或融资需求"))
    if subject.status != ListingStatus.PUBLISHED:
        raise DomainError(("subject", "只能以已发布的成果或融资需求申请路演"))
    app = PitchApplication(
        event_id=event.id,
        user_id=actor.id,
        organization_id=actor.organization_id,
        title=subject.title,
        result_id=result_id if not financing_id else None,
        financing_id=financing_id or None,
    )
    session.add(app)
    session.flush()
    return app


def add_reviewer(session: Session, *, actor: User, event: Event, email: str) -> EventReviewer:
    if not perm.is_organiser(actor, event):
        raise NotAllowed((None, "只有主办方可以邀请评委"))
    user = session.exec(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None:
        raise DomainError(("email", "没有该邮箱的用户"))
    if perm.is_reviewer(session, user, event):
        raise ConflictError(("email", "该用户已是评委"))
    row = EventReviewer(event_id=event.id, user_id=user.id)
    session.add(row)
    session.flush()
    return row


def score_pitch(
    session: Session,
    *,
    actor: User,
    event: Event,
    application: PitchApplication,
    scores: dict[str, int],
    veto: bool,
    comment: str | None,
) -> PitchScore:
    """A reviewer scores each stated criterion 1–5 (a new score replaces their earlier one)."""
    if not perm.is_reviewer(session, actor, event):
        raise NotAllowed((None, "只有本活动的评委可以评分"))
    if application.user_id == actor.id or application.organization_id == actor.organization_id:
        raise NotAllowed((None, "评委不能为本机构的项目评分"))
    clean = {}
    for criterion in event.criteria:
        try:
            value = int(scores.get(criterion))
        except (TypeError, ValueError):
            raise DomainError(("scores", f"请为“{criterion}”打分（1–5）")) from None
        if not 1 <= value <= 5:
            raise DomainError(("scores", f"“{criterion}”的分数应为 1–5"))
        clean[criterion] = value
    if veto and not (comment or "").strip():
        raise DomainError(("comment", "一票否决时请写明理由"))
    row = session.exec(
        select(PitchScore).where(
            PitchScore.application_id == application.id, PitchScore.reviewer_id == actor.id
        )
    ).first() or PitchScore(application_id=application.id, reviewer_id=actor.id)
    row.scores, row.veto, row.comment = clean, bool(veto), (comment or "").strip() or None
    session.add(row)
    session.flush()
    return row


def scores_of(session: Session, application: PitchApplication) -> list[PitchScore]:
    return list(session.exec(select(PitchScore).where(PitchScore.application_id == application.id)).all())


def average(scores: list[PitchScore]) -> float | None:
    values = [v for s in scores for v in s.scores.values()]
    return round(sum(values) / len(values), 2) if values else None


def decide_pitch(
    session: Session, *, actor: User, event: Event, application: PitchApplication, accept: bool
) -> PitchApplication:
    """Accept (into the next fixed slot: pitch + questions) or decline; a reviewer's veto blocks it."""
    if not perm.is_organiser(actor, event):
        raise NotAllowed((None, "只有主办方可以确定路演项目"))
    if application.status != "待评审":
        raise ConflictError((None, f"该申请已{application.status}"))
    scores = scores_of(session, application)
    if accept:
        if any(s.veto for s in scores):
            raise DomainError((None, "有评委一票否决，不能入选"))
        if not scores:
            raise DomainError((None, "尚无评委评分"))
        taken = len(
            session.exec(
                select(PitchApplication.id).where(
                    PitchApplication.event_id == event.id, PitchApplication.status == "已入选"
                )
            ).all()
        )
        step = timedelta(minutes=event.pitch_minutes + event.qa_minutes)
        application.slot_starts_at = _as_utc(event.pitch_starts_at) + taken * step
    application.status = "已入选" if accept else "未入选"
    application.feedback = "；".join(s.comment for s in scores if s.comment) or None
    session.add(application)
    session.flush()
    notify(
        session,
        user_ids=[application.user_id],
        message=f"“{event.title}”路演申请{application.status}：{application.title}",
        link=links.event(event.id),
    )
    return application


def pitches(session: Session, event: Event) -> list[PitchApplication]:
    return list(
        session.exec(
            select(PitchApplication)
            .where(PitchApplication.event_id == event.id)
            .order_by(
                PitchApplication.slot_starts_at.is_(None),
                PitchApplication.slot_starts_at,
                PitchApplication.id,
            )
        ).all()
    )
