"""The conversion funnel (in listings) and the agents' leaderboard."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization, User
from market.deals import credit
from market.deals.models import Contract
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match, MatchEvent
from market.stats.period import Period
from vocab.taxonomy import ListingStatus, MatchStatus, Role

LISTED_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.CLOSED)
#: a match in one of these states has been claimed by an agent at some point
CLAIMED_STATUSES = (
    MatchStatus.CLAIMED,
    MatchStatus.INTRODUCED,
    MatchStatus.NEGOTIATING,
    MatchStatus.SIGNED,
)
FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("listed", "挂牌"),
    ("matched", "获得推荐"),
    ("claimed", "经纪人认领"),
    ("introduced", "完成对接"),
    ("signed", "签约"),
)


@dataclass(frozen=True)
class FunnelStage:
    """Listings that reached a stage; rates are fractions (None when the base is 0)."""

    key: str
    label: str
    results: int
    needs: int
    total: int
    rate_from_previous: float | None
    rate_from_listed: float | None


@dataclass(frozen=True)
class AgentRow:
    """One agent's work: matches claimed, introduced, contracts signed and the 技术交易额 credited."""

    user_id: int
    name: str
    organization: str | None
    claimed: int = 0
    introduced: int = 0
    signed: int = 0
    amount_wan: float = 0.0
    tech_amount_wan: float = 0.0


# --- funnel and agents ---------------------------------------------------------------------------------


def _funnel_counts(session: Session, listing, match_col, contract_col, period: Period) -> list[int]:
    listed = select(listing.id).where(
        or_(listing.status.in_(LISTED_STATUSES), listing.published_at.is_not(None)),
        *period.on_timestamps(listing.published_at),
    )
    claimed = or_(
        Match.status.in_(CLAIMED_STATUSES),
        Match.introduced_at.is_not(None),
        Match.id.in_(select(MatchEvent.match_id).where(MatchEvent.action == "claim")),
    )

    def reached(column, *where):
        return select(func.count(sa.distinct(column))).where(column.in_(listed), *where).scalar_subquery()

    row = session.exec(
        select(
            select(func.count()).select_from(listed.subquery()).scalar_subquery(),
            reached(match_col),
            reached(match_col, claimed),
            reached(match_col, Match.introduced_at.is_not(None)),
            reached(contract_col),
        )
    ).one()
    return [int(v) for v in row]


def _rate(part: int, base: int) -> float | None:
    return round(part / base, 4) if base else None


def funnel(session: Session, *, period: Period = Period()) -> list[FunnelStage]:
    """挂牌 → 获得推荐 → 认领 → 对接 → 签约, counted in listings (results and needs), with conversion rates.

    Listed: results and needs published (now or before: 已发布, 已成交, or with a publication date).
    Matched: with at least one match. Claimed: with a match an agent claimed (a claim event, or a status
    past 推荐). Introduced: with a match whose two sides were introduced. Signed: with a contract.
    """
    results = _funnel_counts(session, ResearchResult, Match.result_id, Contract.result_id, period)
    needs = _funnel_counts(session, TechNeed, Match.need_id, Contract.need_id, period)
    stages = []
    for i, (key, label) in enumerate(FUNNEL_STAGES):
        total = results[i] + needs[i]
        previous = results[i - 1] + needs[i - 1] if i else total
        listed = results[0] + needs[0]
        stages.append(
            FunnelStage(key, label, results[i], needs[i], total, _rate(total, previous), _rate(total, listed))
        )
    return stages


def agent_leaderboard(session: Session, *, period: Period = Period()) -> list[AgentRow]:
    """Per agent: matches claimed (claim events), introduced (credited introducer) and contracts signed
    with the 技术交易额 credited to them, by the rule of `market.deals.credit` (the brokers' track
    records use the same functions); every active agent appears, best first."""
    claims = credit.claims(session, period=period)
    introduced = credit.introductions(session, period=period)
    signed = credit.contracts(session, period=period)
    ids = set(claims) | set(introduced) | set(signed)
    people = session.exec(
        select(User.id, User.display_name, Organization.name)
        .outerjoin(Organization, Organization.id == User.organization_id)
        .where(or_(User.id.in_(ids), sa.and_(User.role == Role.AGENT, User.active)))
    ).all()
    rows = []
    for uid, name, org in people:
        n_signed, amount, tech = signed.get(uid, (0, 0.0, 0.0))
        rows.append(
            AgentRow(
                user_id=uid,
                name=name,
                organization=org,
                claimed=int(claims.get(uid, 0)),
                introduced=int(introduced.get(uid, 0)),
                signed=n_signed,
                amount_wan=amount,
                tech_amount_wan=tech,
            )
        )
    rows.sort(key=lambda r: (-r.tech_amount_wan, -r.signed, -r.introduced, -r.claimed, r.user_id))
    return rows
