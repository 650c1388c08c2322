"""揭榜挂帅 rules: the phase of a challenge, 我要揭榜, shortlisting, questions, the choice of winners.

A challenge is a published need with the 揭榜挂帅 flag (reward, deadline, eligibility and target metrics
live on the need). Applications are taken until the end of the deadline day (Tianjin time); then the
worker closes the challenge (`closing.close_due`); the owner or an agent chooses one or more winners,
and every applicant is told the outcome.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlmodel import Session, func, select

from market import links
from market.accounts.models import Organization, User
from market.challenges import permissions
from market.challenges.models import (
    ApplicationStatus,
    ChallengeApplication,
    ChallengeClosing,
    ChallengeQuestion,
    Phase,
)
from market.db import utcnow
from market.errors import DomainError, NotAllowed
from market.listings.models import ResearchResult, TechNeed
from market.notifications.service import members_of, notify
from vocab.taxonomy import ListingStatus

LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
PER_PAGE = 12
TEXT_MIN, TEXT_MAX = 10, 5000
QUESTION_MAX = 2000
MAX_RESULTS = 10


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def closes_at(need: TechNeed) -> datetime | None:
    """The moment applications stop: the end of the deadline day in Tianjin."""
    if need.deadline is None:
        return None
    return datetime.combine(need.deadline + timedelta(days=1), datetime.min.time(), LOCAL_TZ)


def is_challenge(need: TechNeed | None) -> bool:
    return (
        need is not None
        and need.is_challenge
        and need.status in (ListingStatus.PUBLISHED, ListingStatus.CLOSED)
    )


def closing_of(session: Session, need: TechNeed) -> ChallengeClosing | None:
    return session.get(ChallengeClosing, need.id)


def phase(session: Session, need: TechNeed, *, now: datetime | None = None) -> Phase:
    """张榜中 until the deadline passes (or a decision ends it early); 评审中 until winners are chosen;
    then 已揭榜, or 未揭榜 when it was decided without a winner."""
    closing = closing_of(session, need)
    if closing is None:
        end = closes_at(need)
        if need.status == ListingStatus.PUBLISHED and (end is None or (now or utcnow()) < end):
            return Phase.OPEN
        return Phase.REVIEW
    if closing.decided_at is None:
        return Phase.REVIEW
    chosen = session.exec(
        select(func.count())
        .select_from(ChallengeApplication)
        .where(
            ChallengeApplication.need_id == need.id, ChallengeApplication.status == ApplicationStatus.CHOSEN
        )
    ).one()
    return Phase.DECIDED if chosen else Phase.UNFILLED


def countdown(need: TechNeed, *, now: datetime | None = None) -> str:
    """剩余 N 天 M 小时 / 今日截止 / 已截止 / 长期有效."""
    end = closes_at(need)
    if end is None:
        return "长期有效"
    left = end - (now or utcnow())
    if left.total_seconds() <= 0:
        return "已截止"
    days, hours = left.days, left.seconds // 3600
    return f"剩余 {days} 天 {hours} 小时" if days else f"剩余 {hours} 小时 {left.seconds % 3600 // 60} 分"


def board(
    session: Session, *, finished: bool, page: int = 1
) -> tuple[list[tuple[TechNeed, Organization, int]], int]:
    """Open (no closing yet, deadline ahead) or finished challenges, newest first, with applicant counts."""
    now = utcnow()
    closed_ids = select(ChallengeClosing.need_id)
    today = local_today(now)
    base = select(TechNeed).where(
        TechNeed.is_challenge.is_(True), TechNeed.status.in_([ListingStatus.PUBLISHED, ListingStatus.CLOSED])
    )
    open_cond = (
        TechNeed.id.not_in(closed_ids)
        & (TechNeed.status == ListingStatus.PUBLISHED)
        & (TechNeed.deadline.is_(None) | (TechNeed.deadline >= today))
    )
    stmt = base.where(~open_cond if finished else open_cond)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    counts = (
        select(ChallengeApplication.need_id, func.count().label("n"))
        .group_by(ChallengeApplication.need_id)
        .subquery()
    )
    rows = session.exec(
        select(TechNeed, Organization, func.coalesce(counts.c.n, 0))
        .join(Organization, Organization.id == TechNeed.organization_id)
        .outerjoin(counts, counts.c.need_id == TechNeed.id)
        .where(TechNeed.id.in_(stmt.with_only_columns(TechNeed.id)))
        .order_by(TechNeed.published_at.desc(), TechNeed.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return [tuple(r) for r in rows], total


def applications(session: Session, need: TechNeed) -> list[tuple[ChallengeApplication, Organization]]:
    return [
        tuple(r)
        for r in session.exec(
            select(ChallengeApplication, Organization)
            .join(Organization, Organization.id == ChallengeApplication.organization_id)
            .where(ChallengeApplication.need_id == need.id)
            .order_by(ChallengeApplication.created_at, ChallengeApplication.id)
        ).all()
    ]


def winners(session: Session, need: TechNeed) -> list[Organization]:
    return [org for app, org in applications(session, need) if app.status == ApplicationStatus.CHOSEN]


def application_of(session: Session, need: TechNeed, org_id: int | None) -> ChallengeApplication | None:
    if org_id is None:
        return None
    return session.exec(
        select(ChallengeApplication).where(
            ChallengeApplication.need_id == need.id, ChallengeApplication.organization_id == org_id
        )
    ).first()


def team_results(session: Session, org_id: int) -> list[ResearchResult]:
    """The team's own published results, which it may link as evidence."""
    return list(
        session.exec(
            select(ResearchResult)
            .where(ResearchResult.organization_id == org_id, ResearchResult.status == ListingStatus.PUBLISHED)
            .order_by(ResearchResult.id.desc())
            .limit(50)
        ).all()
    )


