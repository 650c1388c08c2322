"""50 bidders bidding at once for 10 s against a real server process (gunicorn -w 2 + the worker), on
SQLite and PostgreSQL: no 5xx, never two accepted bids at the same price, and the log verifies."""

from __future__ import annotations

import contextlib
import itertools
import time

import pytest
import requests

from tests.conftest import TEST_DATABASE_URL
from tests.live.bidding import arrange_auction, run_bidders
from tests.live_site import LiveSite, postgres_database

BACKENDS = ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        url = (
            stack.enter_context(postgres_database(TEST_DATABASE_URL))
            if request.param == "postgresql"
            else None
        )
        live = LiveSite(tmp_path_factory.mktemp(f"bids-{request.param}"), database_url=url, server="gunicorn")
        live.migrate()
        stack.enter_context(live.start())
        yield live


def test_fifty_bidders_for_ten_seconds(site):
    arranged = arrange_auction(site, 50, tag="并发", minutes=30, extend=1)
    auction_id = arranged["auction_id"]
    stats = run_bidders(site.base, auction_id, arranged["emails"], seconds=10)
    assert stats.server_errors == 0, (stats.codes, site.log())
    assert not stats.errors, stats.errors[:5]
    assert stats.accepted >= 5, stats.codes  # bidding went on, not just refusals
    assert stats.codes[409] > 0  # bids collided, and the losers were answered
    # the accepted prices are all distinct and climb the grid
    assert len(stats.accepted_prices) == len(set(stats.accepted_prices))
    log = requests.get(f"{site.base}/api/v1/auctions/{auction_id}/log", timeout=60).json()
    prices = [e["price"] for e in log["entries"]]
    assert len(prices) == stats.accepted == len(set(prices))
    assert prices == sorted(prices) and all(b - a >= 50 for a, b in itertools.pairwise(prices))
    assert log["verification"]["ok"], log["verification"]
    verify = site.flask("trade", "verify", str(auction_id))
    assert f"校验通过：{stats.accepted} 条" in verify.stdout


def test_the_worker_closes_the_auction_at_its_time(site):
    arranged = arrange_auction(site, 2, tag="到期", minutes=1, extend=0, reserve="50", start="50")
    auction_id = arranged["auction_id"]
    stats = run_bidders(site.base, auction_id, arranged["emails"], seconds=2)
    assert stats.accepted >= 2
    # nobody visits the page: the worker must close it after its minute
    deadline = time.monotonic() + 120
    state = {}
    while time.monotonic() < deadline:
        state = requests.get(f"{site.base}/api/v1/auctions/{auction_id}", timeout=30).json()
        if state["status"] != "竞价中":
            break
        time.sleep(1)
    assert state["status"] == "已成交", (state, site.log("worker"))
