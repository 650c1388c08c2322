"""Related listings from the matcher and view counts deduplicated per visitor per day, bots excluded."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from market.accounts.models import Organization
from market.db import utcnow
from market.discovery import service
from market.discovery.models import ListingView
from tests.factories import login, make_listing, make_match

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def _views(session) -> int:
    session.expire_all()
    return len(session.exec(select(ListingView)).all())


def test_views_count_once_per_visitor_per_day_and_bots_are_excluded(app, session, people):
    result = make_listing(
        session, kind="result", org=session.get(Organization, people["uni"].organization_id)
    )
    session.commit()
    url = f"/results/{result.id}"
    visitor = app.test_client()
    for _ in range(3):
        assert visitor.get(url, headers={"User-Agent": BROWSER}).status_code == 200
    assert _views(session) == 1
    app.test_client().get(url, headers={"User-Agent": "Mozilla/5.0 (compatible; Baiduspider/2.0)"})
    app.test_client().get(url, headers={"User-Agent": "curl/8.5"})
    assert _views(session) == 1
    member = app.test_client()
    login(member, people["ent"])
    member.get(url, headers={"User-Agent": BROWSER})
    member.get(url, headers={"User-Agent": BROWSER})
    assert _views(session) == 2
    owner = app.test_client()
    login(owner, people["uni"])
    page = owner.get(url, headers={"User-Agent": BROWSER}).data.decode()
    assert _views(session) == 2  # owners do not count their own visits
    assert "浏览 2 人次" in page


def test_a_visitor_counts_again_the_next_day(session):
    first = utcnow()
    assert service.record(session, kind="result", listing_id=1, visitor="v1", now=first)
    assert not service.record(session, kind="result", listing_id=1, visitor="v1", now=first)
    assert service.record(session, kind="result", listing_id=1, visitor="v1", now=first + timedelta(days=1))
    assert service.view_count(session, "result", 1) == 2


def test_related_listings_are_the_matchers_published_counterparts(app, session, people):
    uni_org = session.get(Organization, people["uni"].organization_id)
    result = make_listing(session, kind="result", org=uni_org)
    best = make_listing(session, kind="need", title="最匹配的需求")
    second = make_listing(session, kind="need", title="次匹配的需求")
    hidden = make_listing(session, kind="need", title="草稿需求不显示", status="草稿")
    make_match(session, result=result, need=second, score=0.5)
    make_match(session, result=result, need=best, score=0.9)
    make_match(session, result=result, need=hidden, score=0.95)
    session.commit()
    assert [n.title for n in service.related(session, result)] == ["最匹配的需求", "次匹配的需求"]
    page = app.test_client().get(f"/results/{result.id}").data.decode()
    assert "可能匹配的技术需求" in page and page.index("最匹配的需求") < page.index("次匹配的需求")
    assert "草稿需求不显示" not in page
    need_page = app.test_client().get(f"/needs/{best.id}").data.decode()
    assert "可能匹配的科技成果" in need_page and result.title in need_page
