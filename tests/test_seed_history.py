"""The demo's year of history: deterministic, idempotent, and enough for every chart to have a shape."""

from __future__ import annotations

from datetime import date

from sqlmodel import func, select

from market.deals.models import Contract
from market.freshness import service as freshness
from market.listings.models import ListingEvent, ResearchResult, TechNeed
from market.matches.models import Match, MatchEvent
from market.stats import activity, contracts
from seed import history, loader
from tests.factories import login


def _load(session):
    loader.load_demo(session)
    report = history.load_history(session, data_dir=loader.DATA)
    session.commit()
    return report


def test_history_gives_every_chart_months_of_shape(app, session):
    report = _load(session)
    assert report.matches >= 100 and report.contracts >= 30 and report.registered >= 10
    assert report.edited >= 50 and report.lapsed >= 5
    months = contracts.contracts_by_month(session)
    busy = [b for b in months if b.contracts]
    assert len(busy) >= 8, [b.key for b in months]
    assert len([b for b in months if b.registered_tech_amount_wan > 0]) >= 6
    assert all(b.key <= date.today().strftime("%Y-%m") for b in months)  # nothing in the future
    assert len([b for b in contracts.contracts_by_type(session) if b.contracts]) >= 4
    assert len([b for b in contracts.contracts_by_seller_kind(session) if b.contracts]) >= 2
    assert len([b for b in contracts.contracts_by_region(session) if b.contracts]) >= 2
    assert len([b for b in contracts.contracts_by_field(session) if b.contracts]) >= 6
    funnel = [stage.total for stage in activity.funnel(session)]
    assert all(funnel) and funnel == sorted(funnel, reverse=True)
    agents = activity.agent_leaderboard(session)
    assert len([a for a in agents if a.signed and a.tech_amount_wan > 0]) >= 3
    # claims and introductions spread over the year, not all made today
    claim_days = {
        e.created_at.strftime("%Y-%m")
        for e in session.exec(select(MatchEvent).where(MatchEvent.action == "claim"))
    }
    assert len(claim_days) >= 8
    edits = session.exec(select(ListingEvent.created_at).where(ListingEvent.action == "edit")).all()
    assert len({d.strftime("%Y-%m") for d in edits}) >= 6
    published = session.exec(
        select(ResearchResult.published_at).where(ResearchResult.status == "已发布")
    ).all()
    assert len({d.strftime("%Y-%m") for d in published}) >= 12
    declined = session.exec(select(Match.decline_reason).where(Match.decline_reason.is_not(None))).all()
    assert len(set(declined)) >= 3
    feedback = session.exec(select(func.count()).where(Match.result_feedback.is_not(None))).one()
    assert feedback >= 5


def test_pages_show_the_history_and_say_it_is_demo_data(app, session):
    _load(session)
    history.mark_demo(app)  # what `flask seed demo` does after loading
    client = app.test_client()
    public = client.get("/stats/public").get_data(as_text=True)
    assert "演示数据" in public  # the footer says so
    total = session.exec(select(func.count()).select_from(Contract)).one()
    assert total >= 30
    agent = loader.accounts.find_user_by_email(session, "agent@demo.kjcg.cn")
    login(client, agent, loader.DEMO_PASSWORD)
    board = client.get("/matches/board").get_data(as_text=True)
    for status in ("已对接", "已签约", "未成交"):
        assert status in board, status
    admin = app.test_client()
    login(admin, loader.accounts.find_user_by_email(session, "admin@demo.kjcg.cn"), loader.DEMO_PASSWORD)
    stats = admin.get("/stats")
    assert stats.status_code == 200
    assert "技术经纪人 周航" in stats.get_data(as_text=True)
    with app.app_context():
        stale = freshness.stale_report(session)
    assert sum(row.total for row in stale) >= 5  # the operators' report has something to show


def test_history_is_loaded_once_and_the_same_every_time(app, session):
    first = _load(session)
    counted = session.exec(select(func.count()).select_from(Contract)).one()
    again = history.load_history(session, data_dir=loader.DATA)
    assert again.skipped
    assert session.exec(select(func.count()).select_from(Contract)).one() == counted
    assert first.contracts and not again.contracts


def test_footer_says_nothing_without_demo_data(app, session):
    page = app.test_client().get("/").get_data(as_text=True)
    assert "data-demo-data" not in page
    assert "/api/v1/docs" in page
    assert session.exec(select(func.count()).select_from(TechNeed)).one() == 0
