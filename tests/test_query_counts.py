"""The busiest public pages run a fixed number of queries, however many listings there are: a change
that adds a query per listing (an N+1) fails here."""

from __future__ import annotations

import pytest

from market.accounts.models import Organization
from market.searching.sync import reindex
from tests.factories import login, make_listing

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


#: the same pages for a signed-in member: the user's row, and the navbar's unread badge (one statement
#: for notifications and message threads together) on top of the page's own
SIGNED_IN_PAGES = {"/results": 4, "/needs": 4}


@pytest.mark.parametrize("path", sorted(SIGNED_IN_PAGES))
def test_a_signed_in_page_adds_a_fixed_number_of_queries(client, people, query_recorder, listings, path):
    login(client, people["ent"])
    listings(3)
    client.get(path)
    with query_recorder.record():
        assert client.get(path).status_code == 200
    few = query_recorder.count
    listings(12)
    with query_recorder.record():
        assert client.get(path).status_code == 200
    assert query_recorder.count == few, query_recorder.statements
    assert few == SIGNED_IN_PAGES[path], query_recorder.statements
