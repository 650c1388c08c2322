"""Contracts (技术合同) and 技术交易额: totals and breakdowns by month, type, field, seller kind and region.

Aggregated in SQL with GROUP BY, portable between SQLite and PostgreSQL. Money is in 万元
(1 亿元 = 10,000 万元), rounded to two decimals once, after summing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from market.accounts.models import Organization
from market.deals.models import Contract
from market.listings.models import ResearchResult, TechNeed
from market.stats.period import Period
from vocab.taxonomy import (
    FIELDS,
    PLAN_BASELINE_2020_YI,
    PLAN_TARGET_2025_YI,
    ContractType,
    ListingStatus,
    OrgKind,
    Region,
    field_parent,
    values,
)

WAN_PER_YI = 10_000
UNCLASSIFIED = "未分类"


@dataclass(frozen=True)
class Bucket:
    """Contracts in one group: how many, 合同金额 (成交额) and 技术交易额 (万元), and of them the ones
    registered (技术合同认定登记), whose 技术交易额 is what the city's KPI counts."""

    key: str
    contracts: int = 0
    amount_wan: float = 0.0
    tech_amount_wan: float = 0.0
    registered_contracts: int = 0
    registered_tech_amount_wan: float = 0.0

    @property
    def unregistered_tech_amount_wan(self) -> float:
        return money(self.tech_amount_wan - self.registered_tech_amount_wan)


@dataclass(frozen=True)
class Totals:
    """Headline figures (public): contracts and money in the period, listings published now."""

    contracts: int
    amount_wan: float
    tech_amount_wan: float
    tech_amount_yi: float
    published_results: int
    published_needs: int
    registered_contracts: int = 0
    #: the default figure: 技术交易额 of registered contracts
    registered_tech_amount_wan: float = 0.0

    @property
    def unregistered_tech_amount_wan(self) -> float:
        return money(self.tech_amount_wan - self.registered_tech_amount_wan)


@dataclass(frozen=True)
class PlanContext:
    """The city's technology-market figures (全市技术市场交易额) beside the platform's own 技术交易额."""

    city_baseline_2020_yi: float = PLAN_BASELINE_2020_YI
    city_target_2025_yi: float = PLAN_TARGET_2025_YI
    platform_tech_amount_yi: float = 0.0


# --- contracts -----------------------------------------------------------------------------------------


def money(value: Any) -> float:
    """A summed amount in 万元 as a float rounded to fen (SQLite sums REAL, PostgreSQL NUMERIC)."""
    return round(float(value or 0), 2)


_REGISTERED = Contract.registration_no.is_not(None)
#: contracts, 合同金额 and 技术交易额 of a group, then the registered ones' count and 技术交易额
#: (0 rather than NULL for an empty one)
AGGREGATES = (
    func.count(Contract.id),
    func.coalesce(func.sum(Contract.amount_wan), 0),
    func.coalesce(func.sum(Contract.tech_amount_wan), 0),
    func.coalesce(func.sum(sa.case((_REGISTERED, 1), else_=0)), 0),
    func.coalesce(func.sum(sa.case((_REGISTERED, Contract.tech_amount_wan), else_=0)), 0),
)


def _bucket(key: str, n, amount, tech, reg_n, reg_tech) -> Bucket:
    return Bucket(key, int(n), money(amount), money(tech), int(reg_n), money(reg_tech))


def _grouped(session: Session, key, period: Period, *joins) -> dict[Any, Bucket]:
    stmt = select(key, *AGGREGATES).select_from(Contract)
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    stmt = stmt.where(*period.on_dates(Contract.signed_on)).group_by(key)
    return {k: _bucket(k or "", *rest) for k, *rest in session.exec(stmt).all()}


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
        money(sum(b.amount_wan for b in buckets)),
        money(sum(b.tech_amount_wan for b in buckets)),
        sum(b.registered_contracts for b in buckets),
        money(sum(b.registered_tech_amount_wan for b in buckets)),
    )


def contracts_by_month(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per month of signing (YYYY-MM), from the first to the last month with a contract, gaps at 0."""
    year = sa.extract("year", Contract.signed_on)
    month = sa.extract("month", Contract.signed_on)
    stmt = select(year, month, *AGGREGATES).where(*period.on_dates(Contract.signed_on)).group_by(year, month)
    found = {(int(y), int(m)): rest for y, m, *rest in session.exec(stmt).all()}
    if not found:
        return []
    (y, m), last = min(found), max(found)
    rows = []
    while (y, m) <= last:
        rows.append(_bucket(f"{y:04d}-{m:02d}", *found.get((y, m), (0, 0, 0, 0, 0))))
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
    # investors (投资机构) never sell a result: they are not a seller kind
    kinds = tuple(k for k in values(OrgKind) if k != OrgKind.INVESTOR)
    return _by_seller(session, "kind", kinds, period)


def contracts_by_region(session: Session, *, period: Period = Period()) -> list[Bucket]:
    """Per region of the selling organisation (天津 / 北京 / 河北 / 其他)."""
    return _by_seller(session, "region", values(Region), period)


def totals(session: Session, *, period: Period = Period()) -> Totals:
    """Contracts, 合同金额 and 技术交易额 in the period; results and needs published now."""
    n, amount, tech, reg_n, reg_tech = session.exec(
        select(*AGGREGATES).where(*period.on_dates(Contract.signed_on))
    ).one()
    published = ListingStatus.PUBLISHED
    results = session.exec(select(func.count(ResearchResult.id)).where(ResearchResult.status == published))
    needs = session.exec(select(func.count(TechNeed.id)).where(TechNeed.status == published))
    tech_wan = money(tech)
    return Totals(
        contracts=int(n),
        amount_wan=money(amount),
        tech_amount_wan=tech_wan,
        tech_amount_yi=round(tech_wan / WAN_PER_YI, 4),
        published_results=int(results.one()),
        published_needs=int(needs.one()),
        registered_contracts=int(reg_n),
        registered_tech_amount_wan=money(reg_tech),
    )


def plan_context(platform_tech_amount_wan: float) -> PlanContext:
    """The plan's city-wide figures with the platform's 技术交易额 in 亿元 beside them."""
    return PlanContext(platform_tech_amount_yi=round(platform_tech_amount_wan / WAN_PER_YI, 4))
