"""Who is credited with what (业绩归属): the one rule the statistics and the brokers' track records share.

The broker who introduced the two sides stays credited with the match and, when it is signed, with the
contract (Contract.agent_id, set from `credited_agent_id` when the contract is recorded); a match
introduced before `introduced_by_id` existed falls back to its holder. An administrator can reassign a
contract's credit; the change is kept on the match's timeline with who, when and why.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from market.accounts.models import User
from market.deals.models import Contract
from market.errors import DomainError, NotAllowed
from market.matches.models import Match, MatchEvent
from market.stats.period import Period
from vocab.taxonomy import Role

#: the credited introducer of a match, as SQL
INTRODUCER = func.coalesce(Match.introduced_by_id, Match.agent_id)


def credited_agent_id(match: Match) -> int | None:
    """The broker a contract signed on `match` is credited to: the introducer, else the holder."""
    return match.introduced_by_id or match.agent_id


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


def _only(column, agent_ids) -> list:
    return [] if agent_ids is None else [column.in_(list(agent_ids))]


def claims(session: Session, *, period: Period = Period(), agent_ids=None) -> dict[int, int]:
    """Matches each broker claimed (worked) in the period: distinct matches with a claim event by them."""
    rows = session.exec(
        select(MatchEvent.actor_id, func.count(sa.distinct(MatchEvent.match_id)))
        .where(MatchEvent.action == "claim", MatchEvent.actor_id.is_not(None))
        .where(*period.on_timestamps(MatchEvent.created_at), *_only(MatchEvent.actor_id, agent_ids))
        .group_by(MatchEvent.actor_id)
    ).all()
    return {uid: int(n) for uid, n in rows}


def introductions(session: Session, *, period: Period = Period(), agent_ids=None) -> dict[int, int]:
    """Matches introduced in the period, per credited introducer."""
    rows = session.exec(
        select(INTRODUCER, func.count(Match.id))
        .where(Match.introduced_at.is_not(None), INTRODUCER.is_not(None))
        .where(*period.on_timestamps(Match.introduced_at), *_only(INTRODUCER, agent_ids))
        .group_by(INTRODUCER)
    ).all()
    return {uid: int(n) for uid, n in rows}


def contracts(
    session: Session, *, period: Period = Period(), agent_ids=None
) -> dict[int, tuple[int, float, float]]:
    """Per credited broker: (contracts, 合同金额, 技术交易额 in 万元) of contracts signed in the period."""
    rows = session.exec(
        select(
            Contract.agent_id,
            func.count(Contract.id),
            func.coalesce(func.sum(Contract.amount_wan), 0),
            func.coalesce(func.sum(Contract.tech_amount_wan), 0),
        )
        .where(Contract.agent_id.is_not(None), *period.on_dates(Contract.signed_on))
        .where(*_only(Contract.agent_id, agent_ids))
        .group_by(Contract.agent_id)
    ).all()
    return {uid: (int(n), _money(amount), _money(tech)) for uid, n, amount, tech in rows}


def reassign(session: Session, *, actor: User, contract: Contract, agent: User, reason: str) -> Contract:
    """An administrator credits the contract to another broker (a correction), with a reason that goes
    on the match's timeline beside who made it and when."""
    if actor.role != Role.ADMIN:
        raise NotAllowed((None, "只有平台运营可以调整业绩归属"))
    reason = (reason or "").strip()
    errors = []
    if agent.role != Role.AGENT or not agent.active:
        errors.append(("agent", "只能归属给在职的技术经纪人"))
    if not reason:
        errors.append(("reason", "请说明调整业绩归属的原因"))
    if errors:
        raise DomainError(*errors)
    if contract.agent_id == agent.id:
        return contract
    before = session.get(User, contract.agent_id) if contract.agent_id else None
    contract.agent_id = agent.id
    session.add(contract)
    session.add(
        MatchEvent(
            match_id=contract.match_id,
            actor_id=actor.id,
            action="credit",
            note=f"合同 #{contract.id} 业绩归属由 {before.display_name if before else '无'} 改为 "
            f"{agent.display_name}：{reason[:500]}",
        )
    )
    session.flush()
    return contract
