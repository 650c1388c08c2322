"""Saved searches: a new matching listing becomes an in-site notification and a mail digest received by
a real SMTP server; one click on the signed link in the mail unsubscribes; bad searches are refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlmodel import select

from market.mail.service import send_due
from market.notifications.models import Notification
from market.outbox.worker import drain_now
from market.saved import alerts
from market.saved.models import Follow, SavedSearch, SavedSearchHit
from tests.factories import NEED, login, publish
from tests.mailserver import running
from tests.saved.conftest import HYDROGEN


def _alerts_for(session, user) -> list[Notification]:
    session.expire_all()
    return [
        n
        for n in session.exec(select(Notification).where(Notification.user_id == user.id)).all()
        if "订阅的搜索" in n.message
    ]


def test_new_matching_listing_is_notified_and_mailed_once_then_unsubscribed(app, session, people, tmp_path):
    uni = people["uni"]
    c = app.test_client()
    login(c, uni)
    resp = c.post("/saved-searches", data={"q": "氢", "kind": "need", "frequency": "每日"})
    assert resp.status_code == 302
    search = session.exec(select(SavedSearch)).one()
    assert search.params == {"q": ["氢"], "kind": ["need"]} and search.name == "氢、技术需求"
    with running(tmp_path / "smtp") as smtp:
        app.config.update(MAIL_URL=smtp.url, SITE_URL="https://kjcg.example.cn")
        publish(app, session, people, "needs", HYDROGEN, owner="ent")
        publish(app, session, people, "needs", NEED, owner="ent")  # does not match
        drain_now(app)
        with app.app_context():
            assert alerts.run_alerts(app) == "订阅搜索：1 条新结果"
            assert alerts.run_alerts(app) is None  # found once
        [note] = _alerts_for(session, uni)
        assert "焦炉煤气制氢提纯到燃料电池级" in note.message and note.link.startswith("/needs/")
        with app.app_context():
            assert alerts.run_digests(app) == "订阅搜索：1 封汇总邮件"
            assert alerts.run_digests(app) is None  # mailed once
        send_due(app)
        digests = [m for m in smtp.wait_for(3) if "订阅" in m["Subject"]]
        assert len(digests) == 1 and digests[0]["To"] == uni.email
        body = digests[0].get_content()
        assert "焦炉煤气制氢提纯到燃料电池级" in body and "电池包冬季续航衰减严重" not in body
        link = next(line.split("：", 1)[1] for line in body.splitlines() if "一键退订" in line)
        assert link.startswith("https://kjcg.example.cn/saved-searches/unsubscribe/")
    # one click, signed out, from the mail
    page = app.test_client().get(urlsplit(link).path)
    assert page.status_code == 200 and "已退订" in page.data.decode()
    session.expire_all()
    assert session.get(SavedSearch, search.id).frequency == "不发邮件"
    tampered = urlsplit(link).path[:-3] + "abc"
    assert app.test_client().get(tampered).status_code == 400


def test_a_digest_waits_for_its_period(app, session, people):
    uni = people["uni"]
    c = app.test_client()
    login(c, uni)
    c.post("/saved-searches", data={"q": "氢", "frequency": "每周"})
    search = session.exec(select(SavedSearch)).one()
    publish(app, session, people, "needs", HYDROGEN, owner="ent")
    drain_now(app)
    with app.app_context():
        alerts.run_alerts(app)
        assert alerts.run_digests(app) == "订阅搜索：1 封汇总邮件"
    publish(app, session, people, "needs", dict(HYDROGEN, title="制氢第二个需求：电解水"), owner="ent")
    drain_now(app)
    with app.app_context():
        assert alerts.run_alerts(app) == "订阅搜索：1 条新结果"
        assert alerts.run_digests(app) is None  # a week has not passed
    session.expire_all()
    unmailed = session.exec(select(SavedSearchHit).where(SavedSearchHit.mailed_at.is_(None))).all()
    assert [h.saved_search_id for h in unmailed] == [search.id]


def test_listings_published_before_the_search_was_saved_are_not_alerts(app, session, people):
    publish(app, session, people, "needs", HYDROGEN, owner="ent")
    drain_now(app)
    c = app.test_client()
    login(c, people["uni"])
    c.post("/saved-searches", data={"q": "氢"})
    session.expire_all()
    search = session.exec(select(SavedSearch)).one()
    search.created_at = search.created_at.replace(year=search.created_at.year + 1)  # saved "later"
    session.add(search)
    session.commit()
    with app.app_context():
        assert alerts.run_alerts(app) is None


def test_bad_or_duplicate_searches_are_refused(client, session, people):
    login(client, people["uni"])
    resp = client.post("/saved-searches", data={"q": "氢", "price_min": "abc"})
    assert resp.status_code == 303
    resp = client.post("/saved-searches", data={"q": "氢", "frequency": "每小时"})
    assert resp.status_code == 303
    assert session.exec(select(SavedSearch)).all() == []
    assert client.post("/saved-searches", data={"q": "氢"}).status_code == 302
    assert client.post("/saved-searches", data={"q": "氢"}).status_code == 303
    session.expire_all()
    assert len(session.exec(select(SavedSearch)).all()) == 1


def test_change_and_delete_a_saved_search_only_ones_own(app, session, people):
    c = app.test_client()
    login(c, people["uni"])
    c.post("/saved-searches", data={"q": "氢"})
    search = session.exec(select(SavedSearch)).one()
    other = app.test_client()
    login(other, people["other_uni"])
    assert other.post(f"/saved-searches/{search.id}", data={"frequency": "每周"}).status_code == 404
    assert c.post(f"/saved-searches/{search.id}", data={"frequency": "每周"}).status_code == 302
    session.expire_all()
    assert session.get(SavedSearch, search.id).frequency == "每周"
    assert (
        c.post(f"/saved-searches/{search.id}", data={"frequency": "每周", "delete": "1"}).status_code == 302
    )
    session.expire_all()
    assert not session.get(SavedSearch, search.id).active
    assert "订阅的搜索（0）" in c.get("/favourites").data.decode()


def test_search_page_offers_to_save_the_search(client, people):
    assert "订阅此搜索" not in client.get("/search?q=氢").data.decode()
    login(client, people["uni"])
    page = client.get("/search?q=氢&field=氢能").data.decode()
    assert "订阅此搜索" in page and 'name="field" value="氢能"' in page


def test_followers_hear_of_an_organisations_new_publications_once(app, session, people):
    ent = people["ent"]
    c = app.test_client()
    login(c, people["uni"])
    assert c.post(f"/organizations/{ent.organization_id}/follow").status_code == 302
    follow = session.exec(select(Follow)).one()
    follow.created_at = follow.created_at.replace(year=follow.created_at.year - 1)  # followed a while ago
    session.add(follow)
    session.commit()
    publish(app, session, people, "needs", HYDROGEN, owner="ent")
    with app.app_context():
        assert alerts.run_alerts(app) == "关注机构：1 条新发布"
        assert alerts.run_alerts(app) is None
    session.expire_all()
    notes = [
        n.message
        for n in session.exec(select(Notification).where(Notification.user_id == people["uni"].id)).all()
        if "关注的机构" in n.message
    ]
    assert notes == ["关注的机构“海河新能源科技股份有限公司”发布了新技术需求：焦炉煤气制氢提纯到燃料电池级"]
