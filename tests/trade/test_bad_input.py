"""Odd values in every trading form are answered with a reason, never a 500."""

from __future__ import annotations

import pytest

from market.trade import service as svc
from tests.factories import login
from tests.trade.conftest import open_auction
from tests.trade.test_registration_documents import sold_deal

ODD = [
    "",
    " ",
    "abc",
    "1e30",
    "-5",
    "NaN",
    "inf",
    "１２０",
    "0.001",
    "99999999999999999999",
    "\x00",
    "1" * 300,
]


@pytest.mark.parametrize("value", ODD)
def test_forms_refuse_odd_values_without_500(app, session, trade, value):
    _listing, auction = open_auction(session, trade)
    deal = sold_deal(session, trade)
    session.commit()
    seller, buyer = app.test_client(), app.test_client()
    login(seller, trade["seller"])
    login(buyer, trade["buyers"][0])
    result = str(trade["result"].id)
    posts = [
        (
            seller,
            "/trade/publicity/new",
            {
                "result_id": value,
                "price_wan": value,
                "mode": value,
                "buyer_name": value,
                "team": value,
                "days": value,
            },
        ),
        (
            seller,
            "/trade/publicity/new",
            {
                "result_id": result,
                "price_wan": value,
                "mode": "转让",
                "buyer_name": "津门测试科技0有限公司",
                "team": "团队",
                "days": "15",
            },
        ),
        (
            seller,
            "/trade/listings/new",
            {
                "result_id": result,
                "price_kind": "保留价",
                "price_wan": value,
                "start_wan": value,
                "increment_wan": value,
                "mode": "转让",
                "qualifications": "企业",
                "deposit_wan": value,
                "days": value,
                "bidding_minutes": value,
                "extend_minutes": value,
            },
        ),
        (buyer, f"/trade/auctions/{auction.id}/bids", {"price_wan": value}),
        (
            seller,
            f"/trade/deals/{deal.id}/contract",
            {
                "contract_type": value,
                "amount_wan": value,
                "non_tech_cost_wan": value,
                "signed_on": value,
                "seller_uscc": value,
                "buyer_uscc": value,
                "seller_region_code": value,
                "buyer_region_code": value,
                "instalments": f"{value} 2026-01-01\n{value}",
            },
        ),
    ]
    for client, url, data in posts:
        r = client.post(url, data=data)
        assert r.status_code < 500, (url, value, r.status_code)
    # only a real price on the grid became a bid (full-width digits are digits: 120 万元)
    assert [b.price_units for b in svc.bid_log(session, auction.id)] == ([12000] if value == "１２０" else [])
