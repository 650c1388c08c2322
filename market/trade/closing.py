"""Closing at the set time, by the background worker (never on a page visit): publicity windows,
挂牌 announcement periods and auctions. Each item closes in a short write transaction of its own,
re-checked under its row lock with the server's clock, so a bid and the close cannot both win."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlmodel import Session, select

from market import links
from market.db import new_session, utcnow
from market.notifications.service import members_of, notify
from market.trade import rules
from market.trade import service as svc
from market.trade.models import (
    Auction,
    AuctionStatus,
    ListingSaleStatus,
    Publicity,
    PublicityStatus,
    Route,
    SaleListing,
    TradeDeal,
)


def _make_deal(session: Session, *, now: datetime, **fields) -> TradeDeal:
    deal = TradeDeal(created_at=now, **fields)
    session.add(deal)
    session.flush()
    svc.log(session, "deal", deal.id, "成交", note=f"{deal.route}，{deal.price_wan:g} 万元", at=now)
    for org_id in (deal.seller_org_id, deal.buyer_org_id):
        notify(
            session,
            user_ids=members_of(session, org_id),
            message=f"成交：{deal.title}（{deal.route}，{deal.price_wan:g} 万元），"
            "请下载成交确认书并签订技术合同",
            link=links.deal(deal.id),
        )
    return deal


def close_publicity(session: Session, publicity_id: int, *, now: datetime | None = None) -> bool:
    """End a publicity whose window has passed with no objection pending: 公示期满无异议 → a deal."""
    pub = session.exec(
        select(Publicity)
        .where(Publicity.id == publicity_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    now = now or utcnow()
    if pub is None or pub.status != PublicityStatus.RUNNING or svc.aware(pub.ends_at) > now:
        return False
    if svc.pending_objections(session, pub.id):
        return False  # waits for the administrator's ruling
    pub.status, pub.closed_at, pub.outcome = PublicityStatus.PASSED, now, PublicityStatus.PASSED.value
    session.add(pub)
    svc.log(session, "publicity", pub.id, PublicityStatus.PASSED, at=now)
    session.flush()
    _make_deal(
        session,
        now=now,
        route=Route.AGREED_PUBLICITY,
        result_id=pub.result_id,
        seller_org_id=pub.seller_org_id,
        buyer_org_id=pub.buyer_org_id,
        publicity_id=pub.id,
        title=pub.title,
        mode=pub.mode,
        price_wan=pub.price_wan,
        record_hash=svc.record_hash(svc.publicity_record(session, pub)),
    )
    return True


def close_listing(session: Session, listing_id: int, *, now: datetime | None = None) -> str | None:
    """End a listing's announcement period: one qualified buyer → 协议成交 at the listed price; several →
    竞价; none → 未成交."""
    listing = session.exec(
        select(SaleListing)
        .where(SaleListing.id == listing_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    now = now or utcnow()
    if listing is None or listing.status != ListingSaleStatus.OPEN or svc.aware(listing.closes_at) > now:
        return None
    buyers = svc.qualified_orgs(session, listing.id)
    listing.closed_at = now
    if not buyers:
        listing.status = ListingSaleStatus.UNSOLD
        svc.log(session, "listing", listing.id, "公告期满，无合格意向受让方，未成交", at=now)
    elif len(buyers) == 1:
        listing.status = ListingSaleStatus.AGREED
        svc.log(session, "listing", listing.id, "公告期满，一家合格意向受让方，协议成交", at=now)
        session.add(listing)
        session.flush()
        _make_deal(
            session,
            now=now,
            route=Route.LISTED_AGREED,
            result_id=listing.result_id,
            seller_org_id=listing.seller_org_id,
            buyer_org_id=buyers[0],
            listing_id=listing.id,
            title=listing.title,
            mode=listing.mode,
            price_wan=listing.price_wan,
            record_hash=svc.record_hash(listing_record(session, listing)),
        )
    else:
        listing.status = ListingSaleStatus.BIDDING
        svc.log(session, "listing", listing.id, f"公告期满，{len(buyers)} 家合格意向受让方，进入竞价", at=now)
        session.add(listing)
        auction = svc.start_auction(session, listing=listing, now=now)
        for org_id in buyers:
            notify(
                session,
                user_ids=members_of(session, org_id),
                message=f"“{listing.title}”进入网络竞价，截止 {svc._iso(auction.ends_at)}（可能因延时顺延）",
                link=links.auction(auction.id),
            )
    session.add(listing)
    session.flush()
    return listing.status


def close_auction(session: Session, auction_id: int, *, now: datetime | None = None) -> str | None:
    """End an auction at its (possibly extended) close: the highest bid at or above the reserve wins."""
    auction = svc.locked_auction(session, auction_id)
    now = now or utcnow()
    if auction is None or auction.status != AuctionStatus.RUNNING or svc.aware(auction.ends_at) > now:
        return None
    listing = session.get(SaleListing, auction.listing_id)
    check = svc.verify_auction(session, auction)
    winner = rules.winning_bid(
        [svc.as_record(b) for b in svc.bid_log(session, auction.id)], reserve=auction.reserve_units
    )
    auction.closed_at = now
    if winner is None:
        auction.status, listing.status = AuctionStatus.UNSOLD, ListingSaleStatus.UNSOLD
        reason = "无人出价" if not auction.bid_count else "最高出价未达保留价"
        svc.log(session, "auction", auction.id, f"竞价结束，流拍（{reason}）", at=now)
    else:
        auction.status, listing.status = AuctionStatus.SOLD, ListingSaleStatus.SOLD
        svc.log(
            session,
            "auction",
            auction.id,
            "竞价结束，成交",
            at=now,
            note=f"第 {winner.seq} 次出价 {rules.fmt_wan(winner.price)} 万元；"
            + ("日志校验通过" if check.ok else f"日志校验失败：{check.reason}"),
        )
    session.add_all([auction, listing])
    session.flush()
    buyers = svc.qualified_orgs(session, listing.id)
    if winner is not None:
        _make_deal(
            session,
            now=now,
            route=Route.LISTED_AUCTION,
            result_id=listing.result_id,
            seller_org_id=listing.seller_org_id,
            buyer_org_id=winner.bidder_org_id,
            listing_id=listing.id,
            auction_id=auction.id,
            title=listing.title,
            mode=listing.mode,
            price_wan=rules.from_units(winner.price),
            record_hash=auction.head_hash,
        )
    for org_id in [listing.seller_org_id, *buyers]:
        if winner is not None and org_id in (winner.bidder_org_id, listing.seller_org_id):
            continue  # told by the deal's own notice
        notify(
            session,
            user_ids=members_of(session, org_id),
            message=f"竞价“{listing.title}”已结束：{auction.status}",
            link=links.auction(auction.id),
        )
    return auction.status


def listing_record(session: Session, listing: SaleListing) -> dict:
    """The 挂牌 announcement and its registrations as evidence."""
    return {
        "挂牌编号": listing.id,
        "成果名称": listing.title,
        "科技成果编号": listing.result_id,
        "价格类型": listing.price_kind,
        "价格（万元）": listing.price_wan,
        "起拍价（万元）": listing.start_wan,
        "转化方式": listing.mode,
        "许可期限": listing.licence_term,
        "许可地域": listing.territory,
        "受让方资格条件": listing.qualifications,
        "保证金（万元）": listing.deposit_wan,
        "保证金条款": listing.deposit_terms,
        "付款条件": listing.payment_terms,
        "加价幅度（万元）": listing.increment_wan,
        "竞价时长（分钟）": listing.bidding_minutes,
        "延时周期（分钟）": listing.extend_minutes,
        "公告开始": svc._iso(listing.opens_at),
        "公告截止": svc._iso(listing.closes_at),
        "状态": listing.status,
        "意向受让方": [
            {
                "机构": org.name,
                "登记时间": svc._iso(reg.created_at),
                "资格说明": reg.statement,
                "审核结果": reg.status,
                "保证金凭证": reg.deposit_ref,
                "审核时间": svc._iso(reg.checked_at),
                "审核说明": reg.check_note,
            }
            for reg, org in svc.registrations(session, listing.id)
        ],
        "过程记录": [svc._event_json(e) for e in svc.events(session, "listing", listing.id)],
    }


def _due(session: Session, model, column, status, now: datetime) -> list[int]:
    return list(
        session.exec(select(model.id).where(model.status == status, column <= now).order_by(model.id)).all()
    )


def run_due(app: Flask, *, now: datetime | None = None) -> str | None:
    """The worker's job: close what is due. Looks first in a read transaction, so an idle tick never
    takes the write lock; then closes each item in a write transaction of its own."""
    given, now = now, now or utcnow()
    with new_session(write=False) as read:
        due_pubs = _due(read, Publicity, Publicity.ends_at, PublicityStatus.RUNNING, now)
        due_listings = _due(read, SaleListing, SaleListing.closes_at, ListingSaleStatus.OPEN, now)
        due_auctions = _due(read, Auction, Auction.ends_at, AuctionStatus.RUNNING, now)
    done: list[str] = []
    for ids, close, label in (
        (due_auctions, close_auction, "竞价"),
        (due_pubs, close_publicity, "公示"),
        (due_listings, close_listing, "挂牌"),
    ):
        for item_id in ids:
            with new_session(write=True) as session:
                outcome = close(session, item_id, now=given)
                session.commit()
            if outcome:
                done.append(f"{label} #{item_id}" + (f" {outcome}" if isinstance(outcome, str) else ""))
    return "已结束 " + "、".join(done) if done else None
