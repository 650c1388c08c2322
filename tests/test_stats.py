"""Statistics: every figure is checked against sums computed here from the rows the fixture created."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from market.deals.models import Contract
from market.listings.models import ResearchResult, TechNeed
from market.matches.models import Match, MatchEvent
from market.stats import sections, service
from market.stats.service import Period
from tests.factories import login, make_org, make_user

T0 = datetime(2025, 1, 10, 2, 0, tzinfo=UTC)
CONTRACT_TYPES = ["技术开发（委托）", "技术开发（合作）", "技术转让", "技术许可", "技术咨询", "技术服务"]
ORG_KINDS = ["高校", "科研院所", "新型研发机构", "企业", "技术转移机构"]
REGIONS = ["天津", "北京", "河北", "其他"]
TOP_FIELDS = [
    "新一代信息技术",
    "生物技术与现代医药",
    "装备制造",
    "新能源",
    "新能源汽车及智能网联车",
    "新材料",
    "航空航天",
    "现代服务业",
    "现代农业",
    "资源与环境",
    "城市建设与公共安全",
    "人口健康",
]


@dataclass
class World:
    """What the fixture created, as plain values for the expected figures."""

    orgs: dict = field(default_factory=dict)
    agents: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)  # name -> (row, top-level field or 未分类)
    needs: dict = field(default_factory=dict)
    matches: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    contracts: list = field(default_factory=list)  # (row, seller org, top-level field)


@pytest.fixture
def world(session, people) -> World:
    w = World()
    w.orgs = {
        "tju": make_org(session, name="统计测试大学", kind="高校", region="天津"),
        "cas": make_org(session, name="统计测试研究所", kind="科研院所", region="北京"),
        "newrd": make_org(session, name="统计测试研究院", kind="新型研发机构", region="河北"),
        "firm_seller": make_org(session, name="+统计测试科技公司", kind="企业", region="其他"),
        "buyer": make_org(session, name="统计测试制造公司", kind="企业", region="天津"),
        "buyer2": make_org(session, name="统计测试材料公司", kind="企业", region="河北"),
    }
    agency = make_org(session, name="统计测试技术转移中心", kind="技术转移机构")
    w.agents = {
        "a": make_user(session, role="agent", org=agency, display_name="经纪人甲"),
        "b": make_user(session, role="agent", org=agency, display_name='=HYPERLINK("http://evil.example")'),
        "idle": make_user(session, role="agent", org=agency, display_name="经纪人丙"),
        "people_agent": people["agent"],
    }
    admin = people["admin"]

    def result(name, org, fld, top, status, published_at):
        row = ResearchResult(
            organization_id=w.orgs[org].id,
            title=f"成果{name}",
            summary="统计测试",
            field=fld,
            status=status,
            published_at=published_at,
        )
        session.add(row)
        session.flush()
        w.results[name] = (row, top)

    def need(name, org, status, published_at):
        row = TechNeed(
            organization_id=w.orgs[org].id,
            title=f"需求{name}",
            description="统计测试",
            status=status,
            published_at=published_at,
        )
        session.add(row)
        session.flush()
        w.needs[name] = row

    result("r1", "tju", "储能", "新能源", "已发布", T0)
    result("r2", "firm_seller", "人工智能", "新一代信息技术", "已发布", T0 + timedelta(days=30))
    result("r3", "newrd", None, "未分类", "已发布", T0 + timedelta(days=40))
    result("r4", "cas", "创新药物", "生物技术与现代医药", "已成交", T0 + timedelta(days=5))
    result("r5", "tju", "光伏", "新能源", "草稿", None)  # never published: not listed
    result("r6", "cas", "工业机器人", "装备制造", "已下架", T0 + timedelta(days=60))  # once published
    result("r7", "tju", "氢能", "新能源", "已发布", T0 + timedelta(days=70))  # listed, never matched
    # 2025-02-28 17:30 UTC is 2025-03-01 01:30 in Tianjin: inside a range starting 2025-03-01
    result("r8", "cas", "集成电路", "新一代信息技术", "已发布", datetime(2025, 2, 28, 17, 30, tzinfo=UTC))
    need("n1", "buyer", "已发布", T0)
    need("n2", "buyer2", "已发布", T0 + timedelta(days=20))
    need("n3", "buyer", "已成交", T0 + timedelta(days=3))
    need("n4", "buyer2", "待审核", None)  # not listed
    need("n5", "buyer", "已发布", T0 + timedelta(days=90))  # listed, never matched

    def match(name, r, n, status, agent=None, introduced_by=None, introduced_at=None):
        row = Match(
            result_id=w.results[r][0].id,
            need_id=w.needs[n].id,
            status=status,
            agent_id=agent.id if agent else None,
            introduced_by_id=introduced_by.id if introduced_by else None,
            introduced_at=introduced_at,
        )
        session.add(row)
        session.flush()
        w.matches[name] = row

    def event(m, actor, action, when, to_status=None):
        row = MatchEvent(
            match_id=w.matches[m].id, actor_id=actor.id, action=action, to_status=to_status, created_at=when
        )
        session.add(row)
        w.events.append(row)

    a, b = w.agents["a"], w.agents["b"]
    match("m1", "r1", "n1", "已签约", a, a, T0 + timedelta(days=2))
    match("m2", "r2", "n2", "已签约", b, b, T0 + timedelta(days=60))
    match("m3", "r3", "n1", "已认领", a)
    match("m4", "r4", "n3", "已签约", b, b, T0 + timedelta(days=8))
    match("m5", "r6", "n2", "推荐")  # claimed by the admin, then released: the claim event still counts
    match("m6", "r1", "n2", "未成交", a)  # claimed then declined
    match("m7", "r3", "n3", "已签约")  # signed without an introduction or an agent
    match("m8", "r8", "n5", "推荐")  # matched, nobody claimed it
    event("m1", a, "claim", T0 + timedelta(days=1), "已认领")
    event("m1", a, "introduce", T0 + timedelta(days=2), "已对接")
    event("m1", a, "sign", T0 + timedelta(days=4), "已签约")
    event("m2", b, "claim", T0 + timedelta(days=55), "已认领")
    event("m3", a, "claim", T0 + timedelta(days=65), "已认领")
    event("m4", b, "claim", T0 + timedelta(days=6), "已认领")
    event("m4", b, "claim", T0 + timedelta(days=7), "已认领")  # a repeated claim counts the match once
    event("m5", admin, "claim", T0 + timedelta(days=61), "已认领")
    event("m5", admin, "release", T0 + timedelta(days=62), "推荐")
    event("m6", a, "claim", T0 + timedelta(days=25), "已认领")
    event("m6", a, "decline", T0 + timedelta(days=26), "未成交")

    def contract(m, ctype, amount, tech, signed_on, agent):
        mt = w.matches[m]
        r_name = next(k for k, (row, _) in w.results.items() if row.id == mt.result_id)
        r, top = w.results[r_name]
        seller = next(o for o in w.orgs.values() if o.id == r.organization_id)
        row = Contract(
            match_id=mt.id,
            result_id=mt.result_id,
            need_id=mt.need_id,
            seller_org_id=seller.id,
            buyer_org_id=w.needs["n1"].organization_id,
            agent_id=agent.id if agent else None,
            contract_type=ctype,
            amount_wan=amount,
            tech_amount_wan=tech,
            signed_on=signed_on,
        )
        session.add(row)
        w.contracts.append((row, seller, top))

    contract("m1", "技术转让", 100.0, 80.5, date(2025, 1, 15), a)
    contract("m4", "技术许可", 55.55, 50.25, date(2025, 3, 1), b)
    contract("m7", "技术服务", 30.1, 30.1, date(2025, 3, 31), None)
    contract("m2", "技术开发（委托）", 200.0, 150.35, date(2026, 2, 10), b)
    session.commit()
    return w


# --- expected values, computed from the fixture's own lists --------------------------------------------


def in_period(d: date, start: date | None, end: date | None) -> bool:
    return (start is None or d >= start) and (end is None or d <= end)


def expected_groups(w: World, key, start=None, end=None) -> dict:
    groups: dict = defaultdict(lambda: [0, 0.0, 0.0])
    for c, seller, top in w.contracts:
        if in_period(c.signed_on, start, end):
            g = groups[key(c, seller, top)]
            g[0] += 1
            g[1] += c.amount_wan
            g[2] += c.tech_amount_wan
    return {k: (n, round(a, 2), round(t, 2)) for k, (n, a, t) in groups.items()}


def as_dict(buckets) -> dict:
    return {b.key: (b.contracts, b.amount_wan, b.tech_amount_wan) for b in buckets}


def nonzero(buckets) -> dict:
    return {k: v for k, v in as_dict(buckets).items() if v[0]}


# --- the service ---------------------------------------------------------------------------------------


def test_totals(session, world):
    t = service.totals(session)
    assert t.contracts == len(world.contracts) == 4
    assert t.amount_wan == round(sum(c.amount_wan for c, _, _ in world.contracts), 2)
    assert t.tech_amount_wan == round(sum(c.tech_amount_wan for c, _, _ in world.contracts), 2) == 311.2
    assert t.tech_amount_yi == round(t.tech_amount_wan / 10_000, 4)
    assert t.published_results == sum(1 for r, _ in world.results.values() if r.status == "已发布")
    assert t.published_needs == sum(1 for n in world.needs.values() if n.status == "已发布")


def test_by_month_is_continuous_and_sums_per_month(session, world):
    rows = service.contracts_by_month(session)
    expected = expected_groups(world, lambda c, s, t: c.signed_on.strftime("%Y-%m"))
    assert rows[0].key == "2025-01" and rows[-1].key == "2026-02"
    assert len(rows) == 14  # every month from the first to the last, gaps at 0
    assert nonzero(rows) == expected
    assert sum(b.contracts for b in rows) == len(world.contracts)


def test_by_type_lists_every_contract_type(session, world):
    rows = service.contracts_by_type(session)
    assert [b.key for b in rows] == CONTRACT_TYPES
    expected = expected_groups(world, lambda c, s, t: c.contract_type)
    assert nonzero(rows) == expected
    assert as_dict(rows)["技术开发（合作）"] == (0, 0.0, 0.0)


def test_by_field_uses_the_first_level_and_unclassified(session, world):
    rows = service.contracts_by_field(session)
    assert [b.key for b in rows] == [*TOP_FIELDS, "未分类"]
    expected = expected_groups(world, lambda c, s, top: top)
    assert nonzero(rows) == expected
    assert expected["未分类"][0] == 1


def test_by_seller_kind_and_region(session, world):
    kinds = service.contracts_by_seller_kind(session)
    assert [b.key for b in kinds] == ORG_KINDS
    assert nonzero(kinds) == expected_groups(world, lambda c, seller, t: seller.kind)
    regions = service.contracts_by_region(session)
    assert [b.key for b in regions] == REGIONS
    assert nonzero(regions) == expected_groups(world, lambda c, seller, t: seller.region)
    assert set(nonzero(regions)) == {"天津", "北京", "河北", "其他"}


def expected_funnel(w: World, start: datetime | None = None, end: datetime | None = None) -> dict:
    """Listings per stage, computed from the fixture's rows."""
    claimed_statuses = {"已认领", "已对接", "洽谈中", "已签约"}
    claim_events = {e.match_id for e in w.events if e.action == "claim"}
    signed_matches = {c.match_id for c, _, _ in w.contracts}

    def listed(row):
        ever = row.status in ("已发布", "已成交") or row.published_at is not None
        if start and (row.published_at is None or row.published_at < start):
            return False
        if end and (row.published_at is None or row.published_at >= end):
            return False
        return ever

    out = {}
    for kind, rows, attr in (
        ("results", [r for r, _ in w.results.values()], "result_id"),
        ("needs", list(w.needs.values()), "need_id"),
    ):
        ids = {r.id for r in rows if listed(r)}
        ms = [m for m in w.matches.values() if getattr(m, attr) in ids]
        claimed = [m for m in ms if m.status in claimed_statuses or m.id in claim_events or m.introduced_at]
        introduced = [m for m in ms if m.introduced_at is not None]
        signed = [m for m in ms if m.id in signed_matches]
        out[kind] = [
            len(ids),
            len({getattr(m, attr) for m in ms}),
            len({getattr(m, attr) for m in claimed}),
            len({getattr(m, attr) for m in introduced}),
            len({getattr(m, attr) for m in signed}),
        ]
    return out


