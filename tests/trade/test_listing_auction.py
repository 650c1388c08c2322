"""挂牌 → 协议成交 or 竞价; bids on the grid from qualified buyers; soft close; the worker's close."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest

import market.db as market_db
from market.accounts.models import Organization
from market.db import utcnow
from market.errors import DomainError, NotAllowed
from market.trade import closing, rules
from market.trade import service as svc
from market.trade.models import Auction, Bid, EvidenceChanged, TradeDeal
from tests.factories import login
from tests.trade.conftest import make_listing, open_auction, qualify


def test_licence_needs_term_and_territory_and_start_not_above_reserve(session, trade):
    with pytest.raises(DomainError) as exc:
        svc.create_listing(
            session,
            actor=trade["seller"],
            result_id=trade["result"].id,
            price_kind="挂牌价",
            price_wan="100",
            mode="排他许可",
            qualifications="企业",
            increment_wan="1",
        )
    assert exc.value.errors[0][0] == "licence_term"
    with pytest.raises(DomainError) as exc:
        make_listing(session, trade, start="120")
    assert exc.value.errors[0][0] == "start_wan"


def test_registration_rules(session, trade):
    listing = make_listing(session, trade)
    with pytest.raises(DomainError):
        svc.register_buyer(session, actor=trade["seller"], listing=listing, statement="自己登记自己的项目")
    reg = svc.register_buyer(
        session, actor=trade["buyers"][0], listing=listing, statement="满足条件，保证金已汇"
    )
    with pytest.raises(DomainError):
        svc.register_buyer(session, actor=trade["buyers"][0], listing=listing, statement="再登记一次试试")
    with pytest.raises(DomainError) as exc:  # a deposit is required: the admin must record its receipt
        svc.check_buyer(session, actor=trade["admin"], registration=reg, qualified=True)
    assert exc.value.errors[0][0] == "deposit_ref"
    with pytest.raises(NotAllowed):
        svc.check_buyer(session, actor=trade["seller"], registration=reg, qualified=True, deposit_ref="X")
    svc.check_buyer(session, actor=trade["admin"], registration=reg, qualified=True, deposit_ref="DEP-1")
    assert reg.status == "已确认"


def test_one_qualified_buyer_agrees_at_the_listed_price(session, trade):
    listing = make_listing(session, trade)
    qualify(session, trade, listing, trade["buyers"][:1])
    reg = svc.register_buyer(
        session, actor=trade["buyers"][1], listing=listing, statement="还没确认保证金的一家"
    )
    assert reg.status == "待审核"
    assert closing.close_listing(session, listing.id, now=utcnow()) is None  # not yet due
    assert closing.close_listing(session, listing.id, now=svc.aware(listing.closes_at)) == "协议成交"
    deal = session.exec(svc.select(TradeDeal).where(TradeDeal.listing_id == listing.id)).one()
    assert deal.buyer_org_id == trade["buyers"][0].organization_id and deal.price_wan == 100
    assert deal.route == "挂牌交易（协议成交）"


def test_no_qualified_buyer_is_unsold(session, trade):
    listing = make_listing(session, trade)
    assert closing.close_listing(session, listing.id, now=svc.aware(listing.closes_at)) == "未成交"


def test_bids_follow_the_grid_and_only_qualified_buyers_bid(session, trade):
    _listing, auction = open_auction(session, trade, start="80", price="100", increment="5")
    a, b, c = trade["buyers"]
    with pytest.raises(NotAllowed):
        svc.place_bid(session, actor=c, auction_id=auction.id, price_wan="80")
    with pytest.raises(svc.BidRefused) as exc:
        svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="82")
    assert "整数倍" in exc.value.message
    first = svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="80")  # k = 0: the start price
    assert first.seq == 1 and first.prev_hash == "0" * 64
    with pytest.raises(svc.BidRefused) as exc:
        svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="80")
    body = exc.value.as_json()
    assert body["auction"]["best_wan"] == 80 and body["auction"]["minimum_wan"] == 85
    second = svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="95")
    assert second.prev_hash == first.hash and auction.best_units == 9500
    assert svc.verify_auction(session, auction).ok


def test_soft_close_extends_and_the_server_clock_decides(session, trade):
    _listing, auction = open_auction(session, trade, extend=5)
    a, b = trade["buyers"][:2]
    ends = svc.aware(auction.ends_at)
    svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="100", now=ends - timedelta(minutes=20))
    assert svc.aware(auction.ends_at) == ends  # early: no extension
    late = ends - timedelta(minutes=1)
    svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="105", now=late)
    assert svc.aware(auction.ends_at) == late + timedelta(minutes=5)
    with pytest.raises(svc.BidRefused) as exc:
        svc.place_bid(
            session, actor=a, auction_id=auction.id, price_wan="110", now=late + timedelta(minutes=5)
        )
    assert "竞价已结束" in exc.value.message


def test_close_sells_to_the_highest_bid_and_not_below_the_reserve(app, session, trade):
    _listing, auction = open_auction(session, trade, start="50", price="100", increment="10")
    a, b = trade["buyers"][:2]
    svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="50")
    svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="90")
    assert closing.close_auction(session, auction.id, now=svc.aware(auction.ends_at)) == "流拍"  # 90 < 100
    listing2_trade = dict(trade)
    _listing2, auction2 = open_auction(session, listing2_trade, start="50", price="100", increment="10")
    svc.place_bid(session, actor=a, auction_id=auction2.id, price_wan="100")
    svc.place_bid(session, actor=b, auction_id=auction2.id, price_wan="120")
    session.commit()
    with app.app_context():
        line = closing.run_due(app, now=svc.aware(auction2.ends_at) + timedelta(seconds=1))
    assert f"竞价 #{auction2.id} 已成交" in line
    session.expire_all()
    deal = session.exec(svc.select(TradeDeal).where(TradeDeal.auction_id == auction2.id)).one()
    assert deal.buyer_org_id == b.organization_id and deal.price_wan == 120
    assert deal.record_hash == session.get(Auction, auction2.id).head_hash


def test_bids_are_append_only_and_tampering_is_found_by_verify(app, session, trade):
    _listing, auction = open_auction(session, trade)
    a, b = trade["buyers"][:2]
    for i, user in enumerate([a, b, a, b]):
        svc.place_bid(session, actor=user, auction_id=auction.id, price_wan=str(100 + 5 * i))
    session.commit()
    bid = session.exec(svc.select(Bid).where(Bid.auction_id == auction.id, Bid.seq == 3)).one()
    bid.price_units = 99_999
    with pytest.raises(EvidenceChanged):
        session.flush()
    session.rollback()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["trade", "verify", str(auction.id)])
    assert ok.exit_code == 0 and "校验通过：4 条" in ok.output
    # tamper below the ORM, as someone with database access would
    session.execute(
        svc.sa.text("UPDATE bids SET price_units = 11200 WHERE auction_id = :a AND seq = 3"),
        {"a": auction.id},
    )
    session.commit()
    bad = runner.invoke(args=["trade", "verify", str(auction.id)])
    assert bad.exit_code == 1 and "第 3 条" in bad.output
    body = app.test_client().get(f"/api/v1/auctions/{auction.id}/log").json
    assert body["verification"] == {
        "ok": False,
        "entries": 4,
        "broken_at": 3,
        "reason": body["verification"]["reason"],
    }
    assert runner.invoke(args=["trade", "verify", "999999"]).exit_code != 0


def test_bid_pages_and_json(app, session, trade):
    _listing, auction = open_auction(session, trade)
    session.commit()
    a, b = trade["buyers"][:2]
    ca, cb = app.test_client(), app.test_client()
    login(ca, a)
    login(cb, b)
    page = ca.get(f"/trade/auctions/{auction.id}").get_data(as_text=True)
    assert 'id="bid-form"' in page and "服务器时间" in page
    r = ca.post(
        f"/trade/auctions/{auction.id}/bids",
        data={"price_wan": "100"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 201 and r.json["seq"] == 1
    r = cb.post(
        f"/trade/auctions/{auction.id}/bids",
        data={"price_wan": "100"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 409
    assert (
        r.json["error"] == "bid_refused"
        and r.json["auction"]["best_wan"] == 100
        and r.json["auction"]["minimum_wan"] == 105
    )
    assert "105" in r.json["message"]
    for huge in ("1e30", "100000000000.5"):
        r = cb.post(
            f"/trade/auctions/{auction.id}/bids",
            data={"price_wan": huge},
            headers={"Accept": "application/json"},
        )
        assert r.status_code == 409 and "上限" in r.json["message"]
    r = cb.post(f"/trade/auctions/{auction.id}/bids", data={"price_wan": "abc"})  # the form, without script
    assert r.status_code == 409 and "请填写出价（万元，数字）" in r.get_data(as_text=True)
    r = cb.post(f"/trade/auctions/{auction.id}/bids", data={"price_wan": "110"})
    assert r.status_code == 302 and "出价成功：110 万元" in cb.get(r.headers["Location"]).get_data(
        as_text=True
    )
    state = app.test_client().get(f"/api/v1/auctions/{auction.id}").json
    assert state["bids"] == 2 and [b["price_wan"] for b in state["recent"]] == [110, 100]
    assert app.test_client().get("/api/v1/auctions/999999").status_code == 404


def test_listing_pages_register_and_check(app, session, trade):
    listing = make_listing(session, trade)
    session.commit()
    c = app.test_client()
    login(c, trade["buyers"][0])
    assert "登记为意向受让方" in c.get(f"/trade/listings/{listing.id}").get_data(as_text=True)
    c.post(f"/trade/listings/{listing.id}/register", data={"statement": "我司具备量产能力，保证金已汇出"})
    assert "待审核" in c.get(f"/trade/listings/{listing.id}").get_data(as_text=True)
    admin = app.test_client()
    login(admin, trade["admin"])
    reg = svc.registrations(session, listing.id)[0][0]
    r = admin.post(
        f"/trade/registrations/{reg.id}/check", data={"decision": "qualify", "deposit_ref": "DEP-9"}
    )
    assert r.status_code == 302
    assert "已确认" in c.get(f"/trade/listings/{listing.id}").get_data(as_text=True)


def test_the_unique_price_constraint_backs_up_the_lock(session, trade):
    """Were two bids at one price ever to pass the check (a lock not taken), the database refuses the
    second, and the bidder is told the auction's state instead of a 500."""
    _listing, auction = open_auction(session, trade)
    a, b = trade["buyers"][:2]
    svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="100")
    session.commit()
    # a row at 105 that the auction's head does not know about, as a racing writer would leave it
    session.add(
        Bid(
            auction_id=auction.id,
            seq=99,
            bidder_org_id=a.organization_id,
            bidder_user_id=a.id,
            price_units=10500,
            at="2026-12-01T00:00:00+00:00",
            prev_hash="0" * 64,
            hash="f" * 64,
        )
    )
    session.commit()
    with pytest.raises(svc.BidRefused) as exc:
        svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="105")
    assert exc.value.status == 409 and exc.value.as_json()["auction"]["best_wan"] == 100
    assert session.get(Auction, auction.id).bid_count == 1  # nothing of the refused bid remains


