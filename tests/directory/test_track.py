"""Track records are counted from matches and contracts: they equal an independent recount after new
deals, withdrawals and reassigned credit, and a broker has no way to set their own figures."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.deals import credit
from market.deals.models import Contract
from market.deals.service import record_contract
from market.directory import track
from market.directory.models import BrokerProfile
from market.errors import DomainError, NotAllowed
from market.listings import service as listings
from market.matches import service as matches
from market.matches.models import Match, MatchEvent
from market.stats.activity import agent_leaderboard
from market.stats.period import LOCAL_TZ, Period
from tests.directory.conftest import make_agency, make_broker
from tests.factories import login, make_listing, make_match, make_org, make_user


def utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def recount(session, user_id: int) -> dict:
    """The record recounted row by row in Python, straight from the DOMAIN rules: claims by the broker;
    introductions credited to the introducer (else the holder); signings recorded by the broker;
    contracts and money credited to Contract.agent_id; claim → introduction hours per introduced match."""
    events = session.exec(select(MatchEvent)).all()
    all_matches = session.exec(select(Match)).all()
    contracts = [c for c in session.exec(select(Contract)).all() if c.agent_id == user_id]
    introduced = [m for m in all_matches if m.introduced_at and (m.introduced_by_id or m.agent_id) == user_id]
    hours = []
    for m in introduced:
        claims = [
            utc(e.created_at)
            for e in events
            if e.match_id == m.id and e.action == "claim" and e.actor_id == user_id
            and utc(e.created_at) <= utc(m.introduced_at)
        ]  # fmt: skip
        if claims:
            hours.append((utc(m.introduced_at) - max(claims)).total_seconds() / 3600)
    return {
        "matches_worked": len({e.match_id for e in events if e.action == "claim" and e.actor_id == user_id}),
        "introductions": len(introduced),
        "contracts_signed": sum(1 for e in events if e.action == "sign" and e.actor_id == user_id),
        "contracts_credited": len(contracts),
        "amount_wan": round(sum(c.amount_wan for c in contracts), 2),
        "tech_amount_wan": round(sum(c.tech_amount_wan for c in contracts), 2),
        "median_hours_to_introduction": round(statistics.median(hours), 1) if hours else None,
    }


def figures(record: track.TrackRecord) -> dict:
    return {
        "matches_worked": record.matches_worked,
        "introductions": record.introductions,
        "contracts_signed": record.contracts_signed,
        "contracts_credited": record.contracts_credited,
        "amount_wan": record.amount_wan,
        "tech_amount_wan": record.tech_amount_wan,
        "median_hours_to_introduction": record.median_hours_to_introduction,
    }


@pytest.fixture
def desk(app, session):
    """An agency with two brokers and an admin; a university's results and an enterprise's needs."""
    org = make_agency(session, name="业绩测试技术转移中心", region_code="120104", fields=["储能"])
    a = make_broker(session, org=org, name="经纪人甲")
    b = make_broker(session, org=org, name="经纪人乙")
    admin = make_user(session, role="admin")
    uni = make_org(session, name="业绩测试大学", kind="高校")
    ent = make_org(session, name="业绩测试企业", kind="企业")
    owner = make_user(session, role="university", org=uni)
    results = [make_listing(session, kind="result", org=uni, title=f"成果{i}") for i in range(4)]
    needs = [make_listing(session, kind="need", org=ent, title=f"需求{i}") for i in range(4)]
    session.commit()
    return {"org": org, "a": a, "b": b, "admin": admin, "owner": owner, "results": results, "needs": needs}


@pytest.fixture
def ctx(app):
    """An app context for calling services directly; never around requests (each needs its own `g`)."""
    with app.app_context():
        yield


def _deal(session, broker, match, *, amount, tech, days_ago=0):
    matches.claim(session, actor=broker, match=match)
    matches.introduce(session, actor=broker, match=match)
    return record_contract(
        session,
        actor=broker,
        match=match,
        contract_type="技术许可",
        amount_wan=amount,
        tech_amount_wan=tech,
        signed_on=date.today() - timedelta(days=days_ago),
    )


def check(session, desk) -> None:
    session.flush()
    for who in ("a", "b"):
        uid = desk[who].id
        assert figures(track.broker_record(session, uid)) == recount(session, uid), who
    combined = track.agency_record(session, desk["org"].id)
    a, b = recount(session, desk["a"].id), recount(session, desk["b"].id)
    assert combined.contracts_credited == a["contracts_credited"] + b["contracts_credited"]
    assert combined.tech_amount_wan == round(a["tech_amount_wan"] + b["tech_amount_wan"], 2)


def test_track_record_equals_a_recount_through_deals_withdrawals_and_reassignment(ctx, session, desk):
    a, b, admin = desk["a"], desk["b"], desk["admin"]
    rs, ns = desk["results"], desk["needs"]
    check(session, desk)  # nothing yet: zeros, no median

    # new deals
    m1 = make_match(session, result=rs[0], need=ns[0])
    c1 = _deal(session, a, m1, amount=120, tech=100)
    m2 = make_match(session, result=rs[1], need=ns[1])
    _deal(session, b, m2, amount=80.5, tech=60.25, days_ago=40)
    check(session, desk)
    assert track.broker_record(session, a.id).tech_amount_wan == 100

    # a withdrawn claim: 甲 claims and releases, 乙 claims and introduces — 乙 is the introducer
    m3 = make_match(session, result=rs[2], need=ns[2])
    matches.claim(session, actor=a, match=m3)
    matches.release(session, actor=a, match=m3)
    matches.claim(session, actor=b, match=m3)
    matches.introduce(session, actor=b, match=m3)
    check(session, desk)
    assert track.broker_record(session, a.id).matches_worked == 2
    assert track.broker_record(session, b.id).introductions == 2

    # a listing withdrawn after its deal: the contract stays credited
    listings.withdraw(session, actor=desk["owner"], listing=session.get(type(rs[0]), rs[0].id))
    check(session, desk)
    assert track.broker_record(session, a.id).contracts_credited == 1

    # a declined match after introduction keeps the introduction
    m4 = make_match(session, result=rs[3], need=ns[3])
    matches.claim(session, actor=a, match=m4)
    matches.introduce(session, actor=a, match=m4)
    matches.decline(session, actor=a, match=m4, reason="价格与预算不符")
    check(session, desk)

    # an administrator reassigns the credit of 甲's contract to 乙
    credit.reassign(session, actor=admin, contract=c1, agent=b, reason="实际由乙完成对接与谈判")
    check(session, desk)
    assert track.broker_record(session, a.id).contracts_credited == 0
    assert track.broker_record(session, a.id).contracts_signed == 1  # 甲 still recorded the signing
    assert track.broker_record(session, b.id).tech_amount_wan == 160.25
    note = session.exec(select(MatchEvent).where(MatchEvent.action == "credit")).one()
    assert "实际由乙完成" in note.note


def test_the_statistics_leaderboard_and_the_track_record_agree(ctx, session, desk):
    a, b = desk["a"], desk["b"]
    _deal(
        session, a, make_match(session, result=desk["results"][0], need=desk["needs"][0]), amount=50, tech=40
    )
    _deal(
        session, b, make_match(session, result=desk["results"][1], need=desk["needs"][1]), amount=30, tech=30
    )
    board = {row.user_id: row for row in agent_leaderboard(session)}
    for broker in (a, b):
        record = track.broker_record(session, broker.id)
        row = board[broker.id]
        assert (row.claimed, row.introduced, row.signed, row.tech_amount_wan) == (
            record.matches_worked,
            record.introductions,
            record.contracts_credited,
            record.tech_amount_wan,
        )


def test_the_period_limits_the_record_and_is_shown(app, client, session, desk):
    a = desk["a"]
    with app.app_context():
        _deal(
            session,
            a,
            make_match(session, result=desk["results"][0], need=desk["needs"][0]),
            amount=10,
            tech=10,
            days_ago=100,
        )
    with app.app_context():
        _deal(
            session,
            a,
            make_match(session, result=desk["results"][1], need=desk["needs"][1]),
            amount=20,
            tech=20,
        )
    session.commit()
    today = datetime.now(LOCAL_TZ).date()  # the record's days are Tianjin's, whatever the machine's zone
    start = today - timedelta(days=30)
    recent = track.broker_record(session, a.id, period=Period(start=start))
    assert recent.tech_amount_wan == 20
    assert recent.covers == f"{start.isoformat()} 至 {today.isoformat()}"
    body = client.get(f"/brokers/{a.id}", query_string={"from": start.isoformat()}).get_data(as_text=True)
    assert f"{start.isoformat()} 至 {today.isoformat()}" in body
    assert "20.00 万元" in body
    bad = client.get(f"/brokers/{a.id}", query_string={"from": "2025-13-01"})
    assert bad.status_code == 400
    assert "开始日期" in bad.get_data(as_text=True)


def test_a_broker_cannot_edit_their_own_figures(app, session, desk):
    a = desk["a"]
    with app.app_context():
        _deal(
            session,
            a,
            make_match(session, result=desk["results"][0], need=desk["needs"][0]),
            amount=10,
            tech=8,
        )
    session.commit()
    before = figures(track.broker_record(session, a.id))
    c = app.test_client()
    login(c, a)
    forged = {
        "title": "高级技术经理人",
        "region_code": "120104",
        "fields": ["储能"],
        "introductions": "99",
        "contracts_credited": "50",
        "tech_amount_wan": "99999",
        "matches_worked": "500",
    }
    assert c.post("/brokers/me/edit", data=forged).status_code == 302
    session.expire_all()
    assert (
        session.exec(select(BrokerProfile).where(BrokerProfile.user_id == a.id)).one().title
        == "高级技术经理人"
    )
    assert figures(track.broker_record(session, a.id)) == before
    page = c.get(f"/brokers/{a.id}").get_data(as_text=True)
    assert "99999" not in page
    assert "8.00 万元" in page
    # the edit form has no place for figures
    form = c.get("/brokers/me/edit").get_data(as_text=True)
    for name in ("introductions", "contracts_credited", "tech_amount_wan", "matches_worked"):
        assert f'name="{name}"' not in form


def test_only_an_admin_reassigns_credit_and_a_reason_is_required(ctx, session, desk):
    a, b, admin = desk["a"], desk["b"], desk["admin"]
    c1 = _deal(
        session, a, make_match(session, result=desk["results"][0], need=desk["needs"][0]), amount=10, tech=8
    )

    with pytest.raises(NotAllowed):
        credit.reassign(session, actor=b, contract=c1, agent=b, reason="我做的")
    with pytest.raises(DomainError) as exc:
        credit.reassign(session, actor=admin, contract=c1, agent=b, reason=" ")
    assert exc.value.errors[0][0] == "reason"
    assert session.get(Contract, c1.id).agent_id == a.id
    assert session.get(Organization, desk["org"].id) is not None


def test_an_admin_reassigns_credit_on_the_contract_page(app, session, desk):
    a, b = desk["a"], desk["b"]
    with app.app_context():
        c1 = _deal(
            session,
            a,
            make_match(session, result=desk["results"][0], need=desk["needs"][0]),
            amount=10,
            tech=8,
        )
    session.commit()
    admin = app.test_client()
    login(admin, desk["admin"])
    page = admin.get(f"/contracts/{c1.id}").get_data(as_text=True)
    assert "调整业绩归属" in page
    refused = admin.post(f"/contracts/{c1.id}/credit", data={"agent": str(b.id), "reason": ""})
    assert refused.status_code == 303
    done = admin.post(f"/contracts/{c1.id}/credit", data={"agent": str(b.id), "reason": "乙完成了谈判"})
    assert done.status_code == 302
    session.expire_all()
    assert track.broker_record(session, b.id).tech_amount_wan == 8
    assert track.broker_record(session, a.id).tech_amount_wan == 0
    broker = app.test_client()
    login(broker, a)
    assert (
        broker.post(f"/contracts/{c1.id}/credit", data={"agent": str(a.id), "reason": "是我"}).status_code
        == 403
    )