def test_funnel_counts_listings_and_rates(session, world):
    stages = service.funnel(session)
    expected = expected_funnel(world)
    assert [s.key for s in stages] == ["listed", "matched", "claimed", "introduced", "signed"]
    # r3 was signed through m7 without an introduction: the stages are counted as defined, not forced to nest
    assert [s.results for s in stages] == expected["results"] == [7, 6, 5, 3, 4]
    assert [s.needs for s in stages] == expected["needs"] == [4, 4, 3, 3, 3]
    totals = [r + n for r, n in zip(expected["results"], expected["needs"], strict=True)]
    assert [s.total for s in stages] == totals
    assert stages[0].rate_from_previous == 1.0
    for prev, stage in itertools.pairwise(stages):
        assert stage.rate_from_previous == round(stage.total / prev.total, 4)
        assert stage.rate_from_listed == round(stage.total / totals[0], 4)


def test_funnel_is_zero_without_listings(session):
    stages = service.funnel(session)
    assert [s.total for s in stages] == [0] * 5
    assert all(s.rate_from_previous is None for s in stages)


def expected_agents(w: World, people, start=None, end=None) -> dict:
    """user id -> (claimed, introduced, signed, amount, tech), from the fixture's lists."""
    lo = datetime.combine(start, datetime.min.time(), UTC) - timedelta(hours=8) if start else None
    hi = (
        datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) - timedelta(hours=8)
        if end
        else None
    )

    def inside(ts):
        return (lo is None or ts >= lo) and (hi is None or ts < hi)

    claimed: dict = defaultdict(set)
    for e in w.events:
        if e.action == "claim" and inside(e.created_at):
            claimed[e.actor_id].add(e.match_id)
    introduced: dict = defaultdict(int)
    for m in w.matches.values():
        who = m.introduced_by_id or m.agent_id
        if m.introduced_at and who and inside(m.introduced_at):
            introduced[who] += 1
    signed: dict = defaultdict(lambda: [0, 0.0, 0.0])
    for c, _, _ in w.contracts:
        if c.agent_id and in_period(c.signed_on, start, end):
            s = signed[c.agent_id]
            s[0] += 1
            s[1] += c.amount_wan
            s[2] += c.tech_amount_wan
    ids = {u.id for u in w.agents.values()} | set(claimed) | set(introduced) | set(signed)
    return {
        uid: (
            len(claimed.get(uid, ())),
            introduced.get(uid, 0),
            signed[uid][0] if uid in signed else 0,
            round(signed[uid][1], 2) if uid in signed else 0.0,
            round(signed[uid][2], 2) if uid in signed else 0.0,
        )
        for uid in ids
    }


