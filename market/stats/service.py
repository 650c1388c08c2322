"""Statistics queries: contracts and 技术交易额 by month / type / field / seller, the funnel, agents.

Every function takes a Session and keyword-only arguments, aggregates in SQL (GROUP BY, portable between
SQLite and PostgreSQL) and returns plain dataclasses. The queries live in `contracts` (money) and `activity`
(funnel, agents); this module assembles the pages' figures and is the one import for routes and tests.

The optional `Period` filters contracts by `signed_on`, agent activity by the date of the step (claim
event, introduction, signing) and the funnel by the listings' publication date (a cohort: listings
published in the period, followed to wherever they got since).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session

from market.stats.activity import AgentRow, FunnelStage, agent_leaderboard, funnel
from market.stats.contracts import (
    Bucket,
    PlanContext,
    Totals,
    contracts_by_field,
    contracts_by_month,
    contracts_by_region,
    contracts_by_seller_kind,
    contracts_by_type,
    plan_context,
    totals,
)
from market.stats.period import Period, StatsParamError, parse_period

__all__ = [
    "AgentRow",
    "Bucket",
    "Dashboard",
    "FunnelStage",
    "Period",
    "PlanContext",
    "PublicSummary",
    "StatsParamError",
    "Totals",
    "agent_leaderboard",
    "contracts_by_field",
    "contracts_by_month",
    "contracts_by_region",
    "contracts_by_seller_kind",
    "contracts_by_type",
    "dashboard",
    "funnel",
    "parse_period",
    "plan_context",
    "public_summary",
    "to_json",
    "totals",
]


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


# --- pages ---------------------------------------------------------------------------------------------


def public_summary(session: Session, *, period: Period = Period()) -> PublicSummary:
    """Totals and the plan context: what a visitor may see."""
    t = totals(session, period=period)
    return PublicSummary(period=period, totals=t, plan=plan_context(t.registered_tech_amount_wan))


def dashboard(session: Session, *, period: Period = Period()) -> Dashboard:
    """Every figure of the admin statistics page."""
    t = totals(session, period=period)
    return Dashboard(
        period=period,
        totals=t,
        plan=plan_context(t.registered_tech_amount_wan),
        by_month=contracts_by_month(session, period=period),
        by_type=contracts_by_type(session, period=period),
        by_field=contracts_by_field(session, period=period),
        by_seller_kind=contracts_by_seller_kind(session, period=period),
        by_region=contracts_by_region(session, period=period),
        funnel=funnel(session, period=period),
        agents=agent_leaderboard(session, period=period),
    )
