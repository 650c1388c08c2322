"""Freshness in matching: a match involving a lapsed (待更新) listing ranks lower by the documented
factor (FRESHNESS_MATCH_PENALTY); past the grace period it is not offered at all — the agents' queue,
a listing's matches page and API, related listings, claiming — until the owner re-confirms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.discovery import service as discovery
from market.freshness import conditions
from market.matches.models import Match
from tests.factories import login, make_listing, make_match


@pytest.fixture
def pairs(session, people, grace):
    """天津大学's result with four needs of 海河新能源: current (0.6), lapsed 3 days ago (0.9), past the
    grace period (0.95) and current again at a low score (0.3)."""
    uni = session.get(Organization, people["uni"].organization_id)
    ent = session.get(Organization, people["ent"].organization_id)
    today = date.today()
    result = make_listing(session, kind="result", org=uni, valid_until=today + timedelta(days=100))

    def need(title: str, valid_until: date, score: float):
        listing = make_listing(session, kind="need", org=ent, title=title, valid_until=valid_until)
        make_match(session, result=result, need=listing, score=score)
        return listing

    out = {
        "result": result,
        "current": need("有效的需求", today + timedelta(days=30), 0.6),
        "lapsed": need("待更新的需求", today - timedelta(days=3), 0.9),
        "gone": need("已过宽限期的需求", today - timedelta(days=grace + 2), 0.95),
        "low": need("得分低的需求", today + timedelta(days=30), 0.3),
    }
    session.commit()
    return out


def _client(app, user):
    c = app.test_client()
    login(c, user)
    return c


def _api_titles(app, people, result) -> list[tuple[str, bool]]:
    body = _client(app, people["uni"]).get(f"/api/v1/results/{result.id}/matches").get_json()
    return [(m["need"]["title"], m["lapsed"]) for m in body["matches"]]


def test_the_penalty_is_documented_and_configurable(app) -> None:
    with app.app_context():
        assert conditions.match_penalty() == conditions.MATCH_PENALTY == 0.5
        app.config["FRESHNESS_MATCH_PENALTY"] = 0.8
        assert conditions.match_penalty() == 0.8
        app.config["FRESHNESS_MATCH_PENALTY"] = 7
        assert conditions.match_penalty() == 1.0  # a factor, never a boost


def test_lapsed_ranks_lower_and_past_grace_is_not_offered(app, session, people, pairs) -> None:
    # 0.9 × 0.5 = 0.45: after the current 0.6, before the current 0.3; the 0.95 past the grace period is gone
    assert _api_titles(app, people, pairs["result"]) == [
        ("有效的需求", False),
        ("待更新的需求", True),
        ("得分低的需求", False),
    ]
    body = _client(app, people["uni"]).get(f"/api/v1/results/{pairs['result'].id}/matches").get_json()
    lapsed = body["matches"][1]
    assert lapsed["score"] == 0.9 and lapsed["rank_score"] == 0.45

    page = _client(app, people["uni"]).get(f"/results/{pairs['result'].id}/matches").get_data(as_text=True)
    assert page.index("有效的需求") < page.index("待更新的需求") < page.index("得分低的需求")
    assert "已过宽限期的需求" not in page and "待更新" in page

    queue = _client(app, people["agent"]).get("/matches").get_data(as_text=True)
    assert queue.index("有效的需求") < queue.index("待更新的需求") < queue.index("得分低的需求")
    assert "已过宽限期的需求" not in queue

    related = [n.title for n in discovery.related(session, pairs["result"])]
    assert related == ["有效的需求", "待更新的需求", "得分低的需求"]

    # from the other side: the need past the grace period offers no matches itself
    gone = pairs["gone"]
    ent = _client(app, people["ent"])
    assert ent.get(f"/api/v1/needs/{gone.id}/matches").get_json()["matches"] == []
    assert discovery.related(session, gone) == []


def test_a_lapsed_result_pulls_down_all_its_matches(app, session, people, pairs) -> None:
    pairs["result"].valid_until = date.today() - timedelta(days=1)
    session.add(pairs["result"])
    session.commit()
    # everything is lapsed on the result's side: same order by score, each at half
    body = _client(app, people["uni"]).get(f"/api/v1/results/{pairs['result'].id}/matches").get_json()
    assert [(m["need"]["title"], m["rank_score"]) for m in body["matches"]] == [
        ("待更新的需求", 0.45),
        ("有效的需求", 0.3),
        ("得分低的需求", 0.15),
    ]


def test_claiming_a_match_past_the_grace_period_is_refused(app, session, people, pairs) -> None:
    match = session.exec(select(Match).where(Match.need_id == pairs["gone"].id)).one()
    agent = _client(app, people["agent"])
    resp = agent.post(f"/matches/{match.id}/claim", data={"back": "/matches"})
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(Match, match.id).agent_id is None
    follow = agent.get("/matches").get_data(as_text=True)
    assert "发布方确认后才能认领" in follow


def test_reconfirming_brings_the_matches_back(app, session, people, pairs) -> None:
    gone = pairs["gone"]
    assert _client(app, people["ent"]).post(f"/needs/{gone.id}/reconfirm").status_code == 302
    assert _api_titles(app, people, pairs["result"])[0] == ("已过宽限期的需求", False)
    queue = _client(app, people["agent"]).get("/matches").get_data(as_text=True)
    assert queue.index("已过宽限期的需求") < queue.index("有效的需求")


def test_the_board_keeps_the_agents_work_and_badges_it(app, session, people, pairs) -> None:
    for key in ("gone", "lapsed"):
        match = session.exec(select(Match).where(Match.need_id == pairs[key].id)).one()
        match.status, match.agent_id = "已对接", people["agent"].id
        session.add(match)
    session.commit()
    page = _client(app, people["agent"]).get("/matches/board").get_data(as_text=True)
    assert "已过宽限期的需求" in page and "待更新的需求" in page
    assert "待更新（已停止推荐）" in page