def test_agent_leaderboard(session, world, people):
    rows = service.agent_leaderboard(session)
    got = {r.user_id: (r.claimed, r.introduced, r.signed, r.amount_wan, r.tech_amount_wan) for r in rows}
    assert got == expected_agents(world, people)
    a, b = world.agents["a"], world.agents["b"]
    assert got[a.id][:3] == (3, 1, 1) and got[b.id][:3] == (2, 2, 2)
    assert got[people["admin"].id] == (1, 0, 0, 0.0, 0.0)  # not an agent, but claimed a match
    assert got[world.agents["idle"].id] == (0, 0, 0, 0.0, 0.0)  # every agent is listed
    assert [r.user_id for r in rows][:2] == [b.id, a.id]  # ranked by 技术交易额
    assert rows[0].organization == "统计测试技术转移中心"


def test_period_filters_contracts_funnel_and_agents(session, world, people):
    start, end = date(2025, 3, 1), date(2025, 12, 31)
    period = service.parse_period(start="2025-03-01", end="2025-12-31")
    assert period == Period(start, end)
    t = service.totals(session, period=period)
    inside = [c for c, _, _ in world.contracts if in_period(c.signed_on, start, end)]
    assert t.contracts == len(inside) == 2  # both ends inclusive: 03-01 and 03-31
    assert t.tech_amount_wan == round(sum(c.tech_amount_wan for c in inside), 2)
    assert nonzero(service.contracts_by_month(session, period=period)) == expected_groups(
        world, lambda c, s, t: c.signed_on.strftime("%Y-%m"), start, end
    )
    assert nonzero(service.contracts_by_type(session, period=period)) == expected_groups(
        world, lambda c, s, t: c.contract_type, start, end
    )
    # funnel: listings published on local days inside the range (Tianjin is UTC+8)
    lo = datetime(2025, 2, 28, 16, 0, tzinfo=UTC)
    hi = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    stages = service.funnel(session, period=period)
    expected = expected_funnel(world, lo, hi)
    assert [s.results for s in stages] == expected["results"]
    assert [s.needs for s in stages] == expected["needs"]
    # r6, r7 and r8: r8 was published at 01:30 on 03-01 Tianjin time (17:30 UTC the day before)
    assert stages[0].results == 3
    rows = service.agent_leaderboard(session, period=period)
    got = {r.user_id: (r.claimed, r.introduced, r.signed, r.amount_wan, r.tech_amount_wan) for r in rows}
    assert got == expected_agents(world, people, start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-13-01", None),
        ("yesterday", None),
        (None, "2025/01/01"),
        ("20250101", None),
        ("2025-05-01", "2025-04-30"),
    ],
)
def test_parse_period_rejects_bad_dates(start, end):
    with pytest.raises(service.StatsParamError) as exc:
        service.parse_period(start=start, end=end)
    assert re.search(r"[\u4e00-\u9fff]", exc.value.message)


