"""The dashboard's sections: one definition per chart gives its title, the query, the table (page fallback and
CSV download) and the chart spec that market/static/js/charts.js draws with ECharts.

Chart specs are plain data put in a `data-chart` attribute (no inline script under the CSP):
- combo: {categories, axes: [{name, integer}], series: [{name, kind: bar|line, axis, data}]}
- pie: {series_name, data: [{name, value}]}
- funnel: {series_name, unit, data: [{name, value, text}]}: `text` is the stage's label drawn inside the
  chart, its Chinese name and count ("挂牌：120 条"), so no stage is left unlabelled
- hbar: {categories, series: [{name, data, integer, unit}]} (horizontal bars, one value axis per series,
  named by its unit — 万元 at the bottom, 件 on top — so counts and amounts never share a scale)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from market.stats import service
from market.stats.service import AgentRow, Bucket, FunnelStage, Period

COUNT = "合同数"
AMOUNT = "合同金额（万元）"
TECH = "技术交易额（万元）"
#: the default series: 技术交易额 of registered contracts (what the city's KPI counts)
REGISTERED_TECH = "已认定登记技术交易额（万元，默认口径）"
UNREGISTERED_TECH = "未登记合同技术交易额（万元）"
DEAL_AMOUNT = "成交额（万元，全部合同）"
TOP_AGENTS_CHARTED = 15
#: units of the charts' value axes
WAN, PIECES, LISTINGS = "万元", "件", "条"


@dataclass(frozen=True)
class Section:
    """One chart with its table and CSV download (`/stats/<name>.csv`)."""

    name: str
    title: str
    note: str
    header: tuple[str, ...]
    query: Callable[..., list]
    rows: Callable[[list], list[list[Any]]]
    chart: Callable[[list], dict]

    def load(self, session: Session, period: Period) -> list:
        return self.query(session, period=period)


def percent(rate: float | None) -> str:
    """A fraction as a percentage with one decimal, “—” when undefined."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _bucket_rows(items: Sequence[Bucket]) -> list[list[Any]]:
    return [
        [
            b.key,
            b.contracts,
            b.amount_wan,
            b.tech_amount_wan,
            b.registered_contracts,
            b.registered_tech_amount_wan,
        ]
        for b in items
    ]


def _combo(items: Sequence[Bucket], *, count_kind: str = "bar", tech_kind: str = "bar") -> dict:
    return {
        "type": "combo",
        "categories": [b.key for b in items],
        "axes": [{"name": COUNT, "integer": True}, {"name": "万元", "integer": False}],
        "series": [
            {"name": COUNT, "kind": count_kind, "axis": 0, "data": [b.contracts for b in items]},
            {
                "name": REGISTERED_TECH,
                "kind": tech_kind,
                "axis": 1,
                "data": [b.registered_tech_amount_wan for b in items],
            },
            {
                "name": UNREGISTERED_TECH,
                "kind": tech_kind,
                "axis": 1,
                "data": [b.unregistered_tech_amount_wan for b in items],
            },
            {"name": DEAL_AMOUNT, "kind": "line", "axis": 1, "data": [b.amount_wan for b in items]},
        ],
        "empty": not any(b.contracts for b in items),
    }


def _pie(items: Sequence[Bucket]) -> dict:
    return {
        "type": "pie",
        "series_name": REGISTERED_TECH,
        "data": [
            {"name": b.key, "value": b.registered_tech_amount_wan} for b in items if b.registered_contracts
        ],
        "empty": not any(b.contracts for b in items),
    }


def _funnel_rows(stages: Sequence[FunnelStage]) -> list[list[Any]]:
    return [
        [s.label, s.results, s.needs, s.total, percent(s.rate_from_previous), percent(s.rate_from_listed)]
        for s in stages
    ]


def _funnel_chart(stages: Sequence[FunnelStage]) -> dict:
    return {
        "type": "funnel",
        "series_name": "挂牌数（成果 + 需求）",
        "unit": LISTINGS,
        "data": [
            {"name": s.label, "value": s.total, "text": f"{s.label}：{s.total:,} {LISTINGS}"} for s in stages
        ],
        "empty": not stages or stages[0].total == 0,
    }


