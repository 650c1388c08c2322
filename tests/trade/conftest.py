"""Trading fixtures: a seller with a published result, buyers of verified organisations, an admin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from market.db import utcnow
from market.listings.models import ResearchResult
from market.trade import closing
from market.trade import service as svc
from tests.factories import make_org, make_user

# A valid 统一社会信用代码 pair (check characters computed per GB 32100-2015) and Tianjin districts.
SELLER_USCC = "121200004013593211"
BUYER_USCC = "91120116MA05JXXX1G"


@pytest.fixture
def trade(session):
    """Seller (university) with a published result, three verified buyer enterprises, an admin."""
    uni = make_org(session, name="天津测试大学", kind="高校")
    seller = make_user(session, role="university", org=uni)
    buyers = [
        make_user(
            session, role="enterprise", org=make_org(session, name=f"津门测试科技{i}有限公司", kind="企业")
        )
        for i in range(3)
    ]
    admin = make_user(session, role="admin")
    result = ResearchResult(
        organization_id=uni.id,
        title="宽温域锂离子电池电解液",
        summary="一种可在零下四十度工作的锂离子电池电解液配方。",
        status="已发布",
        published_at=utcnow(),
    )
    session.add(result)
    session.commit()
    return {"seller": seller, "buyers": buyers, "admin": admin, "result": result, "uni": uni}


def make_listing(
    session, trade, *, deposit="10", price="100", increment="5", start=None, minutes=30, extend=5
):
    return svc.create_listing(
        session,
        actor=trade["seller"],
        result_id=trade["result"].id,
        price_kind="保留价",
        price_wan=price,
        start_wan=start,
        mode="独占许可",
        licence_term="5 年",
        territory="中国大陆",
        qualifications="注册在京津冀的企业，具备锂电池量产能力",
        deposit_wan=deposit,
        increment_wan=increment,
        bidding_minutes=minutes,
        extend_minutes=extend,
        days=10,
    )


def qualify(session, trade, listing, buyers):
    for user in buyers:
        reg = svc.register_buyer(
            session, actor=user, listing=listing, statement="我司满足资格条件，保证金已汇出"
        )
        svc.check_buyer(
            session, actor=trade["admin"], registration=reg, qualified=True, deposit_ref=f"DEP-{user.id}"
        )
    session.flush()


def open_auction(session, trade, *, n=2, **kw):
    """A listing with `n` qualified buyers, closed (its period moved into the past) into an auction."""
    listing = make_listing(session, trade, **kw)
    qualify(session, trade, listing, trade["buyers"][:n])
    status = closing.close_listing(
        session, listing.id, now=svc.aware(listing.closes_at) + timedelta(seconds=1)
    )
    assert status == "竞价中"
    auction = session.exec(svc.select(svc.Auction).where(svc.Auction.listing_id == listing.id)).one()
    # bidding starts now (the listing's close was simulated in the future)
    auction.starts_at, auction.ends_at = utcnow(), utcnow() + timedelta(minutes=kw.get("minutes", 30))
    session.add(auction)
    session.flush()
    return listing, auction