def test_parse_period_blank_is_open():
    assert service.parse_period(start="", end=None).is_open


# --- pages, permissions, API ---------------------------------------------------------------------------


def test_dashboard_requires_admin(app, people):
    visitor = app.test_client()
    resp = visitor.get("/stats")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    for role in ("uni", "ent", "agent"):
        c = app.test_client()
        login(c, people[role])
        assert c.get("/stats").status_code == 403
        assert c.get("/stats/month.csv").status_code == 403


def test_dashboard_shows_charts_tables_and_plan(app, session, world, people):
    c = app.test_client()
    login(c, people["admin"])
    resp = c.get("/stats")
    assert resp.status_code == 200
    html = resp.data.decode()
    assert "交易统计" in html and "1,600 亿元" in html and "1,113 亿元" in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "/static/js/charts.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and ' style="' not in html
    assert "卖方" in html and "所在地区" in html  # the region is the seller's, and the page says so
    specs = {
        m.group(1): json.loads(m.group(2).replace("&#39;", "'"))
        for m in re.finditer(r"<section class=\"mb-5\" id=\"stats-(\w+)\".*?data-chart='([^']*)'", html, re.S)
    }
    data = service.dashboard(session)
    for item in sections.render(data):
        assert specs[item.section.name] == item.chart
        assert f"/stats/{item.section.name}.csv" in html
    assert specs["type"]["categories"] == CONTRACT_TYPES
    assert specs["funnel"]["data"][0]["value"] == data.funnel[0].total
    # the table fallback carries the numbers too
    assert "经纪人甲" in html and "150.35" in html and "311.20" in html


