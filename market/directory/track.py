"""Track records (业绩) of brokers and agencies, counted from the platform's own matches and contracts.

Nothing here is stored or typed in: each figure is a query over match events, matches and contracts at
the time of reading, and the credit for introductions and contracts follows `market.deals.credit`, the
rule the statistics use. Every record carries the period it covers.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, func, select

from market.accounts.models import User
from market.db import utcnow
from market.deals import credit
from market.deals.models import Contract
from market.matches.models import Match, MatchEvent
from market.stats.period import LOCAL_TZ, Period
from vocab.taxonomy import Role


@dataclass(frozen=True)
class TrackRecord:
    """A broker's (or an agency's brokers') work in `period`; `covers` is the stretch of days shown."""

    period: Period
    first_day: date | None
    last_day: date
    matches_worked: int = 0
    introductions: int = 0
    contracts_signed: int = 0
    contracts_credited: int = 0
    amount_wan: float = 0.0
    tech_amount_wan: float = 0.0
    median_hours_to_introduction: float | None = None

    @property
    def covers(self) -> str:
        start = self.period.start or self.first_day
        end = self.period.end or self.last_day
        if start is None:
            return f"截至 {end.isoformat()}（尚无记录）"
        return f"{start.isoformat()} 至 {end.isoformat()}"


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)  # SQLite gives back UTC wall time


def _local_day(ts: datetime | None) -> date | None:
    if ts is None:
        return None
    return _utc(ts).astimezone(LOCAL_TZ).date()


def _signs(session: Session, ids: list[int], period: Period) -> int:
    """Matches these brokers moved to 已签约 (they recorded the signing) in the period."""
    return int(
        session.exec(
            select(func.count(MatchEvent.id)).where(
                MatchEvent.action == "sign",
                MatchEvent.actor_id.in_(ids),
                *period.on_timestamps(MatchEvent.created_at),
            )
        ).one()
    )


def _median_hours(session: Session, ids: list[int], period: Period) -> float | None:
    """Median hours from the introducer's claim to the introduction, over matches introduced in the period."""
    introduced = session.exec(
        select(Match.id, credit.INTRODUCER, Match.introduced_at).where(
            Match.introduced_at.is_not(None),
            credit.INTRODUCER.in_(ids),
            *period.on_timestamps(Match.introduced_at),
        )
    ).all()
    if not introduced:
        return None
    claims: dict[tuple[int, int], list[datetime]] = {}
    for match_id, actor_id, at in session.exec(
        select(MatchEvent.match_id, MatchEvent.actor_id, MatchEvent.created_at).where(
            MatchEvent.action == "claim", MatchEvent.match_id.in_([m for m, _, _ in introduced])
        )
    ).all():
        claims.setdefault((match_id, actor_id), []).append(_utc(at))
    hours = []
    for match_id, who, at in introduced:
        at = _utc(at)
        before = [c for c in claims.get((match_id, who), []) if c <= at]
        if before:  # the claim that led to this introduction: the introducer's last one before it
            hours.append((at - max(before)).total_seconds() / 3600)
    return round(statistics.median(hours), 1) if hours else None


def _first_day(session: Session, ids: list[int]) -> date | None:
    first_event = session.exec(
        select(func.min(MatchEvent.created_at)).where(MatchEvent.actor_id.in_(ids))
    ).one()
    first_contract = session.exec(
        select(func.min(Contract.signed_on)).where(Contract.agent_id.in_(ids))
    ).one()
    days = [d for d in (_local_day(first_event), first_contract) if d is not None]
    return min(days) if days else None


def record_for(session: Session, ids: list[int], *, period: Period = Period()) -> TrackRecord:
    """The combined record of the brokers `ids` (one broker, or an agency's brokers)."""
    today = _local_day(utcnow())
    if not ids:
        return TrackRecord(period=period, first_day=None, last_day=today)
    contracts = credit.contracts(session, period=period, agent_ids=ids).values()
    return TrackRecord(
        period=period,
        first_day=_first_day(session, ids),
        last_day=today,
        matches_worked=sum(credit.claims(session, period=period, agent_ids=ids).values()),
        introductions=sum(credit.introductions(session, period=period, agent_ids=ids).values()),
        contracts_signed=_signs(session, ids, period),
        contracts_credited=sum(n for n, _, _ in contracts),
        amount_wan=round(sum(a for _, a, _ in contracts), 2),
        tech_amount_wan=round(sum(t for _, _, t in contracts), 2),
        median_hours_to_introduction=_median_hours(session, ids, period),
    )


def broker_record(session: Session, user_id: int, *, period: Period = Period()) -> TrackRecord:
    """One broker's track record."""
    return record_for(session, [user_id], period=period)


def agency_record(session: Session, org_id: int, *, period: Period = Period()) -> TrackRecord:
    """An agency's track record: the work of everyone who is, or was, a broker of it."""
    ids = list(
        session.exec(select(User.id).where(User.organization_id == org_id, User.role == Role.AGENT)).all()
    )
    return record_for(session, ids, period=period)


@dataclass(frozen=True)
class BrokerLine:
    """A broker's headline figures beside their name on an agency's page."""

    introductions: int = 0
    contracts_credited: int = 0
    tech_amount_wan: float = 0.0


def lines_for(session: Session, ids: list[int], *, period: Period = Period()) -> dict[int, BrokerLine]:
    """Headline figures of several brokers in two grouped queries (not one record per broker)."""
    if not ids:
        return {}
    introduced = credit.introductions(session, period=period, agent_ids=ids)
    contracts = credit.contracts(session, period=period, agent_ids=ids)
    return {
        uid: BrokerLine(
            introduced.get(uid, 0), contracts.get(uid, (0, 0.0, 0.0))[0], contracts.get(uid, (0, 0.0, 0.0))[2]
        )
        for uid in ids
    }
