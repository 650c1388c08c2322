"""Match rules (供需对接): claim, release, introduce, negotiate, sign, decline, notes, owners' feedback.

Every step is recorded as a MatchEvent with who and when. The agent who introduced the two sides stays
credited (Match.introduced_by_id, and Contract.agent_id) whatever happens to the claim afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select, update

from market import links
from market.accounts.models import Organization, User
from market.db import the_app, utcnow
from market.errors import ConflictError, DomainError, NotAllowed
from market.freshness import rules as freshness
from market.listings.models import Interest, Listing, ResearchResult, TechNeed
from market.matches import engine
from market.matches.models import Match, MatchEvent
from market.matches.permissions import OPEN
from market.notifications.service import members_of, notify
from vocab.taxonomy import DeclineReason, ListingStatus, MatchStatus, Role, values

S = MatchStatus
#: action -> (allowed from, to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "claim": ((S.SUGGESTED,), S.CLAIMED),
    "release": ((S.CLAIMED,), S.SUGGESTED),
    "introduce": ((S.CLAIMED,), S.INTRODUCED),
    "negotiate": ((S.INTRODUCED,), S.NEGOTIATING),
    "sign": ((S.INTRODUCED, S.NEGOTIATING), S.SIGNED),
    "decline": (OPEN, S.DECLINED),
}
FEEDBACK = ("interested", "not_interested")


def record(
    session: Session,
    *,
    match: Match,
    actor: User | None,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> MatchEvent:
    event = MatchEvent(
        match_id=match.id,
        actor_id=actor.id if actor else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    session.add(event)
    return event


def pair(session: Session, match: Match) -> tuple[ResearchResult, TechNeed]:
    return session.get(ResearchResult, match.result_id), session.get(TechNeed, match.need_id)


def _require_agent(session: Session, actor: User) -> None:
    if actor.role == Role.ADMIN:
        return
    org = session.get(Organization, actor.organization_id) if actor.organization_id else None
    if actor.role != Role.AGENT or org is None or not org.verified:
        raise NotAllowed((None, "只有所属机构已认证的技术经纪人可以处理对接"))


def _require_holder(actor: User, match: Match) -> None:
    if actor.role == Role.ADMIN:
        return
    if match.agent_id != actor.id:
        raise NotAllowed((None, "这条对接由其他经纪人认领，只有认领人可以操作"))


def _move(session: Session, *, match: Match, actor: User, action: str, note: str | None = None) -> Match:
    allowed, to = TRANSITIONS[action]
    if match.status not in allowed:
        raise DomainError((None, f"当前状态“{match.status}”不能执行该操作"))
    before = match.status
    match.status = to
    match.updated_at = utcnow()
    session.add(match)
    session.flush()
    record(session, match=match, actor=actor, action=action, from_status=before, to_status=to, note=note)
    return match


def claim(session: Session, *, actor: User, match: Match) -> Match:
    """Take a suggested match. Atomic: of two agents claiming at once exactly one wins."""
    _require_agent(session, actor)
    result, need = pair(session, match)
    if ListingStatus.PUBLISHED not in (result.status,) or need.status != ListingStatus.PUBLISHED:
        raise DomainError((None, "成果或需求已不在发布状态，不能认领"))
    if any(freshness.stage(x.valid_until) == freshness.GONE for x in (result, need)):
        raise DomainError((None, "成果或需求已超过有效期且未确认仍有效（待更新），发布方确认后才能认领"))
    won = session.exec(
        update(Match)
        .where(Match.id == match.id, Match.status == S.SUGGESTED, Match.agent_id.is_(None))
        .values(status=S.CLAIMED, agent_id=actor.id, updated_at=utcnow(), version=Match.version + 1)
    ).rowcount
    if won != 1:
        session.refresh(match)
        holder = session.get(User, match.agent_id) if match.agent_id else None
        who = (
            "您自己"
            if holder is not None and holder.id == actor.id
            else (holder.display_name if holder else "其他经纪人")
        )
        raise ConflictError((None, f"这条匹配已被 {who} 认领（当前状态：{match.status}），请选择其他匹配"))
    session.refresh(match)
    record(session, match=match, actor=actor, action="claim", from_status=S.SUGGESTED, to_status=S.CLAIMED)
    return match


def release(session: Session, *, actor: User, match: Match, note: str | None = None) -> Match:
    """Give a claimed (not yet introduced) match back to the queue."""
    _require_holder(actor, match)
    _move(session, match=match, actor=actor, action="release", note=note)
    match.agent_id = None
    session.add(match)
    session.flush()
    return match


def introduce(session: Session, *, actor: User, match: Match, note: str | None = None) -> Match:
    """Put the two sides in touch: each sees the other's contact from now on, and both are notified."""
    _require_holder(actor, match)
    _move(session, match=match, actor=actor, action="introduce", note=note)
    match.introduced_by_id = actor.id
    match.introduced_at = utcnow()
    session.add(match)
    session.flush()
    result, need = pair(session, match)
    result_org = session.get(Organization, result.organization_id)
    need_org = session.get(Organization, need.organization_id)
    link = links.match(match.id)
    notify(
        session,
        user_ids=members_of(session, result.organization_id),
        message=f"技术经纪人 {actor.display_name} 已为您的成果“{result.title}”对接需求方 {need_org.name}"
        f"（需求“{need.title}”），现在可以在需求页面查看对方联系方式。",
        link=links.listing("need", need.id),
    )
    notify(
        session,
        user_ids=members_of(session, need.organization_id),
        message=f"技术经纪人 {actor.display_name} 已为您的需求“{need.title}”对接成果方 {result_org.name}"
        f"（成果“{result.title}”），现在可以在成果页面查看对方联系方式。",
        link=links.listing("result", result.id),
    )
    notify(session, user_ids=[actor.id], message=f"已完成对接：{result.title} ↔ {need.title}", link=link)
    return match