def test_funnel_chart_labels_every_stage_with_its_chinese_name_and_count(session, world):
    stages = service.funnel(session)
    chart = sections.SECTIONS["funnel"].chart(stages)
    assert [d["name"] for d in chart["data"]] == ["挂牌", "获得推荐", "经纪人认领", "完成对接", "签约"]
    for item, stage in zip(chart["data"], stages, strict=True):
        assert item["value"] == stage.total
        assert item["text"] == f"{stage.label}：{stage.total:,} 条"
    assert chart["unit"] == "条"


def test_agent_chart_puts_counts_and_amounts_on_two_axes(session, world, people):
    chart = sections.SECTIONS["agents"].chart(service.agent_leaderboard(session))
    assert chart["type"] == "hbar" and chart["categories"]
    money, count = chart["series"]
    assert (money["unit"], money["integer"]) == ("万元", False)
    assert (count["unit"], count["integer"]) == ("件", True)
    assert all(isinstance(v, int) for v in count["data"]) and any(count["data"])
    assert any(money["data"])
    js = (Path(__file__).parents[1] / "market/static/js/charts.js").read_text(encoding="utf-8")
    assert "s.unit || s.name" in js and "xAxisIndex: i" in js  # one axis per series, named by its unit


def test_dashboard_without_contracts_says_so(app, people):
    c = app.test_client()
    login(c, people["admin"])
    resp = c.get("/stats")
    assert resp.status_code == 200
    html = resp.data.decode()
    assert "data-chart=" not in html  # nothing to draw: no empty charts
    assert html.count("所选时间内暂无数据") == len(sections.SECTIONS)
    assert "技术开发（合作）" in html  # the type table still lists every contract type at 0


