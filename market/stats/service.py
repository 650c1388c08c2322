"""Statistics queries: contracts and 技术交易额 by month / type / field / seller, the funnel, agents.

Every function takes a Session and keyword-only arguments, aggregates in SQL (GROUP BY, portable between
SQLite and PostgreSQL) and returns plain dataclasses. Money is in 万元 (1 亿元 = 10,000 万元), rounded to
two decimals once, after summing.

The optional `Period` filters contracts by `signed_on`, agent activity by the date of the step (claim
event, introduction, signing) and the funnel by the listings' publication date (a cohort: listings
published in the period, followed to wherever they got since).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, or_, select

from market.accounts.models import Organization, User
from market.deals.models import Contract
from market.errors import DomainError
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match, MatchEvent
from vocab.taxonomy import (
    FIELDS,
    PLAN_BASELINE_2020_YI,
    PLAN_TARGET_2025_YI,
    ContractType,
    ListingStatus,
    MatchStatus,
    OrgKind,
    Region,
    Role,
    field_parent,
    values,
)

WAN_PER_YI = 10_000
UNCLASSIFIED = "未分类"
#: the platform's users are in Tianjin; a calendar day there starts at 00:00 UTC+8 (no daylight saving)
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

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

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class StatsParamError(DomainError):
    """A statistics query parameter is invalid (400)."""


@dataclass(frozen=True)
class Period:
    """An inclusive range of calendar days; either end may be open."""

    start: date | None = None
    end: date | None = None

    @property
    def is_open(self) -> bool:
        return self.start is None and self.end is None

    def on_dates(self, column) -> list:
        """Conditions on a DATE column."""
        conds = []
        if self.start:
            conds.append(column >= self.start)
        if self.end:
            conds.append(column <= self.end)
        return conds

    def on_timestamps(self, column) -> list:
        """Conditions on a timestamp column: the local days, as UTC instants (end exclusive)."""
        conds = []
        if self.start:
            conds.append(column >= _utc_midnight(self.start))
        if self.end:
            conds.append(column < _utc_midnight(self.end + timedelta(days=1)))
        return conds


def _utc_midnight(day: date) -> datetime:
    # SQLite keeps timestamps as UTC wall time, so the bound must be UTC too.
    return datetime.combine(day, time.min, LOCAL_TZ).astimezone(UTC)


def parse_period(*, start: str | None, end: str | None) -> Period:
    """A Period from two YYYY-MM-DD strings (blank means open); StatsParamError in Chinese otherwise."""
    errors: list[tuple[str, str]] = []
    parsed: dict[str, date | None] = {}
    for name, label, raw in (("from", "开始日期", start), ("to", "结束日期", end)):
        text = (raw or "").strip()
        parsed[name] = None
        if not text:
            continue
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            parsed[name] = date.fromisoformat(text)
        except ValueError:
            errors.append((name, f"{label}“{text[:20]}”无效，请使用 YYYY-MM-DD 格式，例如 2025-01-31"))
    if not errors and parsed["from"] and parsed["to"] and parsed["from"] > parsed["to"]:
        errors.append(("from", "开始日期不能晚于结束日期"))
    if errors:
        raise StatsParamError(*errors)
    return Period(parsed["from"], parsed["to"])


# --- results -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """Contracts in one group: how many, 合同金额 and 技术交易额 (万元)."""

    key: str
    contracts: int = 0
    amount_wan: float = 0.0
    tech_amount_wan: float = 0.0


@dataclass(frozen=True)
class Totals:
    """Headline figures (public): contracts and money in the period, listings published now."""

    contracts: int
    amount_wan: float
    tech_amount_wan: float
    tech_amount_yi: float
    published_results: int
    published_needs: int


@dataclass(frozen=True)
class PlanContext:
    """The city's technology-market figures (全市技术市场交易额) beside the platform's own 技术交易额."""

    city_baseline_2020_yi: float = PLAN_BASELINE_2020_YI
    city_target_2025_yi: float = PLAN_TARGET_2025_YI
    platform_tech_amount_yi: float = 0.0


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


@dataclass(frozen=True)
class Dashboard:
    """Everything the admin statistics page shows."""

    period: Period
    totals: Totals
    plan: PlanContext
    by_month: list[Bucket] = field(default_factory=list)
    by_type: list[Bucket] = field(default_factory=list)
    by_field: list[Bucket] = field(default_factory=list)
    by_seller_kind: list[Bucket] = field(default_factory=list)
    by_region: list[Bucket] = field(default_factory=list)
    funnel: list[FunnelStage] = field(default_factory=list)
    agents: list[AgentRow] = field(default_factory=list)


@dataclass(frozen=True)
class PublicSummary:
    """What anyone may see: totals and the plan context, no breakdown by agent."""

    period: Period
    totals: Totals
    plan: PlanContext


def to_json(value: Any) -> Any:
    """A dataclass result as JSON-ready data (dates as YYYY-MM-DD)."""
    data = asdict(value) if hasattr(value, "__dataclass_fields__") else value
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- contracts -----------------------------------------------------------------------------------------


def _money(value: Any) -> float:
    return round(float(value or 0), 2)


_AGGREGATES = (
    func.count(Contract.id),
    func.coalesce(func.sum(Contract.amount_wan), 0),
    func.coalesce(func.sum(Contract.tech_amount_wan), 0),
)


def _grouped(session: Session, key, period: Period, *joins) -> dict[Any, Bucket]:
    stmt = select(key, *_AGGREGATES).select_from(Contract)
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    stmt = stmt.where(*period.on_dates(Contract.signed_on)).group_by(key)
    return {
        k: Bucket(k or "", int(n), _money(amount), _money(tech))
        for k, n, amount, tech in session.exec(stmt).all()
    }


def _ordered(found: dict[Any, Bucket], order: tuple[str, ...], *, none_label: str) -> list[Bucket]:
    """Buckets in `order` (zero-filled), then any other value found, then the blank one as `none_label`."""
    rows = [found.get(k) or Bucket(k) for k in order]
    rows += [b for k, b in found.items() if k is not None and k not in order]
    if None in found:
        rows.append(replace(found[None], key=none_label))
    return rows


def _merge(key: str, buckets: list[Bucket]) -> Bucket:
    return Bucket(
        key,
        sum(b.contracts for b in buckets),
        _money(sum(b.amount_wan for b in buckets)),
        _money(sum(b.tech_amount_wan for b in buckets)),
    )


def contracts_by_month(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per month of signing (YYYY-MM), from the first to the last month with a contract, gaps at 0."""
    year = sa.extract("year", Contract.signed_on)
    month = sa.extract("month", Contract.signed_on)
    stmt = select(year, month, *_AGGREGATES).where(*period.on_dates(Contract.signed_on)).group_by(year, month)
    found = {
        (int(y), int(m)): (int(n), _money(amount), _money(tech))
        for y, m, n, amount, tech in session.exec(stmt).all()
    }
    if not found:
        return []
    (y, m), last = min(found), max(found)
    rows = []
    while (y, m) <= last:
        rows.append(Bucket(f"{y:04d}-{m:02d}", *found.get((y, m), (0, 0.0, 0.0))))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return rows