def results_by_id(session: Session, ids: list[int]) -> dict[int, ResearchResult]:
    if not ids:
        return {}
    return {r.id: r for r in session.exec(select(ResearchResult).where(ResearchResult.id.in_(ids))).all()}


def questions(
    session: Session, application_ids: list[int]
) -> dict[int, list[tuple[ChallengeQuestion, User]]]:
    out: dict[int, list[tuple[ChallengeQuestion, User]]] = {i: [] for i in application_ids}
    if not application_ids:
        return out
    for q, user in session.exec(
        select(ChallengeQuestion, User)
        .join(User, User.id == ChallengeQuestion.author_id)
        .where(ChallengeQuestion.application_id.in_(application_ids))
        .order_by(ChallengeQuestion.created_at, ChallengeQuestion.id)
    ).all():
        out[q.application_id].append((q, user))
    return out


def _text(value: str | None, field: str, label: str) -> str:
    text = (value or "").strip()
    if len(text) < TEXT_MIN:
        raise DomainError((field, f"{label}至少 {TEXT_MIN} 个字"))
    if len(text) > TEXT_MAX:
        raise DomainError((field, f"{label}最多 {TEXT_MAX} 个字"))
    return text


def apply(
    session: Session,
    *,
    actor: User,
    need: TechNeed,
    plan: str | None,
    team: str | None,
    milestones: str | None,
    result_ids: list[int],
    now: datetime | None = None,
) -> ChallengeApplication:
    """我要揭榜: one application per team; only while the challenge is open; only verified seller teams."""
    org = session.get(Organization, actor.organization_id) if actor.organization_id else None
    if not permissions.eligible_team(actor, org):
        raise NotAllowed((None, "只有已认证的高校、科研院所或新型研发机构团队可以揭榜"))
    if not is_challenge(need) or phase(session, need, now=now) != Phase.OPEN:
        raise DomainError((None, "该榜单已截止或已揭榜，不再接受揭榜申请"))
    if application_of(session, need, org.id) is not None:
        raise DomainError((None, "本单位已揭榜，可在申请页补充答复"))
    errors = []
    texts = {}
    for field, label, value in (
        ("plan", "技术方案", plan),
        ("team", "团队介绍", team),
        ("milestones", "里程碑计划", milestones),
    ):
        try:
            texts[field] = _text(value, field, label)
        except DomainError as exc:
            errors += exc.errors
    ids = list(dict.fromkeys(result_ids))
    own = {r.id for r in team_results(session, org.id)}
    if len(ids) > MAX_RESULTS:
        errors.append(("result_ids", f"最多关联 {MAX_RESULTS} 项成果"))
    elif any(i not in own for i in ids):
        errors.append(("result_ids", "只能关联本单位已发布的成果"))
    if errors:
        raise DomainError(*errors)
    application = ChallengeApplication(
        need_id=need.id, organization_id=org.id, created_by_id=actor.id, result_ids=ids, **texts
    )
    session.add(application)
    session.flush()
    notify(
        session,
        user_ids=members_of(session, need.organization_id),
        message=f"{org.name} 揭榜了“{need.title}”",
        link=links.challenge_applicants(need.id),
    )
    return application