def test_bidders_are_shown_and_hashed_by_paddle_number_until_the_deal(app, session, trade):
    """竞买号: while bidding, nobody but an administrator learns who bids (not other buyers, not the
    seller, not a visitor); the public log names paddles, and it still verifies from what it shows."""
    listing, auction = open_auction(session, trade)
    a, b = trade["buyers"][:2]
    regs = session.exec(
        svc.select(svc.BuyerRegistration).where(svc.BuyerRegistration.listing_id == listing.id)
    ).all()
    paddles = {r.org_id: r.paddle for r in regs}
    assert all(p and len(p) == 4 and p.isdigit() for p in paddles.values())
    assert len(set(paddles.values())) == 2
    svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="100")
    svc.place_bid(session, actor=b, auction_id=auction.id, price_wan="105")
    session.commit()
    name_a, name_b = (session.get(Organization, u.organization_id).name for u in (a, b))
    viewers = {"visitor": app.test_client(), "seller": app.test_client(), "a": app.test_client()}
    login(viewers["seller"], trade["seller"])
    login(viewers["a"], a)
    for who, client in viewers.items():
        page = client.get(f"/trade/auctions/{auction.id}").get_data(as_text=True)
        state = client.get(f"/api/v1/auctions/{auction.id}").get_data(as_text=True)
        log = client.get(f"/api/v1/auctions/{auction.id}/log").get_data(as_text=True)
        for text in (page, state, log):
            assert name_b not in text, who
            assert who == "a" or name_a not in text, who
        assert f"竞买号 {paddles[b.organization_id]}" in page, who
    # the bidder is told its own paddle and sees its bid marked
    page_a = viewers["a"].get(f"/trade/auctions/{auction.id}").get_data(as_text=True)
    assert f'您的竞买号：<strong id="my-paddle">{paddles[a.organization_id]}</strong>' in page_a
    assert f"竞买号 {paddles[a.organization_id]}（我）" in page_a and "您的出价已被超越" in page_a
    # the administrator sees who is behind each paddle
    admin = app.test_client()
    login(admin, trade["admin"])
    state = admin.get(f"/api/v1/auctions/{auction.id}").json
    assert state["best_bidder"] == f"竞买号 {paddles[b.organization_id]}（{name_b}）"
    # the public log verifies from its own entries: the hash covers the paddle, not the organisation
    body = app.test_client().get(f"/api/v1/auctions/{auction.id}/log").json
    assert body["verification"]["ok"]
    for entry in body["entries"]:
        assert "bidder_org_id" not in entry
        canonical = {k: entry[k] for k in ("seq", "auction_id", "paddle", "price", "at", "prev_hash")}
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode()).hexdigest() == entry["hash"]