def negotiate(session: Session, *, actor: User, match: Match, note: str | None = None) -> Match:
    """已对接 → 洽谈中."""
    _require_holder(actor, match)
    return _move(session, match=match, actor=actor, action="negotiate", note=note)


def decline(session: Session, *, actor: User, match: Match, reason: str, note: str | None = None) -> Match:
    """→ 未成交, with one of the reason codes."""
    _require_holder(actor, match)
    if reason not in values(DeclineReason):
        raise DomainError(("reason", "请选择未成交原因"))
    match.decline_reason = reason
    return _move(
        session, match=match, actor=actor, action="decline", note=f"{reason}" + (f"：{note}" if note else "")
    )


def mark_signed(session: Session, *, actor: User, match: Match) -> Match:
    """→ 已签约; called by the contract service, which requires the contract."""
    _require_holder(actor, match)
    return _move(session, match=match, actor=actor, action="sign")


def add_note(session: Session, *, actor: User, match: Match, note: str) -> MatchEvent:
    """A note on the match's timeline (the holder or an admin)."""
    _require_holder(actor, match)
    note = (note or "").strip()
    if not note:
        raise DomainError(("note", "请输入跟进记录"))
    if len(note) > 2000:
        raise DomainError(("note", "跟进记录不能超过 2000 字"))
    match.updated_at = utcnow()
    session.add(match)
    event = record(session, match=match, actor=actor, action="note", note=note)
    session.flush()
    return event


def owner_side(user: User, session: Session, match: Match) -> str | None:
    """ "result" or "need" when the user belongs to that side's organisation (with the owning role)."""
    result, need = pair(session, match)
    if user.role == Role.UNIVERSITY and user.organization_id == result.organization_id:
        return "result"
    if user.role == Role.ENTERPRISE and user.organization_id == need.organization_id:
        return "need"
    return None


