"""公示 with 异议: posting, objections, rulings, and the worker closing the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from market.db import utcnow
from market.errors import DomainError, NotAllowed
from market.trade import closing
from market.trade import service as svc
from market.trade.models import EvidenceChanged, Objection, TradeDeal
from tests.factories import login


def post(session, trade, **kw):
    args = {
        "actor": trade["seller"],
        "result_id": trade["result"].id,
        "price_wan": "80",
        "mode": "转让",
        "buyer_name": "津门测试科技0有限公司",
        "team": "王教授团队（5 人）",
        "days": 15,
    }
    args.update(kw)
    return svc.create_publicity(session, **args)


def test_publicity_window_defaults_and_validation(session, trade):
    pub = post(session, trade)
    assert (svc.aware(pub.ends_at) - svc.aware(pub.starts_at)) == timedelta(days=15)
    with pytest.raises(DomainError) as exc:
        post(session, trade, buyer_name="不存在的公司", price_wan="-1")
    fields = {f for f, _ in exc.value.errors}
    assert fields == {"buyer_name", "price_wan"}
    with pytest.raises(NotAllowed):
        post(session, trade, actor=trade["buyers"][0])


def test_dismissed_objection_lets_it_finish_and_the_worker_publishes_the_outcome(app, session, trade):
    pub = post(session, trade)
    objection = svc.file_objection(
        session, actor=trade["buyers"][1], publicity=pub, reason="价格明显低于评估值，请说明依据"
    )
    later = svc.aware(pub.ends_at) + timedelta(seconds=1)
    # a pending objection holds the outcome back even after the window
    assert closing.close_publicity(session, pub.id, now=later) is False
    with pytest.raises(NotAllowed):
        svc.rule_on_objection(
            session, actor=trade["seller"], objection=objection, upheld=False, reason="不成立"
        )
    svc.rule_on_objection(
        session, actor=trade["admin"], objection=objection, upheld=False, reason="评估报告已附，价格合理"
    )
    session.commit()
    with app.app_context():
        line = closing.run_due(app, now=later)
    assert line and f"公示 #{pub.id}" in line
    session.expire_all()
    assert session.get(type(pub), pub.id).status == "公示期满无异议"
    deal = session.exec(svc.select(TradeDeal).where(TradeDeal.publicity_id == pub.id)).one()
    assert deal.route == "协议定价（公示）" and deal.price_wan == 80
    assert deal.record_hash == svc.record_hash(svc.publicity_record(session, session.get(type(pub), pub.id)))


def test_upheld_objection_ends_the_publicity(session, trade):
    pub = post(session, trade)
    objection = svc.file_objection(
        session, actor=trade["buyers"][2], publicity=pub, reason="该成果权属存在争议，见附件"
    )
    svc.rule_on_objection(
        session, actor=trade["admin"], objection=objection, upheld=True, reason="权属争议属实"
    )
    assert pub.status == "因异议终止"
    with pytest.raises(DomainError):
        svc.file_objection(session, actor=trade["buyers"][1], publicity=pub, reason="再提一个异议试试看看")
    assert closing.close_publicity(session, pub.id, now=svc.aware(pub.ends_at) + timedelta(days=1)) is False


def test_objections_are_append_only_and_need_a_reason(session, trade):
    pub = post(session, trade)
    with pytest.raises(DomainError) as exc:
        svc.file_objection(session, actor=trade["buyers"][0], publicity=pub, reason="太短")
    assert exc.value.errors[0][0] == "reason"
    objection = svc.file_objection(
        session, actor=trade["buyers"][0], publicity=pub, reason="价格明显偏低，应当重新评估"
    )
    session.commit()
    objection.reason = "改过的理由"
    with pytest.raises(EvidenceChanged):
        session.flush()
    session.rollback()
    session.delete(session.get(Objection, objection.id))
    with pytest.raises(EvidenceChanged):
        session.flush()
    session.rollback()


def test_no_objection_after_the_window(session, trade):
    pub = post(session, trade)
    with pytest.raises(DomainError):
        svc.file_objection(
            session,
            actor=trade["buyers"][0],
            publicity=pub,
            reason="窗口结束之后的异议理由",
            now=utcnow() + timedelta(days=16),
        )


def test_pages_objection_and_ruling(app, client, session, trade):
    pub = post(session, trade)
    session.commit()
    assert "公示中" in client.get("/trade").get_data(as_text=True)
    page = client.get(f"/trade/publicity/{pub.id}").get_data(as_text=True)
    assert "剩余时间" in page and "登录</a>后可提出异议" in page
    login(client, trade["buyers"][1])
    r = client.post(f"/trade/publicity/{pub.id}/objections", data={"reason": "短"})
    assert r.status_code == 400 and "请填写异议理由（至少 10 个字）" in r.get_data(as_text=True)
    client.post(f"/trade/publicity/{pub.id}/objections", data={"reason": "价格明显低于同类成果的市场价"})
    objection = session.exec(svc.select(Objection).where(Objection.publicity_id == pub.id)).one()
    seller = app.test_client()
    login(seller, trade["seller"])
    r = seller.post(
        f"/trade/objections/{objection.id}/ruling", data={"decision": "uphold", "reason": "卖方想自己裁定"}
    )
    assert r.status_code == 403 and "只有平台运营可以裁定异议" in r.get_data(as_text=True)
    admin = app.test_client()
    login(admin, trade["admin"])
    assert "待裁定的异议（1）" in admin.get("/trade/admin").get_data(as_text=True)
    r = admin.post(
        f"/trade/objections/{objection.id}/ruling", data={"decision": "uphold", "reason": "经核实价格偏低"}
    )
    assert r.status_code == 302
    page = admin.get(f"/trade/publicity/{pub.id}").get_data(as_text=True)
    assert "因异议终止" in page and "经核实价格偏低" in page


def test_seller_pages_create_a_publicity(client, session, trade):
    login(client, trade["seller"])
    assert client.get("/trade/publicity/new").status_code == 200
    r = client.post(
        "/trade/publicity/new",
        data={
            "result_id": str(trade["result"].id),
            "price_wan": "abc",
            "mode": "转让",
            "buyer_name": "",
            "team": "",
            "days": "15",
        },
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "请填写协议价格" in page and "请填写拟受让方" in page
    r = client.post(
        "/trade/publicity/new",
        data={
            "result_id": str(trade["result"].id),
            "price_wan": "66",
            "mode": "转让",
            "buyer_name": "津门测试科技1有限公司",
            "team": "李老师团队",
            "days": "15",
        },
    )
    assert r.status_code == 302 and "/trade/publicity/" in r.headers["Location"]