def test_dashboard_bad_date_shows_chinese_error(app, people):
    c = app.test_client()
    login(c, people["admin"])
    resp = c.get("/stats?from=2025-02-30")
    assert resp.status_code == 400
    assert "开始日期" in resp.data.decode() and "YYYY-MM-DD" in resp.data.decode()


def test_dashboard_date_range_filters_the_page(app, world, people):
    c = app.test_client()
    login(c, people["admin"])
    html = c.get("/stats?from=2026-01-01&to=2026-12-31").data.decode()
    assert "2026-01-01 至 2026-12-31" in html
    assert "/stats/month.csv?from=2026-01-01&amp;to=2026-12-31" in html
    assert "150.35" in html and "80.50" not in html


def test_public_page_for_everyone_without_agents(app, world, people):
    for who in (None, "uni", "agent", "admin"):
        c = app.test_client()
        if who:
            login(c, people[who])
        resp = c.get("/stats/public")
        assert resp.status_code == 200
        html = resp.data.decode()
        assert "交易概况" in html and "311.20" in html and "1,600 亿元" in html
        # none of the world's contracts is registered: the default figure (registered 技术交易额) is 0
        assert "本平台已认定登记合同的技术交易额" in html and "0.0000 亿元" in html
        assert "经纪人甲" not in html and "HYPERLINK" not in html


def test_api_scope_public_for_visitors_and_non_admins(app, session, world, people):
    expected = service.to_json(service.public_summary(session))
    for who in (None, "agent", "ent"):
        c = app.test_client()
        if who:
            login(c, people[who])
        resp = c.get("/api/v1/stats")
        assert resp.status_code == 200 and resp.json["scope"] == "public"
        assert {k: v for k, v in resp.json.items() if k != "scope"} == expected
        assert "agents" not in resp.json and "funnel" not in resp.json
    assert expected["totals"]["contracts"] == 4 and expected["plan"]["city_target_2025_yi"] == 1600


def test_api_admin_gets_the_dashboard(app, session, world, people):
    c = app.test_client()
    login(c, people["admin"])
    resp = c.get("/api/v1/stats?from=2025-01-01&to=2025-12-31")
    assert resp.status_code == 200 and resp.json["scope"] == "admin"
    period = Period(date(2025, 1, 1), date(2025, 12, 31))
    expected = service.to_json(service.dashboard(session, period=period))
    assert {k: v for k, v in resp.json.items() if k != "scope"} == expected
    assert resp.json["period"] == {"start": "2025-01-01", "end": "2025-12-31"}
    assert resp.json["totals"]["contracts"] == 3
    assert {a["name"] for a in resp.json["agents"]} >= {"经纪人甲", "经纪人丙"}


def test_api_bad_dates_are_json_400(app, people):
    for who in (None, "admin"):
        c = app.test_client()
        if who:
            login(c, people[who])
        resp = c.get("/api/v1/stats?from=2026-12-31&to=2026-01-01")
        assert resp.status_code == 400 and resp.is_json
        assert resp.json["message"] == "开始日期不能晚于结束日期"
        assert resp.json["fields"][0]["field"] == "from"
    resp = c.get("/api/v1/stats?to=not-a-date")
    assert resp.status_code == 400 and "结束日期" in resp.json["message"]


# --- CSV -----------------------------------------------------------------------------------------------


