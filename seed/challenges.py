"""Demo 揭榜挂帅: one open challenge of 海河新能源 with two applicants (one shortlisted, with a question
and its answer) and one decided with a winner, through the same services as the pages. Idempotent."""

from __future__ import annotations

from sqlmodel import Session, select

from market.accounts.models import Organization, User
from market.challenges import service
from market.challenges.models import ChallengeApplication
from market.listings.models import TechNeed

OPEN_TITLE = "焦化煤气里的氢想卖给加氢站用"
DECIDED_TITLE = "轻量化高压车载储氢瓶产业化技术"
OWNER = "haihe@demo.kjcg.cn"
TEAMS = ("tju@demo.kjcg.cn", "nankai@demo.kjcg.cn")


def _user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def _need(session: Session, title: str) -> TechNeed | None:
    return session.exec(
        select(TechNeed).where(TechNeed.title == title, TechNeed.is_challenge.is_(True))
    ).first()


def _apply(session: Session, user: User, need: TechNeed, topic: str) -> ChallengeApplication:
    results = service.team_results(session, user.organization_id)
    related = [r.id for r in results if any(w in r.title for w in ("氢", "储", "气"))][:2]
    org = session.get(Organization, user.organization_id)
    return service.apply(
        session,
        actor=user,
        need=need,
        plan=f"{org.name}针对“{topic}”的技术路线：变压吸附提纯与钯膜精制两级工艺，先中试验证再放大。",
        team=f"{org.name}能源学院课题组：教授 1 名、副教授 2 名、工程师 3 名，承担过两项省部级氢能项目。",
        milestones="第 3 个月完成工艺包；第 6 个月完成中试装置；第 12 个月完成连续运行 1000 小时考核。",
        result_ids=related,
    )


def load(session: Session) -> dict[str, int]:
    """Applications on the open challenge, and a winner on the decided one (once)."""
    added = {"applications": 0, "decided": 0}
    owner = _user(session, OWNER)
    teams = [u for u in (_user(session, e) for e in TEAMS) if u is not None]
    open_need, decided_need = _need(session, OPEN_TITLE), _need(session, DECIDED_TITLE)
    if owner is None or len(teams) < 2 or open_need is None or decided_need is None:
        return added
    if session.exec(select(ChallengeApplication.id).limit(1)).first() is not None:
        return added
    first = None
    for user in teams:
        application = _apply(session, user, open_need, OPEN_TITLE)
        first = first or application
        added["applications"] += 1
    service.shortlist(session, actor=owner, need=open_need, application=first)
    service.ask(
        session,
        actor=owner,
        need=open_need,
        application=first,
        body="提纯后氢气的一氧化碳含量能否低于 0.2 ppm？",
    )
    service.ask(
        session, actor=teams[0], need=open_need, application=first, body="可以，钯膜精制段出口实测 0.1 ppm。"
    )
    winner = _apply(session, teams[0], decided_need, DECIDED_TITLE)
    _apply(session, teams[1], decided_need, DECIDED_TITLE)
    added["applications"] += 2
    service.decide(
        session, actor=owner, need=decided_need, chosen_ids=[winner.id], outcome="方案指标最优，进入签约"
    )
    added["decided"] = 1
    session.flush()
    return added
