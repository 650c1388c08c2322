"""Fixtures for 互联互通: listings that reached the feed through the outbox, a partner with a token,
and a fetch that reads this app's own feed over WSGI (the real route, no HTTP socket)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from market.federation import feed
from market.federation.harvest import HarvestError
from market.federation.models import Partner
from market.listings import service
from market.outbox.service import enqueue_listing
from market.outbox.worker import drain_now, tx
from tests.factories import make_listing


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def published(app, session, n: int, *, kind: str = "result", **kw) -> list:
    """`n` published listings whose changes the relay carried to the feed."""
    title = kw.pop("title", f"互联互通测试{kind}")
    rows = [make_listing(session, kind=kind, title=f"{title}{i}号", **kw) for i in range(n)]
    for row in rows:
        enqueue_listing(session, kind=kind, listing_id=row.id)
    session.commit()
    relay_feed(app)
    return rows


def relay_feed(app) -> None:
    """Run the feed's part of the relay only (search and matching have their own tests)."""
    handlers = app.extensions["outbox.handlers"]
    app.extensions["outbox.handlers"] = [feed.feed_handler(app)]
    try:
        drain_now(app)
    finally:
        app.extensions["outbox.handlers"] = handlers


def withdraw(app, session, listing, people) -> None:
    service.withdraw(session, actor=people["admin"], listing=listing, reason="测试撤回")
    session.commit()
    relay_feed(app)


@pytest.fixture
def partner(app):
    """A partner that may harvest this platform's feed (and, harvesting "itself", is harvested)."""
    with tx(app).write() as s:
        p = Partner(name="北京技术市场", base_url="http://localhost", prefix="TJ")
        s.add(p)
        s.flush()
        token = feed.issue_token(s, p)
        p.harvest_token = token
        s.add(p)
        partner_id = p.id
    return {"id": partner_id, "token": token}


def wsgi_fetch(app):
    """The puller's fetch over this app's WSGI interface."""
    client = app.test_client()

    def fetch(url: str, token: str, max_bytes: int) -> bytes:
        parts = urlsplit(url)
        resp = client.get(f"{parts.path}?{parts.query}", headers=bearer(token))
        if resp.status_code != 200:
            raise HarvestError(f"HTTP {resp.status_code}")
        return resp.data

    return fetch
