"""请经纪人: an owner asks an agency or a broker to take a listing; it lands in the brokers' queue with
the note; accepted atomically, or declined with a reason."""

from __future__ import annotations

import pytest
from sqlmodel import select

from market.accounts.models import Organization
from market.directory import asks
from market.directory.models import BrokerRequest
from market.errors import ConflictError, DomainError, NotAllowed
from market.notifications.models import Notification
from tests.directory.conftest import make_agency, make_broker
from tests.factories import login, make_listing


@pytest.fixture
def setting(app, session, people):
    org = make_agency(session, name="请经纪人测试中心", region_code="120104", fields=["新能源汽车"])
    a = make_broker(session, org=org, name="承接甲")
    b = make_broker(session, org=org, name="承接乙")
    ent_org = session.get(Organization, people["ent"].organization_id)
    need = make_listing(session, kind="need", org=ent_org, title="电机噪声治理")
    session.commit()
    return {"org": org, "a": a, "b": b, "need": need, "ent": people["ent"], "uni": people["uni"]}


@pytest.fixture
def ctx(app):
    """An app context for calling the services directly (links need the URL map); never around
    requests, which must each get their own `g`."""
    with app.app_context():
        yield


def test_a_request_to_one_broker_lands_in_their_queue_with_the_note(app, session, setting):
    ent, a, b = setting["ent"], setting["a"], setting["b"]
    c = app.test_client()
    login(c, ent)
    resp = c.post(
        f"/brokers/{a.id}/ask",
        data={"listing": f"need:{setting['need'].id}", "note": "希望三个月内找到降噪方案"},
    )
    assert resp.status_code == 302
    qa = app.test_client()
    login(qa, a)
    queue = qa.get("/matches").get_data(as_text=True)
    assert "希望三个月内找到降噪方案" in queue
    assert "电机噪声治理" in queue
    qb = app.test_client()
    login(qb, b)
    assert "希望三个月内找到降噪方案" not in qb.get("/matches").get_data(as_text=True)
    told = session.exec(select(Notification).where(Notification.user_id == a.id)).all()
    assert any("电机噪声治理" in n.message for n in told)


def test_accept_from_the_queue_and_the_sender_is_told(app, session, setting):
    ent, a = setting["ent"], setting["a"]
    with app.app_context():
        req = asks.ask(session, actor=ent, agency=setting["org"], broker=None,
                       listing_ref=f"need:{setting['need'].id}", note="请承接")  # fmt: skip
    session.commit()
    c = app.test_client()
    login(c, a)
    resp = c.post(f"/requests/{req.id}/accept", data={"note": "明天联系您", "back": "/matches"})
    assert resp.status_code == 302
    session.expire_all()
    req = session.get(BrokerRequest, req.id)
    assert req.status == "已接受"
    assert req.broker_id == a.id
    assert req.responder_id == a.id
    told = session.exec(select(Notification).where(Notification.user_id == ent.id)).all()
    assert any("明天联系您" in n.message for n in told)


def test_two_brokers_of_the_agency_cannot_both_accept(ctx, session, setting):
    req = asks.ask(session, actor=setting["ent"], agency=setting["org"], broker=None,
                   listing_ref=f"need:{setting['need'].id}", note="请承接")  # fmt: skip
    asks.accept(session, actor=setting["a"], req=req)
    with pytest.raises(ConflictError):
        asks.accept(session, actor=setting["b"], req=req)
    assert req.broker_id == setting["a"].id


def test_decline_needs_a_reason(ctx, session, setting):
    req = asks.ask(session, actor=setting["ent"], agency=setting["org"], broker=setting["b"],
                   listing_ref=f"need:{setting['need'].id}", note="请承接")  # fmt: skip
    with pytest.raises(NotAllowed):
        asks.decline(session, actor=setting["a"], req=req, reason="工作量已满")  # not the broker asked
    with pytest.raises(DomainError) as exc:
        asks.decline(session, actor=setting["b"], req=req, reason="")
    assert exc.value.errors[0][0] == "reason"
    with pytest.raises(DomainError) as exc:
        asks.decline(session, actor=setting["b"], req=req, reason="其他")
    assert exc.value.errors[0][0] == "note"
    asks.decline(session, actor=setting["b"], req=req, reason="领域不熟悉")
    assert (req.status, req.decline_reason) == ("已婉拒", "领域不熟悉")


def test_only_own_published_listings_can_be_offered(ctx, session, setting, people):
    uni = setting["uni"]
    with pytest.raises(DomainError) as exc:  # the enterprise's need is not the university's
        asks.ask(session, actor=uni, agency=setting["org"], broker=None,
                 listing_ref=f"need:{setting['need'].id}", note="想请承接")  # fmt: skip
    assert exc.value.errors[0][0] == "listing"
    ent_org = session.get(Organization, setting["ent"].organization_id)
    draft = make_listing(session, kind="need", org=ent_org, status="草稿", title="草稿需求")
    with pytest.raises(DomainError) as exc:
        asks.ask(session, actor=setting["ent"], agency=setting["org"], broker=None,
                 listing_ref=f"need:{draft.id}", note="想请承接")  # fmt: skip
    assert "已发布" in exc.value.message
    with pytest.raises(NotAllowed):
        asks.ask(session, actor=setting["a"], agency=setting["org"], broker=None,
                 listing_ref=f"need:{setting['need'].id}", note="经纪人不能请经纪人")  # fmt: skip


def test_a_second_waiting_request_for_the_same_listing_is_refused(ctx, session, setting):
    ref = f"need:{setting['need'].id}"
    asks.ask(session, actor=setting["ent"], agency=setting["org"], broker=None, listing_ref=ref, note="一")
    with pytest.raises(DomainError) as exc:
        asks.ask(
            session, actor=setting["ent"], agency=setting["org"], broker=None, listing_ref=ref, note="二"
        )
    assert "等待答复" in exc.value.message