def read_csv(resp) -> list[list[str]]:
    assert resp.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads Chinese
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def test_csv_downloads_match_the_tables(app, session, world, people):
    c = app.test_client()
    login(c, people["admin"])
    data = service.dashboard(session)
    for item in sections.render(data):
        resp = c.get(f"/stats/{item.section.name}.csv")
        assert resp.status_code == 200 and resp.mimetype == "text/csv"
        assert "attachment" in resp.headers["Content-Disposition"]
        rows = read_csv(resp)
        assert rows[0] == list(item.section.header)
        assert len(rows) == len(item.rows) + 1
    types = {r[0]: r for r in read_csv(c.get("/stats/type.csv"))[1:]}
    expected = expected_groups(world, lambda ct, s, t: ct.contract_type)
    # 合同数, 合同金额, 技术交易额 (all), then registered contracts and their 技术交易额 (none registered)
    assert types["技术转让"][1:] == ["1", "100", "80.5", "0", "0"]
    assert expected["技术转让"] == (1, 100.0, 80.5)
    assert types["技术开发（合作）"][1:] == ["0", "0", "0", "0", "0"]


def test_csv_neutralises_formulas(app, world, people):
    c = app.test_client()
    login(c, people["admin"])
    rows = read_csv(c.get("/stats/agents.csv"))
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_date_range_unknown_name_and_bad_dates(app, world, people):
    c = app.test_client()
    login(c, people["admin"])
    resp = c.get("/stats/month.csv?from=2026-01-01")
    assert "stats-month-2026-01-01.csv" in resp.headers["Content-Disposition"]
    assert read_csv(resp)[1:] == [["2026-02", "1", "200", "150.35", "0", "0"]]
    assert c.get("/stats/nothing.csv").status_code == 404
    assert c.get("/stats/month.csv?from=x").status_code == 400
    assert c.get("/stats/month.csv", follow_redirects=False).status_code == 200
    assert app.test_client().get("/stats/month.csv").status_code == 302


# --- static assets -------------------------------------------------------------------------------------


def test_echarts_is_vendored_and_served(client):
    resp = client.get("/static/vendor/echarts/echarts.min.js")
    assert resp.status_code == 200
    assert "javascript" in resp.mimetype
    body = resp.get_data()
    assert len(body) > 500_000 and b"Apache" in body[:2000]
    assert b"echarts" in body
    resp.close()
    lic = client.get("/static/vendor/echarts/LICENSE")
    assert lic.status_code == 200 and b"Apache License" in lic.get_data()
    lic.close()
    js = client.get("/static/js/charts.js")
    assert js.status_code == 200 and b"data-chart" in js.get_data()
    js.close()


# --- in a browser --------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def live_server(app):
    """The app served on a free local port from a thread (one request at a time, same test transaction)."""

    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.mark.browser
def test_dashboard_charts_draw_under_the_csp(app, session, world, people, live_server, tmp_path):

    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    c = app.test_client()
    login(c, people["admin"])
    cookie = c.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server}])
            page = context.new_page()
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the site has none
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{live_server}/stats", wait_until="load")
            page.wait_for_selector("[data-chart-drawn='true']")
            total = page.locator("[data-chart]").count()
            assert total == len(sections.SECTIONS)
            assert page.locator("[data-chart-drawn='true'] canvas").count() >= total
            sizes = page.eval_on_selector_all(
                "[data-chart] canvas", "els => els.map(e => [e.clientWidth, e.clientHeight])"
            )
            assert all(w > 300 and h >= 300 for w, h in sizes)
            drawn = page.evaluate(
                """() => {
                  const option = (id) => echarts.getInstanceByDom(
                    document.querySelector(`#stats-${id} [data-chart]`)).getOption();
                  const agents = option("agents"), funnel = option("funnel").series[0];
                  return {
                    axes: agents.xAxis.map((a) => a.name),
                    bound: agents.series.map((s) => s.xAxisIndex),
                    labels: funnel.data.map((d) => funnel.label.formatter({data: d, name: d.name, value: d.value})),
                    shown: funnel.label.show && funnel.label.position,
                  };
                }"""
            )
            assert drawn["axes"] == ["万元", "件"] and drawn["bound"] == [0, 1]
            stages = service.funnel(session)
            assert drawn["labels"] == [f"{s.label}：{s.total:,} 条" for s in stages]
            assert drawn["shown"] == "inside"
            page.screenshot(path=str(tmp_path / "stats.png"), full_page=True)
            assert problems == []  # no CSP violation, no script error
        finally:
            browser.close()
