"""Read-side queries for matches: the agents' queue, an agent's board, a listing's matches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from market.accounts.models import Organization, User
from market.db import utcnow
from market.freshness import conditions as freshness
from market.freshness import rules as freshness_rules
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match, MatchEvent
from vocab.taxonomy import FIELDS, SUBFIELDS, ListingStatus, MatchStatus, Region, values

ResultOrg = aliased(Organization, name="result_org")
NeedOrg = aliased(Organization, name="need_org")


@dataclass
class Row:
    match: Match
    result: ResearchResult
    need: TechNeed
    result_org: Organization
    need_org: Organization

    @property
    def lapsed(self) -> bool:
        """One of the two listings is past its valid-until day (待更新): the match ranks lower."""
        return any(
            freshness_rules.stage(x.valid_until) != freshness_rules.CURRENT for x in (self.result, self.need)
        )

    @property
    def gone(self) -> bool:
        """One of the two listings is past the grace period too: the match is not offered."""
        return any(
            freshness_rules.stage(x.valid_until) == freshness_rules.GONE for x in (self.result, self.need)
        )

    @property
    def rank(self) -> float:
        """The score the match is ordered by (`conditions.ranked`): lower while a side has lapsed."""
        return freshness.rank_of(self.match.score, self.result, self.need)


@dataclass
class QueueFilters:
    field: str | None = None
    min_score: float | None = None
    region: str | None = None
    challenge: bool | None = None
    max_age_days: int | None = None
    interest: bool = False
    page: int = 1
    per_page: int = 20

    @classmethod
    def parse(cls, args: Any) -> QueueFilters:
        f = cls()
        field = (args.get("field") or "").strip()
        f.field = field if field in SUBFIELDS or field in FIELDS else None
        region = (args.get("region") or "").strip()
        f.region = region if region in values(Region) else None
        f.challenge = True if args.get("challenge") == "1" else None
        f.interest = args.get("interest") == "1"
        for name, cast, lo, hi in (
            ("min_score", float, 0, 1),
            ("max_age_days", int, 1, 3650),
            ("page", int, 1, 10**6),
        ):
            try:
                value = cast(args.get(name)) if args.get(name) not in (None, "") else None
            except ValueError:
                value = None
            if value is not None and lo <= value <= hi:
                setattr(f, name, value)
        f.page = f.page or 1
        return f

    def as_args(self) -> dict[str, Any]:
        out = {
            "field": self.field,
            "min_score": self.min_score,
            "region": self.region,
            "challenge": "1" if self.challenge else None,
            "max_age_days": self.max_age_days,
            "interest": "1" if self.interest else None,
        }
        return {k: v for k, v in out.items() if v is not None}


def _base():
    return (
        select(Match, ResearchResult, TechNeed, ResultOrg, NeedOrg)
        .join(ResearchResult, ResearchResult.id == Match.result_id)
        .join(TechNeed, TechNeed.id == Match.need_id)
        .join(ResultOrg, ResultOrg.id == ResearchResult.organization_id)
        .join(NeedOrg, NeedOrg.id == TechNeed.organization_id)
    )


def _offered():
    """Both listings current or within the grace period (read at query time: today's cutoff)."""
    return (freshness.offered(ResearchResult), freshness.offered(TechNeed))


def _rank():
    """Match score for ordering, penalised while either listing has lapsed (待更新)."""
    return freshness.ranked(Match.score, ResearchResult, TechNeed)


def _rows(session: Session, stmt) -> list[Row]:
    return [Row(*r) for r in session.exec(stmt).all()]


def queue(session: Session, f: QueueFilters) -> tuple[list[Row], int]:
    """Suggested matches between published listings still offered (freshness), raised ones first, then
    by score (lower while a side has lapsed)."""
    stmt = _base().where(
        Match.status == MatchStatus.SUGGESTED,
        Match.stale.is_(False),
        ResearchResult.status == ListingStatus.PUBLISHED,
        TechNeed.status == ListingStatus.PUBLISHED,
        *_offered(),
    )
    if f.field:
        fields = FIELDS.get(f.field, (f.field,))
        stmt = stmt.where((ResearchResult.field.in_(fields)) | (TechNeed.field.in_(fields)))
    if f.min_score is not None:
        stmt = stmt.where(Match.score >= f.min_score)
    if f.region:
        stmt = stmt.where((ResultOrg.region == f.region) | (NeedOrg.region == f.region))
    if f.challenge:
        stmt = stmt.where(TechNeed.is_challenge.is_(True))
    if f.interest:
        stmt = stmt.where(Match.raised_at.is_not(None))
    if f.max_age_days:
        stmt = stmt.where(Match.created_at >= utcnow() - timedelta(days=f.max_age_days))
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    stmt = stmt.order_by(Match.raised_at.is_(None), _rank().desc(), Match.id)
    return _rows(session, stmt.offset((f.page - 1) * f.per_page).limit(f.per_page)), total


def board(session: Session, agent_id: int) -> dict[str, list[Row]]:
    """An agent's matches grouped by status (columns of the board). The agent's own work stays on
    the board whatever the listings' freshness (the page badges a lapsed side); new work on a pair
    with a listing past the grace period is not offered: the queue leaves it out and claiming refuses."""
    rows = _rows(session, _base().where(Match.agent_id == agent_id).order_by(Match.updated_at.desc()))
    columns: dict[str, list[Row]] = {
        s: []
        for s in (
            MatchStatus.CLAIMED,
            MatchStatus.INTRODUCED,
            MatchStatus.NEGOTIATING,
            MatchStatus.SIGNED,
            MatchStatus.DECLINED,
        )
    }
    for row in rows:
        columns.setdefault(row.match.status, []).append(row)
    return columns


def one(session: Session, match_id: int) -> Row | None:
    rows = _rows(session, _base().where(Match.id == match_id))
    return rows[0] if rows else None


def for_listing(session: Session, kind: str, listing_id: int, *, limit: int = 50) -> list[Row]:
    """A listing's matches with published counterparts, best first (lower while a side has lapsed);
    none with a listing past the freshness grace period, this one included, until it is re-confirmed."""
    column = Match.result_id if kind == "result" else Match.need_id
    other = TechNeed if kind == "result" else ResearchResult
    stmt = (
        _base()
        .where(column == listing_id, Match.stale.is_(False))
        .where(other.status.in_((ListingStatus.PUBLISHED, ListingStatus.CLOSED)), *_offered())
        .order_by(_rank().desc(), Match.id)
        .limit(limit)
    )
    return _rows(session, stmt)


def timeline(session: Session, match_id: int):
    return session.exec(
        select(MatchEvent, User)
        .join(User, User.id == MatchEvent.actor_id, isouter=True)
        .where(MatchEvent.match_id == match_id)
        .order_by(MatchEvent.created_at, MatchEvent.id)
    ).all()