def _agent_rows(agents: Sequence[AgentRow]) -> list[list[Any]]:
    return [
        [i, a.name, a.organization, a.claimed, a.introduced, a.signed, a.amount_wan, a.tech_amount_wan]
        for i, a in enumerate(agents, 1)
    ]


def _agent_chart(agents: Sequence[AgentRow]) -> dict:
    top = [a for a in agents if a.signed or a.introduced or a.claimed][:TOP_AGENTS_CHARTED]
    return {
        "type": "hbar",
        "categories": [a.name for a in top],
        "series": [
            {"name": TECH, "data": [a.tech_amount_wan for a in top], "integer": False, "unit": WAN},
            {
                "name": f"签约合同（{PIECES}）",
                "data": [a.signed for a in top],
                "integer": True,
                "unit": PIECES,
            },
        ],
        "empty": not top,
    }


_MONEY_HEADER = (COUNT, AMOUNT, "技术交易额（万元，全部合同）", "已认定登记合同数", REGISTERED_TECH)

SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section(
            "month",
            "按月份",
            "按合同签订日期所在月份统计；柱为合同数，折线默认为已认定登记合同的技术交易额，"
            "未登记合同的技术交易额与全部合同成交额为单列的系列。",
            ("月份", *_MONEY_HEADER),
            service.contracts_by_month,
            _bucket_rows,
            lambda items: _combo(items, tech_kind="line"),
        ),
        Section(
            "type",
            "按合同类型",
            "技术开发（委托 / 合作）、技术转让、技术许可、技术咨询、技术服务。",
            ("合同类型", *_MONEY_HEADER),
            service.contracts_by_type,
            _bucket_rows,
            _combo,
        ),
        Section(
            "field",
            "按技术领域",
            "按合同所涉科技成果的一级技术领域统计；成果未填写领域的计入“未分类”。",
            ("技术领域", *_MONEY_HEADER),
            service.contracts_by_field,
            _bucket_rows,
            _combo,
        ),
        Section(
            "seller_kind",
            "按卖方机构类型",
            "按成果方（合同卖方）机构类型统计；图为已认定登记合同的技术交易额占比。",
            ("卖方机构类型", *_MONEY_HEADER),
            service.contracts_by_seller_kind,
            _bucket_rows,
            _pie,
        ),
        Section(
            "region",
            "按地区",
            "地区指成果方（合同卖方）机构所在地区，不是买方所在地；图为已认定登记合同的技术交易额占比。",
            ("卖方所在地区", *_MONEY_HEADER),
            service.contracts_by_region,
            _bucket_rows,
            _pie,
        ),
        Section(
            "funnel",
            "转化漏斗",
            "按挂牌条目（成果与需求）计数：已发布 → 获得推荐 → 经纪人认领 → 完成对接 → 签约；"
            "选定日期区间时，统计区间内发布的条目此后的进展。",
            ("阶段", "科技成果", "技术需求", "合计", "较上一阶段", "占挂牌比例"),
            service.funnel,
            _funnel_rows,
            _funnel_chart,
        ),
        Section(
            "agents",
            "技术经纪人排行",
            "认领：认领对接的次数（按对接记录）；对接：作为介绍人完成对接的数量；"
            "签约与技术交易额：合同登记时记在该经纪人名下的部分。",
            ("排名", "技术经纪人", "所属机构", "认领对接", "完成对接", "签约合同", AMOUNT, TECH),
            service.agent_leaderboard,
            _agent_rows,
            _agent_chart,
        ),
    )
}

#: which Dashboard attribute holds each section's items
DASHBOARD_ATTR = {
    "month": "by_month",
    "type": "by_type",
    "field": "by_field",
    "seller_kind": "by_seller_kind",
    "region": "by_region",
    "funnel": "funnel",
    "agents": "agents",
}


@dataclass(frozen=True)
class Rendered:
    """A section ready for the template: its definition, table rows and chart spec."""

    section: Section
    rows: list[list[Any]]
    chart: dict


def render(dashboard: service.Dashboard) -> list[Rendered]:
    """Every section of `dashboard`, in page order."""
    out = []
    for name, section in SECTIONS.items():
        items = getattr(dashboard, DASHBOARD_ATTR[name])
        out.append(Rendered(section, section.rows(items), section.chart(items)))
    return out