def contracts_by_type(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per 技术合同 type, every ContractType listed (0 when none)."""
    found = _grouped(session, Contract.contract_type, period)
    return _ordered(found, values(ContractType), none_label=UNCLASSIFIED)


def contracts_by_field(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per first-level technical field of the contract's research result; “未分类” when it has none."""
    found = _grouped(
        session, ResearchResult.field, period, (ResearchResult, ResearchResult.id == Contract.result_id)
    )
    by_top: dict[str, list[Bucket]] = {}
    for sub, bucket in found.items():
        by_top.setdefault(field_parent(sub) or UNCLASSIFIED, []).append(bucket)
    rows = [_merge(top, by_top.get(top, [])) for top in FIELDS]
    if UNCLASSIFIED in by_top:
        rows.append(_merge(UNCLASSIFIED, by_top[UNCLASSIFIED]))
    return rows


def _by_seller(session: Session, column_name: str, order: tuple[str, ...], period: Period) -> list[Bucket]:
    seller = aliased(Organization, name="seller")
    key = getattr(seller, column_name)
    found = _grouped(session, key, period, (seller, seller.id == Contract.seller_org_id))
    return _ordered(found, order, none_label=UNCLASSIFIED)


def contracts_by_seller_kind(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per kind of the selling organisation (高校 / 科研院所 / 新型研发机构 / 企业 …)."""
    return _by_seller(session, "kind", values(OrgKind), period)


def contracts_by_region(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per region of the selling organisation (天津 / 北京 / 河北 / 其他)."""
    return _by_seller(session, "region", values(Region), period)


def totals(session: Session, *, period: Period = Period()) -> Totals:
    """Contracts, 合同金额 and 技术交易额 in the period; results and needs published now."""
    n, amount, tech = session.exec(select(*_AGGREGATES).where(*period.on_dates(Contract.signed_on))).one()
    published = ListingStatus.PUBLISHED
    results = session.exec(select(func.count(ResearchResult.id)).where(ResearchResult.status == published))
    needs = session.exec(select(func.count(TechNeed.id)).where(TechNeed.status == published))
    tech_wan = _money(tech)
    return Totals(
        contracts=int(n),
        amount_wan=_money(amount),
        tech_amount_wan=tech_wan,
        tech_amount_yi=round(tech_wan / WAN_PER_YI, 4),
        published_results=int(results.one()),
        published_needs=int(needs.one()),
    )


def plan_context(platform_tech_amount_wan: float) -> PlanContext:
    """The plan's city-wide figures with the platform's 技术交易额 in 亿元 beside them."""
    return PlanContext(platform_tech_amount_yi=round(platform_tech_amount_wan / WAN_PER_YI, 4))


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
    with the 技术交易额 credited to them (Contract.agent_id); every active agent appears, best first."""
    claims = dict(
        session.exec(
            select(MatchEvent.actor_id, func.count(sa.distinct(MatchEvent.match_id)))
            .where(MatchEvent.action == "claim", MatchEvent.actor_id.is_not(None))
            .where(*period.on_timestamps(MatchEvent.created_at))
            .group_by(MatchEvent.actor_id)
        ).all()
    )
    introducer = func.coalesce(Match.introduced_by_id, Match.agent_id)
    introduced = dict(
        session.exec(
            select(introducer, func.count(Match.id))
            .where(Match.introduced_at.is_not(None), introducer.is_not(None))
            .where(*period.on_timestamps(Match.introduced_at))
            .group_by(introducer)
        ).all()
    )
    signed = {
        agent_id: (int(n), _money(amount), _money(tech))
        for agent_id, n, amount, tech in session.exec(
            select(Contract.agent_id, *_AGGREGATES)
            .where(Contract.agent_id.is_not(None), *period.on_dates(Contract.signed_on))
            .group_by(Contract.agent_id)
        ).all()
    }
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


# --- pages ---------------------------------------------------------------------------------------------


def public_summary(session: Session, *, period: Period = Period()) -> PublicSummary:
    """Totals and the plan context: what a visitor may see."""
    t = totals(session, period=period)
    return PublicSummary(period=period, totals=t, plan=plan_context(t.tech_amount_wan))


def dashboard(session: Session, *, period: Period = Period()) -> Dashboard:
    """Every figure of the admin statistics page."""
    t = totals(session, period=period)
    return Dashboard(
        period=period,
        totals=t,
        plan=plan_context(t.tech_amount_wan),
        by_month=contracts_by_month(session, period=period),
        by_type=contracts_by_type(session, period=period),
        by_field=contracts_by_field(session, period=period),
        by_seller_kind=contracts_by_seller_kind(session, period=period),
        by_region=contracts_by_region(session, period=period),
        funnel=funnel(session, period=period),
        agents=agent_leaderboard(session, period=period),
    )
