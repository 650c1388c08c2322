"""The investor pipeline, investor–request fit with reasons, recommendations and statistics."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.errors import ConflictError, DomainError, NotAllowed
from market.financing import fit, pipeline, queries
from market.financing.models import InvestorProfile, PipelineEntry, PipelineStep
from tests.financing.conftest import make_investor, make_request
from tests.security.support import sign_in


def test_pipeline_moves_in_order_with_notes_and_dates(ctx, session, fin):
    investor, request = fin["investor"], fin["request"]
    yesterday = date.today() - timedelta(days=1)
    entry = pipeline.move(session, actor=investor, request=request, action="watch", on_date=yesterday)
    assert entry.state == "关注"
    with pytest.raises(ConflictError):
        pipeline.move(session, actor=investor, request=request, action="invest")
    pipeline.move(session, actor=investor, request=request, action="diligence", note="约了创始人周五见面")
    pipeline.move(session, actor=investor, request=request, action="intent", note="TS 草案，不具约束力")
    pipeline.move(session, actor=investor, request=request, action="invest")
    steps = pipeline.steps(session, entry)
    assert [(s.from_state, s.to_state) for s in steps] == [
        (None, "关注"),
        ("关注", "尽调"),
        ("尽调", "投资意向"),
        ("投资意向", "已投资"),
    ]
    assert steps[0].on_date == yesterday and steps[1].note == "约了创始人周五见面"
    with pytest.raises(ConflictError):
        pipeline.move(session, actor=investor, request=request, action="drop")  # 已投资 is final


def test_drop_and_watch_again(ctx, session, fin):
    investor, request = fin["investor"], fin["request"]
    pipeline.move(session, actor=investor, request=request, action="watch")
    pipeline.move(session, actor=investor, request=request, action="drop", note="估值过高")
    entry = pipeline.move(session, actor=investor, request=request, action="watch")
    assert entry.state == "关注"
    assert len(session.exec(select(PipelineEntry)).all()) == 1


def test_future_dates_are_refused(session, fin):
    with pytest.raises(DomainError):
        pipeline.move(
            session,
            actor=fin["investor"],
            request=fin["request"],
            action="watch",
            on_date=date.today() + timedelta(days=3),
        )


@pytest.mark.parametrize("who", ["unverified", "uni", "agent", "admin"])
def test_only_verified_investors_work_the_pipeline(session, people, fin, who):
    user = fin.get(who) or people[who]
    with pytest.raises(NotAllowed):
        pipeline.move(session, actor=user, request=fin["request"], action="watch")
    assert session.exec(select(PipelineStep)).all() == []


def test_pipeline_on_a_draft_is_refused(session, people, fin):
    org = session.get(Organization, people["uni"].organization_id)
    draft = make_request(session, org=org, status="草稿")
    with pytest.raises(NotAllowed):
        pipeline.move(session, actor=fin["investor"], request=draft, action="watch")


def test_pipeline_page_flow_and_owner_sees_investor(app, session, people, fin):
    request = fin["request"]
    client = sign_in(app.test_client(), fin["investor"])
    assert client.post(f"/financing/{request.id}/pipeline/watch", data={"note": "看好"}).status_code == 302
    resp = client.post(f"/financing/{request.id}/pipeline/diligence", data={"on_date": "not-a-date"})
    assert resp.status_code == 303
    assert client.post(f"/financing/{request.id}/pipeline/diligence").status_code == 302
    page = client.get(f"/financing/{request.id}").get_data(as_text=True)
    assert "我的跟进：尽调" in page
    owner_page = (
        sign_in(app.test_client(), people["uni"]).get(f"/financing/{request.id}").get_data(as_text=True)
    )
    assert "渤海创投：尽调" in owner_page
    desk = client.get("/investor").get_data(as_text=True)
    assert request.title in desk


def test_fit_reasons_field_stage_ticket_and_text():
    ask = fit.Ask(1, "储能", "A 轮", 800.0, "宽温域锂电池电解液中试线 储能 电芯")
    focus = fit.Focus(7, ("储能",), ("A 轮", "B 轮"), 300.0, 2000.0, "关注储能电池材料与电解液")
    result = fit.fit(ask, focus)
    assert result.components["field"] == 1.0
    assert result.components["stage"] == 1.0
    assert result.components["ticket"] == 1.0
    assert result.components["text"] > 0
    assert any("电解液" in r for r in result.reasons)
    assert any("单笔投资范围" in r for r in result.reasons)


def test_fit_partial_and_none():
    ask = fit.Ask(1, "光伏", "种子", 5000.0, "钙钛矿电池")
    same_parent = fit.Focus(1, ("储能",), ("A 轮",), 100.0, 1000.0, "")
    assert fit.field_fit("光伏", ("储能",)) == (0.5, "同属新能源")
    assert fit.fit(ask, same_parent).components["ticket"] == 0.0  # 5000 is far above 1000
    assert fit.ticket_fit(1200.0, 100.0, 1000.0)[0] == pytest.approx(0.5 * 1000 / 1200)
    unrelated = fit.Focus(2, ("创新药物",), ("C 轮及以后",), None, None, "")
    assert fit.fit(ask, unrelated).score == 0.0
    ranked = fit.rank_focuses(ask, [same_parent, unrelated], floor=0.1)
    assert [f.focus_id for f in ranked] == [1]


def test_recommendations_both_ways(session, people, fin):
    request = fin["request"]
    names = [org.name for org, _ in queries.recommended_investors(session, request)]
    assert names[0] == "渤海创投"
    assert "未认证的投资公司" not in names  # unverified investors are never recommended
    desk = queries.recommended_requests(session, session.exec(select(InvestorProfile)).all()[0])
    assert [r.id for r, _ in desk] == [request.id]


def test_statistics_count_requests_amounts_stages_and_conversions(app, ctx, session, people, fin):
    org = session.get(Organization, people["ent"].organization_id)
    make_request(session, org=org, stage="种子", amount_wan=200.0)
    make_request(session, org=org, status="草稿", stage="种子", amount_wan=999.0)  # not counted
    other = make_investor(session, name="海河天使")
    pipeline.move(session, actor=fin["investor"], request=fin["request"], action="watch")
    for action in ("watch", "diligence", "intent", "invest"):
        pipeline.move(session, actor=other, request=fin["request"], action=action)
    stats = queries.statistics(session)
    assert stats["requests"] == 2
    assert stats["amount_wan"] == 1000.0
    by_stage = {s["stage"]: s for s in stats["stages"]}
    assert by_stage["种子"]["requests"] == 1 and by_stage["A 轮"]["amount_wan"] == 800.0
    assert stats["converted"] == 1
    session.commit()
    admin = sign_in(app.test_client(), people["admin"]).get("/stats").get_data(as_text=True)
    assert "成果融资" in admin and 'id="fin-converted">1<' in admin
    public = app.test_client().get("/stats/public").get_data(as_text=True)
    assert 'id="fin-requests">2<' in public
