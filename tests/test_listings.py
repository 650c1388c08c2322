"""Listings: lifecycle, permissions (404s), stale versions, contact protection, showcase filters."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from market.contacts.models import ContactReveal
from market.errors import ConflictError
from market.listings import service
from market.listings.models import Interest, ListingEvent, ListingRevision, ResearchResult, TechNeed
from market.outbox.models import OutboxEntry
from tests.factories import NEED, RESULT, create, latest, login, make_listing, make_org, make_user, publish


def test_full_lifecycle_with_history(app, client, session, people):
    login(client, people["uni"])
    assert create(client).status_code == 302
    result = latest(session, ResearchResult)
    assert (
        result.status == "草稿" and result.price_wan == 120 and result.keywords == ["锂电", "低温", "电解液"]
    )
    assert client.post(f"/results/{result.id}/submit").status_code == 302
    admin = app.test_client()
    login(admin, people["admin"])
    resp = admin.post(f"/admin/review/results/{result.id}", data={"decision": "reject", "reason": ""})
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(ResearchResult, result.id).status == "待审核"  # a rejection needs a reason
    admin.post(
        f"/admin/review/results/{result.id}",
        data={"decision": "reject", "reason": "请补充量化优势的测试条件"},
    )
    session.expire_all()
    assert session.get(ResearchResult, result.id).status == "已退回"
    page = client.get(f"/results/{result.id}").data.decode()
    assert "请补充量化优势的测试条件" in page
    client.post(f"/results/{result.id}/submit")
    admin.post(f"/admin/review/results/{result.id}", data={"decision": "approve"})
    client.post(f"/results/{result.id}/withdraw")
    session.expire_all()
    events = session.exec(
        select(ListingEvent)
        .where(ListingEvent.listing_id == result.id, ListingEvent.kind == "result")
        .order_by(ListingEvent.id)
    ).all()
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("create", None, "草稿"),
        ("submit", "草稿", "待审核"),
        ("reject", "待审核", "已退回"),
        ("submit", "已退回", "待审核"),
        ("approve", "待审核", "已发布"),
        ("withdraw", "已发布", "已下架"),
    ]
    assert events[2].reason == "请补充量化优势的测试条件" and events[4].actor_id == people["admin"].id
    # publish and withdraw both reached the outbox
    assert session.exec(select(OutboxEntry).where(OutboxEntry.listing_id == result.id)).all()
    history = client.get(f"/results/{result.id}").data.decode()
    assert "处理记录" in history and "退回修改" in history


def test_unverified_org_cannot_submit(client, session):
    user = make_user(session, role="university", verified=False)
    session.commit()
    login(client, user)
    create(client)
    result = latest(session, ResearchResult)
    client.post(f"/results/{result.id}/submit")
    session.expire_all()
    assert session.get(ResearchResult, result.id).status == "草稿"
    assert "尚未通过平台认证" in client.get(f"/results/{result.id}").data.decode()


@pytest.mark.parametrize("viewer", [None, "other_uni", "ent", "agent"])
@pytest.mark.parametrize("status", ["草稿", "待审核", "已下架"])
def test_non_public_listing_is_404_to_others(app, session, people, viewer, status):
    c = app.test_client()
    login(c, people["uni"])
    create(c)
    result = latest(session, ResearchResult)
    result.status = status
    session.add(result)
    session.commit()
    other = app.test_client()
    if viewer:
        login(other, people[viewer])
    assert other.get(f"/results/{result.id}").status_code == 404
    assert other.get(f"/api/v1/results/{result.id}").status_code == 404
    assert c.get(f"/results/{result.id}").status_code == 200  # the owner still sees it


def test_only_owner_org_edits(app, session, people):
    result = publish(app, session, people)
    for who, code in [("other_uni", 403), ("ent", 403), ("agent", 403), ("uni2", 200)]:
        c = app.test_client()
        login(c, people[who])
        assert c.get(f"/results/{result.id}/edit").status_code == code, who


def test_only_admin_reviews(app, session, people):
    c = app.test_client()
    login(c, people["uni"])
    create(c)
    result = latest(session, ResearchResult)
    c.post(f"/results/{result.id}/submit")
    assert c.post(f"/admin/review/results/{result.id}", data={"decision": "approve"}).status_code == 403
    assert c.get("/admin/review").status_code == 403


def test_role_creates_only_its_kind(client, session, people):
    login(client, people["uni"])
    assert client.get("/needs/new").status_code == 403
    assert client.get("/results/new").status_code == 200


def test_validation_errors_in_chinese_and_nothing_saved(client, session, people):
    login(client, people["uni"])
    bad = dict(RESULT, title="电", transfer_modes=["乱写"], price_wan="", price_negotiable="")
    resp = create(client, data=bad)
    page = resp.data.decode()
    assert resp.status_code == 400
    assert "名称至少 2 个字" in page and "不在可选范围内" in page
    assert latest(session, ResearchResult) is None


def test_need_requires_secret_confirmation_and_challenge_reward(client, session, people):
    login(client, people["ent"])
    resp = create(client, "needs", dict(NEED, no_secret_confirmed=""))
    assert resp.status_code == 400 and "不含商业秘密" in resp.data.decode()
    resp = create(client, "needs", dict(NEED, is_challenge="y"))
    assert resp.status_code == 400 and "悬赏金额" in resp.data.decode()
    assert (
        create(
            client, "needs", dict(NEED, is_challenge="y", reward_wan="200", eligibility="具备中试条件")
        ).status_code
        == 302
    )
    need = latest(session, TechNeed)
    assert need.is_challenge and "揭榜挂帅" in need.cooperation_modes and need.reward_wan == 200


def test_stale_edit_is_refused_and_nothing_overwritten(app, session, people):
    result = publish(app, session, people)
    a, b = app.test_client(), app.test_client()
    login(a, people["uni"])
    login(b, people["uni2"])
    base = dict(RESULT, version=str(result.version))
    assert a.post(f"/results/{result.id}/edit", data=dict(base, title="甲修改后的标题")).status_code == 302
    resp = b.post(f"/results/{result.id}/edit", data=dict(base, title="乙修改后的标题"))
    assert resp.status_code == 409 and "您这次的修改没有保存" in resp.data.decode()
    session.expire_all()
    # a published listing's new title waits for review: 甲's edit is the one waiting, 乙's was refused
    [waiting] = session.exec(select(ListingRevision).where(ListingRevision.listing_id == result.id)).all()
    assert waiting.data["title"] == "甲修改后的标题"
    assert session.get(ResearchResult, result.id).title == RESULT["title"]


def test_contact_protected_and_reveals_recorded(app, session, people):
    result = publish(app, session, people)
    phone = RESULT["contact_phone"]
    anon = app.test_client()
    assert phone not in anon.get(f"/results/{result.id}").data.decode()
    ent = app.test_client()
    login(ent, people["ent"])
    page = ent.get(f"/results/{result.id}").data.decode()
    assert phone not in page and "表达意向" in page
    agent = app.test_client()
    login(agent, people["agent"])
    assert phone in agent.get(f"/results/{result.id}").data.decode()
    reveals = session.exec(select(ContactReveal).where(ContactReveal.listing_id == result.id)).all()
    assert [(r.viewer_id, r.basis) for r in reveals] == [(people["agent"].id, "role")]
    api = anon.get(f"/api/v1/results/{result.id}").json
    assert "contact_phone" not in str(api) and phone not in str(api)


def test_express_interest(app, session, people):

    result = publish(app, session, people)
    ent = app.test_client()
    login(ent, people["ent"])
    assert ent.post(f"/results/{result.id}/interest", data={"message": "想了解授权费用"}).status_code == 302
    assert ent.post(f"/results/{result.id}/interest", data={}).status_code == 302  # idempotent
    rows = session.exec(select(Interest).where(Interest.listing_id == result.id)).all()
    assert len(rows) == 1 and rows[0].message == "想了解授权费用"
    uni = app.test_client()
    login(uni, people["other_uni"])
    assert uni.post(f"/results/{result.id}/interest").status_code == 403


def test_showcase_filters(app, session, people):
    publish(app, session, people)
    publish(
        app,
        session,
        people,
        data=dict(
            RESULT,
            title="工业机器人视觉引导系统",
            field="工业机器人",
            maturity="产业化",
            transfer_modes=["技术服务"],
            price_wan="30",
        ),
    )
    c = app.test_client()

    def titles(**args):
        page = c.get("/results", query_string=args).data.decode()
        return [t for t in ("宽温域锂离子电池电解液", "工业机器人视觉引导系统") if t in page]

    assert titles() == ["宽温域锂离子电池电解液", "工业机器人视觉引导系统"]
    assert titles(field="储能") == ["宽温域锂离子电池电解液"]
    assert titles(field="新能源") == ["宽温域锂离子电池电解液"]
    assert titles(maturity="产业化") == ["工业机器人视觉引导系统"]
    assert titles(mode="技术许可") == ["宽温域锂离子电池电解液"]
    assert titles(price_max="50") == ["工业机器人视觉引导系统"]
    assert titles(region="北京") == []
    assert c.get("/results", query_string={"field": "乱写", "price_min": "abc"}).status_code == 200


def test_need_showcase_challenge_and_budget_overlap(app, session, people):
    publish(app, session, people, "needs", NEED, owner="ent")
    publish(
        app,
        session,
        people,
        "needs",
        dict(
            NEED,
            title="揭榜挂帅：氢燃料电池低温冷启动",
            is_challenge="y",
            reward_wan="500",
            budget_min_wan="300",
            budget_max_wan="600",
        ),
        owner="ent",
    )
    c = app.test_client()
    page = c.get("/needs", query_string={"challenge": "1"}).data.decode()
    assert "氢燃料电池低温冷启动" in page and "电池包冬季续航衰减严重" not in page
    page = c.get("/needs", query_string={"price_min": "100", "price_max": "200"}).data.decode()
    assert "电池包冬季续航衰减严重" in page and "氢燃料电池低温冷启动" not in page


def test_stale_save_racing_past_the_check_on_postgres(engine):
    """Two sessions on PostgreSQL read version 1; both pass the form check; the second save is refused."""
    if engine.dialect.name != "postgresql":
        pytest.skip("needs two real sessions on PostgreSQL (TEST_DATABASE_URL)")

    with Session(engine) as s:
        org = make_org(s, name="并发测试大学", kind="高校")
        listing = make_listing(s, kind="result", org=org)
        s.commit()
        ids = (org.id, listing.id)
    try:
        a, b = Session(engine), Session(engine)
        la, lb = a.get(ResearchResult, ids[1]), b.get(ResearchResult, ids[1])
        data = dict(RESULT, transfer_modes=["技术许可"])
        service.update_listing(
            a,
            actor=None,
            listing=la,
            data=dict(data, title="甲的修改版本"),
            expected_version=1,
            check_permission=False,
        )
        a.commit()
        with pytest.raises(ConflictError):
            service.update_listing(
                b,
                actor=None,
                listing=lb,
                data=dict(data, title="乙的修改版本"),
                expected_version=1,
                check_permission=False,
            )
        b.rollback()
        with Session(engine) as s:
            assert s.get(ResearchResult, ids[1]).title == "甲的修改版本"
        a.close()
        b.close()
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM listing_events WHERE listing_id = :i AND kind = 'result'"), {"i": ids[1]}
            )
            conn.execute(
                sa.text("DELETE FROM outbox WHERE listing_id = :i AND kind = 'result'"), {"i": ids[1]}
            )
            conn.execute(sa.text("DELETE FROM research_results WHERE id = :i"), {"i": ids[1]})
            conn.execute(sa.text("DELETE FROM organizations WHERE id = :i"), {"i": ids[0]})


def test_forms_offer_one_click_field_suggestions(client, people):
    login(client, people["uni"])
    page = client.get("/results/new").data.decode()
    assert 'id="field-suggest"' in page and "/api/v1/fields/suggest" in page
    assert "js/field-suggest.js" in page
    assert client.get("/static/js/field-suggest.js").status_code == 200