def give_feedback(
    session: Session, *, actor: User, match: Match, verdict: str, reason: str | None = None
) -> Match:
    """An owner says “interested” or “not interested” (with a reason); stored as a label for the matcher."""
    side = owner_side(actor, session, match)
    if side is None:
        raise NotAllowed((None, "只有成果方或需求方本机构成员可以反馈"))
    if verdict not in FEEDBACK:
        raise DomainError(("verdict", "请选择感兴趣或不感兴趣"))
    if verdict == "not_interested" and reason not in values(DeclineReason):
        raise DomainError(("reason", "请选择不感兴趣的原因"))
    value = verdict if verdict == "interested" else f"not_interested:{reason}"
    setattr(match, f"{side}_feedback", value)
    match.updated_at = utcnow()
    session.add(match)
    session.flush()
    label = "感兴趣" if verdict == "interested" else f"不感兴趣（{reason}）"
    record(
        session,
        match=match,
        actor=actor,
        action="feedback",
        note=f"{'成果方' if side == 'result' else '需求方'}：{label}",
    )
    if match.agent_id:
        notify(
            session,
            user_ids=[match.agent_id],
            message=f"{actor.display_name} 对匹配 #{match.id} 的反馈：{label}",
            link=links.match(match.id),
        )
    return match


#: how many of the organisation's listings an expression of interest is scored against
INTEREST_CANDIDATES = 200
#: (listing of interest, the organisation's listings) -> the best of them, its score and reasons
BestCounterpart = Callable[[Listing, list[Listing]], "tuple[Listing, float, dict] | None"]


def from_interest(
    session: Session, *, interest: Interest, listing: Listing, user: User, best: BestCounterpart
) -> list[Match]:
    """“Express interest” raises one match: the listing against the user's organisation's listing that
    matches it best (creating the match when the matcher had not suggested the pair), so agents see
    it first. None when none of them matches at all: a pair per listing at score 0 is noise."""
    counterpart = TechNeed if listing.kind == "result" else ResearchResult
    mine = session.exec(
        select(counterpart)
        .where(
            counterpart.organization_id == user.organization_id, counterpart.status == ListingStatus.PUBLISHED
        )
        .order_by(counterpart.published_at.desc())
        .limit(INTEREST_CANDIDATES)
    ).all()
    found = best(listing, list(mine))
    out = []
    if found is not None:
        other, score, reasons = found
        result_id, need_id = (listing.id, other.id) if listing.kind == "result" else (other.id, listing.id)
        match = session.exec(
            select(Match).where(Match.result_id == result_id, Match.need_id == need_id)
        ).first()
        if match is None:
            match = Match(
                result_id=result_id,
                need_id=need_id,
                origin="interest",
                score=score,
                reasons={**reasons, "note": "由用户表达意向产生"},
            )
            session.add(match)
            session.flush()
        match.raised_at = utcnow()
        session.add(match)
        record(
            session,
            match=match,
            actor=user,
            action="interest",
            note=f"{user.display_name} 表达了意向" + (f"：{interest.message}" if interest.message else ""),
        )
        out.append(match)
    session.flush()
    # Only brokers of agencies the platform has verified: a self-registered "agency" must not learn who
    # is interested in what (the same rule that hides contact details from them).
    agents = session.exec(
        select(User.id)
        .join(Organization, Organization.id == User.organization_id)
        .where(User.role == Role.AGENT, User.active, Organization.verified)
    ).all()
    notify(
        session,
        user_ids=[a for a in agents if a is not None],
        message=f"{user.display_name} 对“{listing.title}”表达了意向"
        + (
            "，已加入待认领队列"
            if out
            else "（其机构的发布与之都不相关，未生成匹配）"
            if mine
            else "（对方暂无对应发布）"
        ),
        link=links.interest_queue() if out else links.listing(listing.kind, listing.id),
    )
    interest.handled = bool(out)
    session.add(interest)
    return out


def on_interest(session: Session, *, interest: Interest, listing: Listing, user: User) -> None:
    """Receiver of `market.signals.interest_expressed` (listings send it and never import matches)."""
    app = the_app()
    from_interest(
        session,
        interest=interest,
        listing=listing,
        user=user,
        best=lambda mine, others: engine.best_counterpart(app, session, mine, others),
    )