def test_a_log_from_before_paddle_numbers_still_verifies(session, trade):
    """Entries written before 竞买号 hash the organisation's id; they verify as they were written."""
    _listing, auction = open_auction(session, trade)
    a = trade["buyers"][0]
    svc.place_bid(session, actor=a, auction_id=auction.id, price_wan="100")
    session.flush()
    bid = session.exec(svc.select(Bid).where(Bid.auction_id == auction.id)).one()
    legacy = rules.chain_next(
        None, auction_id=auction.id, bidder_org_id=a.organization_id, price=10000, at=bid.at
    )
    session.execute(
        svc.sa.text("UPDATE bids SET paddle = NULL, hash = :h WHERE id = :i"), {"h": legacy.hash, "i": bid.id}
    )
    session.execute(
        svc.sa.text("UPDATE auctions SET head_hash = :h WHERE id = :i"), {"h": legacy.hash, "i": auction.id}
    )
    session.commit()
    session.expire_all()
    assert svc.verify_auction(session, session.get(svc.Auction, auction.id)).ok
    entry = svc.log_json(session, session.get(svc.Auction, auction.id))["entries"][0]
    assert entry["bidder_org_id"] == a.organization_id and "paddle" not in entry


def test_a_refused_bid_takes_no_write_lock_and_an_accepted_one_takes_it_once(
    app, session, trade, monkeypatch
):
    """Under contention most bids are refused: from the request's read, without queueing for the write
    lock (on SQLite, the whole database's); the accepted one opens one writing session, for its write."""
    _listing, auction = open_auction(session, trade)
    session.commit()
    client = app.test_client()
    login(client, trade["buyers"][0])
    url, json = f"/trade/auctions/{auction.id}/bids", {"Accept": "application/json"}
    opened: list[bool] = []
    real = market_db.open_session

    def recording(*, write: bool):
        opened.append(write)
        return real(write=write)

    monkeypatch.setattr(market_db, "open_session", recording)
    assert client.post(url, data={"price_wan": "100"}, headers=json).status_code == 201
    assert opened == [False, True]  # the request's read, then the bid's own write transaction
    opened.clear()
    assert client.post(url, data={"price_wan": "100"}, headers=json).status_code == 409
    assert opened == [False]


