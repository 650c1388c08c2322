"""Agents' workspace: claims (and the race), transitions, contact after introduction, contracts, feedback."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from market import create_app
from market.accounts.models import Organization, User
from market.accounts.passwords import hash_password
from market.contacts.models import ContactReveal
from market.db import make_engine
from market.deals.models import Contract
from market.errors import ConflictError
from market.matches import service
from market.matches.models import Match, MatchEvent
from market.notifications.models import Notification
from tests.conftest import TEST_DATABASE_URL
from tests.factories import login, make_listing, make_match, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def deal(session, people):
    """A published result of 天津大学 and a published need of 海河新能源, and their suggested match."""

    uni_org = session.get(Organization, people["uni"].organization_id)
    ent_org = session.get(Organization, people["ent"].organization_id)
    result = make_listing(session, kind="result", org=uni_org)
    need = make_listing(session, kind="need", org=ent_org)
    match = make_match(session, result=result, need=need)
    session.commit()
    return {"result": result, "need": need, "match": match}


def as_user(app, user):
    c = app.test_client()
    login(c, user)
    return c


def status(session, match_id):
    session.expire_all()
    return session.get(Match, match_id).status


def test_queue_shows_suggested_matches_to_agents_only(app, people, deal):
    agent = as_user(app, people["agent"])
    page = agent.get("/matches").data.decode()
    assert deal["result"].title in page and deal["need"].title in page and "认领" in page
    assert as_user(app, people["uni"]).get("/matches").status_code == 403
    assert app.test_client().get("/matches").status_code == 302


def test_queue_filters(app, session, people, deal):
    agent = as_user(app, people["agent"])
    assert deal["need"].title in agent.get("/matches?min_score=0.5").data.decode()
    assert deal["need"].title not in agent.get("/matches?min_score=0.9").data.decode()
    assert deal["need"].title not in agent.get("/matches?challenge=1").data.decode()
    assert deal["need"].title in agent.get("/matches?field=新能源").data.decode()
    assert deal["need"].title not in agent.get("/matches?field=人口健康").data.decode()
    assert deal["need"].title not in agent.get("/matches?region=北京").data.decode()


def test_full_walk_to_signed_contract(app, session, people, deal):
    m = deal["match"].id
    agent = as_user(app, people["agent"])
    assert agent.post(f"/matches/{m}/claim").status_code == 302
    assert status(session, m) == "已认领"
    assert agent.post(f"/matches/{m}/introduce").status_code == 302
    assert agent.post(f"/matches/{m}/negotiate").status_code == 302
    agent.post(f"/matches/{m}/note", data={"note": "双方约定下周现场考察"})
    resp = agent.post(
        f"/matches/{m}/sign",
        data={
            "contract_type": "技术许可",
            "amount_wan": "120",
            "tech_amount_wan": "100",
            "signed_on": date.today().isoformat(),
            "close_listings": "y",
        },
    )
    assert resp.status_code == 302, resp.data.decode()
    assert status(session, m) == "已签约"
    contract = session.exec(select(Contract)).one()
    assert (contract.amount_wan, contract.tech_amount_wan, contract.agent_id) == (
        120,
        100,
        people["agent"].id,
    )
    actions = [
        e.action
        for e in session.exec(select(MatchEvent).where(MatchEvent.match_id == m).order_by(MatchEvent.id))
    ]
    assert actions == ["claim", "introduce", "negotiate", "note", "sign"]
    session.expire_all()
    assert session.get(type(deal["result"]), deal["result"].id).status == "已成交"


@pytest.mark.parametrize(
    ("start", "action", "allowed"),
    [
        ("推荐", "introduce", False),
        ("推荐", "negotiate", False),
        ("已认领", "negotiate", False),
        ("已认领", "introduce", True),
        ("已对接", "negotiate", True),
        ("已对接", "release", False),
        ("已认领", "release", True),
        ("已签约", "negotiate", False),
        ("未成交", "introduce", False),
    ],
)
def test_transition_rules(app, session, people, deal, start, action, allowed):
    match = deal["match"]
    match.status = start
    match.agent_id = people["agent"].id if start != "推荐" else None
    session.add(match)
    session.commit()
    as_user(app, people["agent"]).post(f"/matches/{match.id}/{action}")
    moved = status(session, match.id) != start
    assert moved is allowed


def test_decline_requires_reason_code(app, session, people, deal):
    m = deal["match"].id
    agent = as_user(app, people["agent"])
    agent.post(f"/matches/{m}/claim")
    agent.post(f"/matches/{m}/decline", data={"reason": ""})
    assert status(session, m) == "已认领"
    agent.post(f"/matches/{m}/decline", data={"reason": "价格与预算不符", "note": "预算差距较大"})
    session.expire_all()
    match = session.get(Match, m)
    assert (match.status, match.decline_reason) == ("未成交", "价格与预算不符")


def test_only_the_claiming_agent_acts(app, session, people, deal):

    other = make_user(session, role="agent")
    session.commit()
    m = deal["match"].id
    as_user(app, people["agent"]).post(f"/matches/{m}/claim")
    intruder = as_user(app, other)
    assert intruder.post(f"/matches/{m}/introduce").status_code == 403
    refused = intruder.post(f"/matches/{m}/claim")
    assert refused.status_code == 409 and f"已被 {people['agent'].display_name} 认领" in refused.data.decode()
    assert status(session, m) == "已认领"
    session.expire_all()
    assert session.get(Match, m).agent_id == people["agent"].id


def test_sign_requires_valid_contract(app, session, people, deal):
    m = deal["match"].id
    agent = as_user(app, people["agent"])
    agent.post(f"/matches/{m}/claim")
    agent.post(f"/matches/{m}/introduce")
    base = {
        "contract_type": "技术转让",
        "amount_wan": "100",
        "tech_amount_wan": "80",
        "signed_on": date.today().isoformat(),
    }
    cases = [
        (dict(base, tech_amount_wan="120"), "技术交易额不能大于合同金额"),
        (dict(base, contract_type=""), "请选择合同类型"),
        (dict(base, amount_wan=""), "请填写合同金额"),
        (dict(base, signed_on=(date.today() + timedelta(days=3)).isoformat()), "不能晚于今天"),
        (dict(base, amount_wan="-5"), "合同金额应在"),
    ]
    for data, message in cases:
        resp = agent.post(f"/matches/{m}/sign", data=data)
        assert resp.status_code == 400 and message in resp.data.decode(), message
    assert status(session, m) == "已对接" and session.exec(select(Contract)).first() is None


def test_contract_pdf_checked_by_content_and_served_to_parties_only(app, session, people, deal):

    m = deal["match"].id
    agent = as_user(app, people["agent"])
    agent.post(f"/matches/{m}/claim")
    agent.post(f"/matches/{m}/introduce")
    base = {
        "contract_type": "技术转让",
        "amount_wan": "100",
        "tech_amount_wan": "80",
        "signed_on": date.today().isoformat(),
    }
    fake = agent.post(
        f"/matches/{m}/sign",
        data=dict(base, pdf=(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100), "contract.pdf")),
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400 and "必须是 PDF" in fake.data.decode()
    ok = agent.post(
        f"/matches/{m}/sign",
        data=dict(base, pdf=(io.BytesIO(PDF), "合同.pdf")),
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    contract = session.exec(select(Contract)).one()
    assert contract.pdf_path and "/static" not in contract.pdf_path
    for who, code in [
        ("uni", 200),
        ("ent", 200),
        ("agent", 200),
        ("admin", 200),
        ("other_uni", 404),
        ("uni2", 200),
    ]:
        resp = as_user(app, people[who]).get(f"/contracts/{contract.id}/pdf")
        assert resp.status_code == code, who
        if code == 200:
            assert resp.data == PDF and "attachment" in resp.headers["Content-Disposition"]
    assert app.test_client().get(f"/contracts/{contract.id}/pdf").status_code == 302


def test_contact_visible_to_counterpart_only_after_introduction(app, session, people, deal):
    ent = as_user(app, people["ent"])
    url = f"/results/{deal['result'].id}"
    assert "022-27400000" not in ent.get(url).data.decode()
    agent = as_user(app, people["agent"])
    agent.post(f"/matches/{deal['match'].id}/claim")
    assert "022-27400000" not in ent.get(url).data.decode()  # claimed is not introduced
    agent.post(f"/matches/{deal['match'].id}/introduce")
    assert "022-27400000" in ent.get(url).data.decode()
    uni = as_user(app, people["uni"])
    assert "13800001111" in uni.get(f"/needs/{deal['need'].id}").data.decode()
    assert "022-27400000" not in as_user(app, people["other_uni"]).get(url).data.decode()

    bases = {(r.viewer_id, r.basis) for r in session.exec(select(ContactReveal)).all()}
    assert (people["ent"].id, "match") in bases and (people["uni"].id, "match") in bases
    notes = session.exec(
        select(Notification).where(Notification.user_id.in_([people["uni"].id, people["ent"].id]))
    ).all()
    assert len(notes) >= 2 and all("对接" in n.message for n in notes)


def test_introducing_agent_stays_credited_after_admin_takes_over(app, session, people, deal):
    m = deal["match"].id
    agent = as_user(app, people["agent"])
    agent.post(f"/matches/{m}/claim")
    agent.post(f"/matches/{m}/introduce")
    admin = as_user(app, people["admin"])
    admin.post(
        f"/matches/{m}/sign",
        data={
            "contract_type": "技术咨询",
            "amount_wan": "10",
            "tech_amount_wan": "10",
            "signed_on": date.today().isoformat(),
        },
    )
    contract = session.exec(select(Contract)).one()
    assert contract.agent_id == people["agent"].id and contract.recorded_by_id == people["admin"].id


def test_owner_matches_page_and_feedback(app, session, people, deal):
    uni = as_user(app, people["uni"])
    page = uni.get(f"/results/{deal['result'].id}/matches").data.decode()
    assert deal["need"].title in page and "<meter" in page
    uni.post(
        f"/matches/{deal['match'].id}/feedback", data={"verdict": "not_interested", "reason": "技术不匹配"}
    )
    session.expire_all()
    assert session.get(Match, deal["match"].id).result_feedback == "not_interested:技术不匹配"
    assert as_user(app, people["other_uni"]).get(f"/results/{deal['result'].id}/matches").status_code == 404
    ent = as_user(app, people["ent"])
    assert (
        ent.post(f"/matches/{deal['match'].id}/feedback", data={"verdict": "interested"}).status_code == 302
    )
    session.expire_all()
    assert session.get(Match, deal["match"].id).need_feedback == "interested"


def test_matches_api_visibility(app, session, people, deal):
    rid = deal["result"].id
    for who, code in [
        ("uni", 200),
        ("uni2", 200),
        ("agent", 200),
        ("admin", 200),
        ("ent", 404),
        ("other_uni", 404),
    ]:
        resp = as_user(app, people[who]).get(f"/api/v1/results/{rid}/matches")
        assert resp.status_code == code, who
        if code == 200:
            assert resp.json["matches"][0]["need"]["id"] == deal["need"].id
    assert app.test_client().get(f"/api/v1/needs/{deal['need'].id}/matches").status_code == 404


def test_interest_raises_match_for_agents(app, session, people, deal):
    ent = as_user(app, people["ent"])
    ent.post(f"/results/{deal['result'].id}/interest", data={"message": "希望洽谈许可"})
    session.expire_all()
    match = session.get(Match, deal["match"].id)
    assert match.raised_at is not None
    agent = as_user(app, people["agent"])
    assert deal["need"].title in agent.get("/matches?interest=1").data.decode()


def test_notifications_list_and_read(app, session, people, deal):
    agent = as_user(app, people["agent"])
    agent.post(f"/matches/{deal['match'].id}/claim")
    agent.post(f"/matches/{deal['match'].id}/introduce")
    uni = as_user(app, people["uni"])
    home = uni.get("/").data.decode()
    assert 'badge bg-warning text-dark">1<' in home
    assert "对接需求方" in uni.get("/notifications").data.decode()
    uni.post("/notifications/read")
    assert 'badge bg-warning text-dark">1<' not in uni.get("/").data.decode()


def test_claim_race_two_sessions_on_postgres(engine):
    """Two agents claim the same match at the same moment from two connections: exactly one wins."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the claim race runs on PostgreSQL (TEST_DATABASE_URL); SQLite serialises writers")

    engine = make_engine(TEST_DATABASE_URL)
    suffix = str(threading.get_ident())[-6:]
    with Session(engine) as s:
        uni = Organization(name=f"竞态大学{suffix}", kind="高校", verified=True)
        ent = Organization(name=f"竞态企业{suffix}", kind="企业", verified=True)
        agency = Organization(
            name=f"竞态技术转移中心{suffix}", kind="技术转移机构", agency_type="区域", verified=True
        )
        s.add_all([uni, ent, agency])
        s.flush()
        agents = [
            User(
                email=f"race{i}-{suffix}@example.cn",
                display_name=f"经纪人{i}",
                role="agent",
                organization_id=agency.id,
                password_hash=hash_password("x" * 12),
            )
            for i in range(2)
        ]
        s.add_all(agents)
        result = make_listing(s, kind="result", org=uni)
        need = make_listing(s, kind="need", org=ent)
        match = make_match(s, result=result, need=need)
        s.commit()
        ids = {
            "match": match.id,
            "agents": [a.id for a in agents],
            "orgs": [uni.id, ent.id, agency.id],
            "result": result.id,
            "need": need.id,
        }
    app = create_app({"TESTING": True, "DATABASE_URL": TEST_DATABASE_URL})
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(agent_id: int) -> None:
        with app.app_context(), Session(engine) as s:
            actor = s.get(User, agent_id)
            m = s.get(Match, ids["match"])
            barrier.wait()
            try:
                service.claim(s, actor=actor, match=m)
                s.commit()
                outcomes.append("won")
            except ConflictError as exc:
                s.rollback()
                outcomes.append(exc.message)

    threads = [threading.Thread(target=attempt, args=(a,)) for a in ids["agents"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(outcomes) == 2 and outcomes.count("won") == 1
        assert any("已被" in o and "认领" in o for o in outcomes)
        with Session(engine) as s:
            m = s.get(Match, ids["match"])
            assert m.status == "已认领" and m.agent_id in ids["agents"]
            assert len(s.exec(select(MatchEvent).where(MatchEvent.match_id == m.id)).all()) == 1
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM match_events WHERE match_id = :m"), {"m": ids["match"]})
            conn.execute(sa.text("DELETE FROM matches WHERE id = :m"), {"m": ids["match"]})
            conn.execute(sa.text("DELETE FROM research_results WHERE id = :r"), {"r": ids["result"]})
            conn.execute(sa.text("DELETE FROM tech_needs WHERE id = :n"), {"n": ids["need"]})
            conn.execute(sa.text("DELETE FROM users WHERE id = ANY(:a)"), {"a": ids["agents"]})
            conn.execute(sa.text("DELETE FROM organizations WHERE id = ANY(:o)"), {"o": ids["orgs"]})
        engine.dispose()


def test_reasons_read_as_words_with_the_number_on_hover(app, session, people, deal):
    match = deal["match"]
    match.reasons = {
        "components": {"text": {"value": 0.7, "weight": 0.6}, "field": {"value": 1.0, "weight": 0.15}},
        "terms": ["PCR", "电池"],
        "sentences": ["同属储能", "成果报价 50 万元在需求预算 30–80 万元之内"],
    }
    session.add(match)
    session.commit()
    page = as_user(app, people["agent"]).get(f"/matches/{match.id}").data.decode()
    assert "匹配程度 <strong" in page and ">高</strong>" in page  # score 0.8
    assert 'title="综合得分 0.80' in page
    assert "同属储能；成果报价 50 万元在需求预算 30–80 万元之内" in page
    assert "PCR" in page
    assert "权重" not in page


def _org(session, user):

    return session.get(Organization, user.organization_id)


def test_interest_makes_one_item_against_the_best_matching_need(app, session, people):
    """表达意向 pairs the result with the enterprise's best-matching need only, with real reasons."""
    result = make_listing(session, kind="result", org=_org(session, people["uni"]))
    ent_org = _org(session, people["ent"])
    best = make_listing(
        session,
        kind="need",
        org=ent_org,
        title="锂离子电池低温电解液开发",
        description="物流车锂离子电池在零下四十度续航下降，需要宽温域电解液配方",
        field="储能",
    )
    for title, description in (
        ("食堂油烟净化改造", "员工食堂油烟排放超标，需要低成本的油烟净化方案"),
        ("仓库叉车调度软件", "仓库叉车排队严重，希望有调度算法和软件"),
        ("厂区绿化养护外包", "厂区草坪和树木养护，希望找专业团队"),
    ):
        make_listing(
            session, kind="need", org=ent_org, title=title, description=description, field="智慧城市"
        )
    session.commit()
    as_user(app, people["ent"]).post(f"/results/{result.id}/interest", data={"message": "希望洽谈许可"})
    session.expire_all()
    items = session.exec(select(Match).where(Match.result_id == result.id)).all()
    assert len(items) == 1
    assert items[0].need_id == best.id
    assert items[0].raised_at is not None and items[0].score >= 0.2
    assert items[0].reasons["terms"] and items[0].reasons["note"] == "由用户表达意向产生"


def test_interest_makes_no_item_when_nothing_matches(app, session, people):
    result = make_listing(session, kind="result", org=_org(session, people["uni"]))
    make_listing(
        session,
        kind="need",
        org=_org(session, people["ent"]),
        title="厂区绿化养护外包",
        description="厂区草坪和树木养护，希望找专业团队",
        field="智慧城市",
    )
    session.commit()
    as_user(app, people["ent"]).post(f"/results/{result.id}/interest", data={})
    session.expire_all()
    assert session.exec(select(Match).where(Match.result_id == result.id)).all() == []
