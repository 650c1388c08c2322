"""The worker closes challenges at their deadline (never a page visit) and tells the owner and applicants."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlmodel import Session, select

from market import links
from market.challenges import service
from market.challenges.models import ChallengeApplication, ChallengeClosing
from market.db import utcnow
from market.listings.models import TechNeed
from market.notifications.service import members_of, notify
from market.outbox.worker import tx
from vocab.taxonomy import ListingStatus


def due(session: Session, *, now: datetime | None = None, limit: int = 50) -> list[int]:
    """Published challenges whose deadline day is over and that have no closing yet."""
    today = service.local_today(now)
    return list(
        session.exec(
            select(TechNeed.id)
            .where(
                TechNeed.is_challenge.is_(True),
                TechNeed.status == ListingStatus.PUBLISHED,
                TechNeed.deadline.is_not(None),
                TechNeed.deadline < today,
                TechNeed.id.not_in(select(ChallengeClosing.need_id)),
            )
            .order_by(TechNeed.id)
            .limit(limit)
        ).all()
    )


def close(session: Session, need_id: int, *, now: datetime | None = None) -> bool:
    """Close one challenge (idempotent: a closing row exists once) and notify everyone involved."""
    if session.get(ChallengeClosing, need_id) is not None:
        return False
    need = session.get(TechNeed, need_id)
    now = now or utcnow()
    if need is None or service.closes_at(need) is None or service.closes_at(need) > now:
        return False
    session.add(ChallengeClosing(need_id=need_id, closed_at=now))
    session.flush()
    apps = session.exec(select(ChallengeApplication).where(ChallengeApplication.need_id == need_id)).all()
    notify(
        session,
        user_ids=members_of(session, need.organization_id),
        message=f"“{need.title}”已到揭榜截止日期，共 {len(apps)} 个团队揭榜，请进入评审",
        link=links.challenge_applicants(need_id),
    )
    for a in apps:
        notify(
            session,
            user_ids=members_of(session, a.organization_id),
            message=f"“{need.title}”揭榜已截止，进入评审阶段",
            link=links.challenge_application(need_id, a.id),
        )
    return True


def close_due(session: Session, *, now: datetime | None = None) -> int:
    return sum(close(session, need_id, now=now) for need_id in due(session, now=now))


def run_due(app: Flask) -> str | None:
    """Worker job: each due challenge closes in a short write transaction of its own."""
    with tx(app).read() as session:
        ids = due(session)
    closed = 0
    for need_id in ids:
        with tx(app).write() as session:
            closed += close(session, need_id)
    return f"揭榜挂帅：{closed} 个榜单截止" if closed else None
