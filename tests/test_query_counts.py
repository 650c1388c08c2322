"""The busiest public pages run a fixed number of queries, however many listings there are: a change
that adds a query per listing (an N+1) fails here."""

from __future__ import annotations

import pytest

from market.accounts.models import Organization
from market.searching.sync import reindex
from tests.factories import make_listing

#: statements per page, measured on the demo-like world below; raise only with a reason
PAGES = {"/": 8, "/results": 2, "/needs": 2, "/search?q=电池": 0}  # hits come whole from the index


@pytest.fixture
def listings(app, session, people):
    uni = session.get(Organization, people["uni"].organization_id)
    ent = session.get(Organization, people["ent"].organization_id)

    def add(n: int) -> None:
        for i in range(n):
            make_listing(session, kind="result", org=uni, title=f"锂电池电解液第{i}号")
            make_listing(
                session, kind="need", org=ent, title=f"储能电池管理需求第{i}号", is_challenge=i % 2 == 0
            )
        session.commit()
        reindex(app)  # the search page reads hits from the index

    return add


@pytest.mark.parametrize("path", sorted(PAGES))
def test_query_count_does_not_grow_with_the_listings(client, query_recorder, listings, path):
    listings(3)
    client.get(path)  # warm: the first request may load settings and open the index
    with query_recorder.record():
        page = client.get(path)
    assert page.status_code == 200 and "电池" in page.get_data(as_text=True)  # the listings are on it
    few = query_recorder.count
    listings(12)
    with query_recorder.record():
        assert client.get(path).status_code == 200
    assert query_recorder.count == few, query_recorder.statements
    assert few == PAGES[path], query_recorder.statements
