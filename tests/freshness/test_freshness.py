"""信息有效期: a validity period from publication, one reminder, one-click re-confirmation, the badge,
ranking after current listings, leaving search after the grace period, and the operators' report."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from market.accounts.models import Organization
from market.freshness import rules, service
from market.listings.models import ListingEvent, ResearchResult
from market.notifications.models import Notification
from market.outbox.worker import drain_now
from market.searching.engine import get_engine
from search import SearchQuery
from tests.factories import NEED, RESULT, login, make_listing, publish


def _ids(app, text: str = "", sort: str = "relevance") -> list[int]:
    results = get_engine(app).query(SearchQuery(text=text, kind="result", sort=sort))
    return [h.db_id for h in results.hits]


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert rules.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert rules.add_months(date(2026, 3, 15), 12) == date(2027, 3, 15)
    assert rules.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


def test_stages_follow_the_valid_until_day_and_the_grace_period(app) -> None:
    with app.app_context():
        grace = app.config["FRESHNESS_GRACE_DAYS"]
        day = date(2026, 6, 1)
        assert rules.stage(day, on=day) == rules.CURRENT
        assert rules.stage(day, on=day + timedelta(days=1)) == rules.LAPSED
        assert rules.stage(day, on=day + timedelta(days=grace)) == rules.LAPSED
        assert rules.stage(day, on=day + timedelta(days=grace + 1)) == rules.GONE
        assert rules.stage(None, on=day) == rules.CURRENT


def test_publication_starts_a_validity_period_of_the_configured_months(app, session, people) -> None:
    app.config["FRESHNESS_VALID_MONTHS"] = 6
    listing = publish(app, session, people)
    assert listing.valid_until == rules.add_months(listing.published_at.date(), 6)
    assert listing.stale_stage == rules.CURRENT
    need = publish(app, session, people, kinds="needs", data=NEED, owner="ent")
    assert need.valid_until is not None


def test_owner_is_reminded_once_in_site_and_by_mail(app, session, people) -> None:
    app.config["MAIL_URL"] = "smtp://127.0.0.1:1"  # queued only; the mail job is not run here
    listing = publish(app, session, people)
    soon = listing.valid_until - timedelta(days=app.config["FRESHNESS_REMIND_DAYS"] - 1)
    early = listing.valid_until - timedelta(days=app.config["FRESHNESS_REMIND_DAYS"] + 5)
    assert service.run_due(app, on=early) is None  # not yet due
    assert "提醒 1 条" in service.run_due(app, on=soon)
    assert service.run_due(app, on=soon) is None  # once
    session.expire_all()
    notes = session.exec(select(Notification).where(Notification.user_id == people["uni"].id)).all()
    reminders = [n for n in notes if "有效期至" in n.message]
    assert len(reminders) == 1
    assert reminders[0].link == f"/results/{listing.id}"
    from market.mail.models import OutgoingMail  # noqa: PLC0415 - only this test reads the mail queue

    mails = session.exec(select(OutgoingMail).where(OutgoingMail.to_address == people["uni"].email)).all()
    assert any("确认仍有效" in m.body for m in mails)


def test_lapsed_listing_is_badged_and_ranked_after_current_ones(app, session, people, after) -> None:
    old = publish(app, session, people, data={**RESULT, "title": "宽温域锂离子电池电解液 旧版"})
    new = publish(app, session, people, data={**RESULT, "title": "宽温域锂离子电池电解液 新版"})
    # `old` lapsed although it is the newest publication; `new` is current
    old.valid_until = date.today() - timedelta(days=3)
    old.published_at = new.published_at + timedelta(hours=1)  # newer, yet lapsed
    session.add(old)
    session.commit()
    drain_now(app)
    assert service.run_due(app) is not None
    drain_now(app)
    session.expire_all()
    assert session.get(ResearchResult, old.id).stale_stage == rules.LAPSED
    assert _ids(app, "电解液") == [new.id, old.id]
    assert _ids(app, sort="newest") == [new.id, old.id]
    hit = get_engine(app).query(SearchQuery(text="旧版")).hits[0]
    assert hit.fields["stale"] is True
    page = app.test_client().get(f"/results/{old.id}").get_data(as_text=True)
    assert "待更新" in page
    assert "待更新" not in app.test_client().get(f"/results/{new.id}").get_data(as_text=True)
    assert "待更新" in app.test_client().get("/results").get_data(as_text=True)
    assert "待更新" in app.test_client().get("/search?q=电解液").get_data(as_text=True)


def test_stale_outranks_newer_publication_only_within_relevance(app, session, people) -> None:
    """A lapsed listing that is newer than a current one still comes after it (same text score)."""
    first = publish(app, session, people, data={**RESULT, "title": "钠离子电池正极材料 甲"})
    second = publish(app, session, people, data={**RESULT, "title": "钠离子电池正极材料 乙"})
    first.published_at = second.published_at - timedelta(days=1)  # the search index keeps seconds
    session.add(first)
    session.commit()
    drain_now(app)
    assert _ids(app, "钠离子") == [second.id, first.id]  # newest first among equals
    second.valid_until = date.today() - timedelta(days=1)
    session.add(second)
    session.commit()
    service.run_due(app)
    drain_now(app)
    assert _ids(app, "钠离子") == [first.id, second.id]


def test_past_the_grace_period_a_listing_leaves_search_until_reconfirmed(app, session, people, grace) -> None:
    listing = publish(app, session, people)
    drain_now(app)
    assert _ids(app, "电解液") == [listing.id]
    listing.valid_until = date.today() - timedelta(days=grace + 1)
    session.add(listing)
    session.commit()
    assert "检索状态更新 1 条" in service.run_due(app)
    drain_now(app)
    assert _ids(app, "电解液") == []
    # still public, badged, with the owner's one-click re-confirmation
    owner = app.test_client()
    login(owner, people["uni"])
    page = owner.get(f"/results/{listing.id}").get_data(as_text=True)
    assert "待更新" in page and "确认仍有效" in page
    assert owner.post(f"/results/{listing.id}/reconfirm").status_code == 302
    session.expire_all()
    fresh = session.get(ResearchResult, listing.id)
    assert fresh.valid_until == rules.add_months(date.today(), app.config["FRESHNESS_VALID_MONTHS"])
    assert fresh.stale_stage == rules.CURRENT and fresh.renewal_reminded_at is None
    drain_now(app)
    assert _ids(app, "电解液") == [listing.id]
    events = session.exec(select(ListingEvent).where(ListingEvent.listing_id == listing.id)).all()
    assert [e.action for e in events][-1] == "reconfirm"


def test_only_the_owner_may_reconfirm(app, session, people) -> None:
    listing = publish(app, session, people)
    before = listing.valid_until
    for who, status in (("other_uni", 403), ("ent", 403), ("agent", 403), ("admin", 403)):
        c = app.test_client()
        login(c, people[who])
        assert c.post(f"/results/{listing.id}/reconfirm").status_code == status, who
    assert app.test_client().post(f"/results/{listing.id}/reconfirm").status_code == 302  # to login
    session.expire_all()
    assert session.get(ResearchResult, listing.id).valid_until == before
    c = app.test_client()
    login(c, people["uni2"])  # a colleague in the same office may
    assert c.post(f"/results/{listing.id}/reconfirm").status_code == 302


def test_reconfirm_needs_the_csrf_token(app, session, people) -> None:
    listing = publish(app, session, people)
    c = app.test_client()
    login(c, people["uni"])
    app.config["WTF_CSRF_ENABLED"] = True
    assert c.post(f"/results/{listing.id}/reconfirm").status_code == 400
    actions = session.exec(select(ListingEvent.action).where(ListingEvent.listing_id == listing.id)).all()
    assert "reconfirm" not in actions


def test_report_counts_stale_listings_by_organisation(app, session, people, grace) -> None:
    today = date.today()
    lapsed = make_listing(session, kind="result", title="过期成果甲", valid_until=today - timedelta(days=2))
    org = session.get(Organization, lapsed.organization_id)
    make_listing(session, kind="need", title="过期需求乙", valid_until=today - timedelta(days=grace + 5))
    make_listing(
        session, kind="result", org=org, title="过期成果丙", valid_until=today - timedelta(days=grace + 5)
    )
    soon = make_listing(session, kind="result", title="将到期成果", valid_until=today + timedelta(days=3))
    make_listing(session, kind="result", title="有效成果", valid_until=today + timedelta(days=200))
    session.commit()
    with app.app_context():
        rows = service.stale_report(session, on=today)
    summary = [(r.organization.id, r.lapsed, r.gone, r.due_soon) for r in rows]
    assert summary[0] == (org.id, 1, 1, 0)  # the most stale organisation first
    assert (soon.organization_id, 0, 0, 1) in summary
    assert len(summary) == 3
    admin = app.test_client()
    login(admin, people["admin"])
    page = admin.get("/admin/stale")
    assert page.status_code == 200
    assert org.name in page.get_data(as_text=True)
    detail = admin.get(f"/admin/stale?org={org.id}").get_data(as_text=True)
    assert "过期成果甲" in detail and "过期成果丙" in detail and "已移出检索" in detail
    c = app.test_client()
    login(c, people["uni"])
    assert c.get("/admin/stale").status_code == 403
