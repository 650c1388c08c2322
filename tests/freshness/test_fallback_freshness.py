"""The database search fallback (search engine down) treats freshness as the engine does: listings
past the grace period are left out, lapsed ones (待更新) come after current ones and are badged."""

from __future__ import annotations

from datetime import date, timedelta

from market.searching.fallback import fallback_search
from search import EngineUnavailable, SearchQuery
from tests.factories import make_listing


class DownEngine:
    """Every call fails as an unreachable search engine does."""

    def __getattr__(self, name):
        def call(*args, **kwargs):
            raise EngineUnavailable("injected outage")

        return call


def _listings(session, grace):
    today = date.today()
    current = make_listing(session, kind="result", title="电解液 有效", valid_until=today + timedelta(days=9))
    lapsed = make_listing(
        session, kind="result", title="电解液 待更新", valid_until=today - timedelta(days=2)
    )
    gone = make_listing(
        session, kind="result", title="电解液 已过宽限期", valid_until=today - timedelta(days=grace + 1)
    )
    edge = make_listing(
        session, kind="need", title="电解液 需求 宽限期最后一天", valid_until=today - timedelta(days=grace)
    )
    # the lapsed result is the newest publication: it still comes after the current ones
    lapsed.published_at = current.published_at + timedelta(hours=2)
    edge.published_at = current.published_at - timedelta(hours=2)
    session.add_all([lapsed, edge])
    session.commit()
    return current, lapsed, gone, edge


def test_fallback_drops_past_grace_and_ranks_lapsed_last(app, session, grace) -> None:
    current, lapsed, gone, edge = _listings(session, grace)
    with app.app_context():
        found = fallback_search(session, SearchQuery(text="电解液"))
        results = fallback_search(session, SearchQuery(text="电解液", kind="result"))
    assert [h.db_id for h in found.hits] == [current.id, lapsed.id, edge.id]
    assert found.total == 3 and results.total == 2
    assert [h.fields["stale"] for h in found.hits] == [False, True, True]
    assert gone.id not in [h.db_id for h in results.hits]


def test_search_page_on_the_fallback_badges_lapsed_and_hides_past_grace(app, session, grace, client) -> None:
    _listings(session, grace)
    app.extensions["search.engine"] = DownEngine()
    page = client.get("/search", query_string={"q": "电解液"}).get_data(as_text=True)
    assert "搜索服务暂时不可用" in page
    assert page.index("电解液 有效") < page.index("电解液 待更新")
    assert "已过宽限期" not in page and "待更新</span>" in page
    api = client.get("/api/v1/search", query_string={"q": "电解液"}).get_json()
    assert api["degraded"] is True and api["total"] == 3
