"""The demo data shows every trading state, through the services, and loads once."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from market.deals.models import Contract
from market.trade import service as svc
from market.trade.models import Auction, Publicity, SaleListing
from seed import loader
from seed import trade as trade_seed


def test_demo_shows_each_state(session):
    report = loader.load_demo(session)
    assert report.trade is not None and not report.trade.skipped
    pubs = Counter(session.exec(select(Publicity.status)).all())
    assert pubs == {"公示中": 2, "公示期满无异议": 1, "因异议终止": 1}
    running = session.exec(select(Publicity).where(Publicity.status == "公示中")).all()
    assert sum(svc.pending_objections(session, p.id) for p in running) == 1  # one objected, waiting
    assert set(session.exec(select(SaleListing.status)).all()) == {"挂牌中", "竞价中", "竞价成交", "协议成交"}
    open_listing = session.exec(select(SaleListing).where(SaleListing.status == "挂牌中")).one()
    assert len(svc.registrations(session, open_listing.id)) == 2
    auctions = session.exec(select(Auction).order_by(Auction.id)).all()
    assert [a.status for a in auctions] == ["竞价中", "已成交"]
    assert all(svc.verify_auction(session, a).ok for a in auctions)
    # registered and unregistered contracts (other demo parts add contracts of their own)
    assert {bool(c.registration_no) for c in session.exec(select(Contract)).all()} == {False, True}
    assert trade_seed.load(session).skipped
    assert trade_seed.demo_uscc(7, public_institution=True)[:8] == "12120000"