def test_a_bid_reads_the_auction_and_the_bidders_registration_in_one_statement(
    app, session, trade, query_recorder
):
    """A bid request's statements: the signed-in user, then the auction with the bidder's qualified
    registration joined (one round trip, not two); an accepted bid reads them again under the lock,
    once more in one statement, before its update and insert."""
    _listing, auction = open_auction(session, trade)
    session.commit()
    client = app.test_client()
    login(client, trade["buyers"][0])
    url, json = f"/trade/auctions/{auction.id}/bids", {"Accept": "application/json"}

    def work(statements: list[str]) -> list[str]:
        words = [s.split(None, 1)[0].upper() for s in statements]
        return [w for w in words if w in ("SELECT", "INSERT", "UPDATE", "DELETE")]

    with query_recorder.record():
        assert client.post(url, data={"price_wan": "100"}, headers=json).status_code == 201
    assert work(query_recorder.statements) == ["SELECT", "SELECT", "SELECT", "UPDATE", "INSERT"]
    joined = [
        s for s in query_recorder.statements if "FROM auctions LEFT OUTER JOIN buyer_registrations" in s
    ]
    assert len(joined) == 2, query_recorder.statements  # the precheck's read, then the locked one
    with query_recorder.record():
        assert client.post(url, data={"price_wan": "100"}, headers=json).status_code == 409
    assert work(query_recorder.statements) == ["SELECT", "SELECT"], query_recorder.statements