def _reviewable(session: Session, actor: User, need: TechNeed) -> None:
    if not permissions.can_decide(actor, need):
        raise NotAllowed((None, "只有发榜方或技术经纪人可以评审揭榜申请"))
    if phase(session, need) in (Phase.DECIDED, Phase.UNFILLED):
        raise DomainError((None, "该榜单已评审结束"))


def shortlist(session: Session, *, actor: User, need: TechNeed, application: ChallengeApplication) -> None:
    """入围: mark an application for the final choice; the team is told."""
    _reviewable(session, actor, need)
    if application.status != ApplicationStatus.SUBMITTED:
        raise DomainError((None, "该申请已入围"))
    application.status = ApplicationStatus.SHORTLISTED
    session.add(application)
    notify(
        session,
        user_ids=members_of(session, application.organization_id),
        message=f"你们对“{need.title}”的揭榜申请已入围",
        link=links.challenge_application(need.id, application.id),
    )


def ask(
    session: Session, *, actor: User, need: TechNeed, application: ChallengeApplication, body: str | None
) -> ChallengeQuestion:
    """A question from a reviewer, or the team's answer; the other side is told."""
    if not permissions.can_read_application(actor, need, application):
        raise NotAllowed((None, "无权参与该申请的问答"))
    if not permissions.can_review(actor, need) and actor.organization_id != application.organization_id:
        raise NotAllowed((None, "无权参与该申请的问答"))
    text = (body or "").strip()
    if not text:
        raise DomainError(("body", "请填写内容"))
    if len(text) > QUESTION_MAX:
        raise DomainError(("body", f"最多 {QUESTION_MAX} 个字"))
    q = ChallengeQuestion(application_id=application.id, author_id=actor.id, body=text)
    session.add(q)
    session.flush()
    from_team = actor.organization_id == application.organization_id
    notify(
        session,
        user_ids=members_of(session, need.organization_id if from_team else application.organization_id),
        message=f"“{need.title}”的揭榜申请有新的{'答复' if from_team else '提问'}",
        link=links.challenge_application(need.id, application.id),
    )
    return q


def decide(
    session: Session, *, actor: User, need: TechNeed, chosen_ids: list[int], outcome: str | None = None
) -> list[ChallengeApplication]:
    """评审结果: the chosen applications 中榜, all others 未中榜; every applicant is told. Ends the
    challenge (early, when its deadline has not come yet)."""
    _reviewable(session, actor, need)
    rows = [a for a, _org in applications(session, need)]
    chosen = set(chosen_ids)
    unknown = chosen - {a.id for a in rows}
    if unknown:
        raise DomainError(("chosen", "所选申请不属于该榜单"))
    note = (outcome or "").strip()[:500] or None
    if not chosen and not note:
        raise DomainError(("chosen", "请至少选择一个中榜团队，或说明未揭榜的原因"))
    now = utcnow()
    closing = closing_of(session, need) or ChallengeClosing(need_id=need.id, closed_at=now)
    closing.decided_at, closing.decided_by_id, closing.outcome = now, actor.id, note
    session.add(closing)
    for a in rows:
        a.status = ApplicationStatus.CHOSEN if a.id in chosen else ApplicationStatus.UNSUCCESSFUL
        a.decided_at = now
        session.add(a)
    session.flush()
    for a in rows:
        message = (
            f"恭喜！你们对“{need.title}”的揭榜申请已中榜，发榜方将与你们联系签约"
            if a.id in chosen
            else f"很遗憾，你们对“{need.title}”的揭榜申请未中榜。感谢参与"
        )
        notify(
            session,
            user_ids=members_of(session, a.organization_id),
            message=message,
            link=links.challenge_application(need.id, a.id),
        )
    notify(
        session,
        user_ids=members_of(session, need.organization_id),
        message=f"“{need.title}”评审结束：{len(chosen)} 个团队中榜",
        link=links.challenge(need.id),
    )
    return [a for a in rows if a.id in chosen]
