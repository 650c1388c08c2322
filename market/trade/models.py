"""展示交易 tables: 公示 with 异议 and rulings, 挂牌 with 意向受让方, 竞价 with its bid log, and the deal.

Evidence is append-only (objections, rulings, bids, trade events are inserted, never updated or
deleted: `forbid_changes` below refuses it in the ORM); the state of a publicity, listing or auction
is kept on its own row and every change of it is also written as a `TradeEvent`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 2, asdecimal=False)


class PublicityStatus(StrEnum):
    RUNNING = "公示中"
    PASSED = "公示期满无异议"
    ENDED_BY_OBJECTION = "因异议终止"


class ListingSaleStatus(StrEnum):
    OPEN = "挂牌中"
    AGREED = "协议成交"
    BIDDING = "竞价中"
    SOLD = "竞价成交"
    UNSOLD = "未成交"


class AuctionStatus(StrEnum):
    RUNNING = "竞价中"
    SOLD = "已成交"
    UNSOLD = "流拍"


class BuyerStatus(StrEnum):
    PENDING = "待审核"
    QUALIFIED = "已确认"
    REJECTED = "不符合条件"


class Route(StrEnum):
    """The legal pricing route a deal took (《促进科技成果转化法》第十八条)."""

    AGREED_PUBLICITY = "协议定价（公示）"
    LISTED_AGREED = "挂牌交易（协议成交）"
    LISTED_AUCTION = "挂牌交易（竞价）"


SALE_MODES = ("转让", "普通许可", "排他许可", "独占许可", "作价投资")
PRICE_KINDS = ("挂牌价", "保留价")


class Publicity(SQLModel, table=True):
    """公示 of an agreed price (协议定价): the result, price, mode, 拟受让方 and team, for a window."""

    __tablename__ = "publicities"

    id: int | None = Field(default=None, primary_key=True)
    result_id: int = Field(foreign_key="research_results.id", index=True)
    seller_org_id: int = Field(foreign_key="organizations.id", index=True)
    buyer_org_id: int = Field(foreign_key="organizations.id")
    created_by_id: int = Field(foreign_key="users.id")
    title: str = Field(max_length=200)
    price_wan: float = Field(sa_type=_MONEY)
    mode: str = Field(max_length=10)
    team: str = Field(max_length=500)
    note: str | None = Field(default=None, max_length=1000)
    starts_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    ends_at: datetime = Field(sa_type=_TS, index=True)
    status: str = Field(default=PublicityStatus.RUNNING, max_length=10, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=_TS)
    outcome: str | None = Field(default=None, max_length=500)

    __table_args__ = (sa.CheckConstraint("price_wan > 0", name="price_positive"),)


class Objection(SQLModel, table=True):
    """异议 filed against a publicity by a signed-in user, with a reason."""

    __tablename__ = "publicity_objections"

    id: int | None = Field(default=None, primary_key=True)
    publicity_id: int = Field(foreign_key="publicities.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    reason: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class ObjectionRuling(SQLModel, table=True):
    """An administrator's ruling on an objection: upheld (成立, the publicity ends) or dismissed."""

    __tablename__ = "objection_rulings"

    id: int | None = Field(default=None, primary_key=True)
    objection_id: int = Field(foreign_key="publicity_objections.id", unique=True)
    admin_id: int = Field(foreign_key="users.id")
    upheld: bool
    reason: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class SaleListing(SQLModel, table=True):
    """挂牌: a result offered for sale on the platform, with its terms and announcement period."""

    __tablename__ = "sale_listings"

    id: int | None = Field(default=None, primary_key=True)
    result_id: int = Field(foreign_key="research_results.id", index=True)
    seller_org_id: int = Field(foreign_key="organizations.id", index=True)
    created_by_id: int = Field(foreign_key="users.id")
    title: str = Field(max_length=200)
    price_kind: str = Field(max_length=10)
    #: 挂牌价 (the asking price) or 保留价 (the reserve: no sale below it)
    price_wan: float = Field(sa_type=_MONEY)
    #: 起拍价 of a bidding; at most the price (default: the price)
    start_wan: float | None = Field(default=None, sa_type=_MONEY)
    mode: str = Field(max_length=10)
    licence_term: str | None = Field(default=None, max_length=100)
    territory: str | None = Field(default=None, max_length=100)
    qualifications: str = Field(max_length=1000)
    deposit_wan: float = Field(default=0, sa_type=_MONEY)
    deposit_terms: str | None = Field(default=None, max_length=500)
    payment_terms: str | None = Field(default=None, max_length=500)
    #: bidding terms, used when several qualified buyers are registered at the close
    increment_wan: float = Field(sa_type=_MONEY)
    bidding_minutes: int = Field(default=60)
    extend_minutes: int = Field(default=5)
    opens_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    closes_at: datetime = Field(sa_type=_TS, index=True)
    status: str = Field(default=ListingSaleStatus.OPEN, max_length=10, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=_TS)

    __table_args__ = (
        sa.CheckConstraint("price_wan > 0", name="price_positive"),
        sa.CheckConstraint("increment_wan > 0", name="increment_positive"),
        sa.CheckConstraint("deposit_wan >= 0", name="deposit_not_negative"),
    )


class BuyerRegistration(SQLModel, table=True):
    """意向受让方: an organisation's registration on a listing, checked and its deposit confirmed by an
    administrator (the platform records the deposit, it never holds the money)."""

    __tablename__ = "buyer_registrations"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="sale_listings.id", index=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    statement: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    status: str = Field(default=BuyerStatus.PENDING, max_length=10)
    checked_by_id: int | None = Field(default=None, foreign_key="users.id")
    checked_at: datetime | None = Field(default=None, sa_type=_TS)
    check_note: str | None = Field(default=None, max_length=500)
    deposit_ref: str | None = Field(default=None, max_length=100)
    #: 竞买号, given when the registration is qualified: bids are shown and hashed under it, so that
    #: nobody learns who is bidding until the deal is announced (administrators see the names)
    paddle: str | None = Field(default=None, max_length=8)

    __table_args__ = (
        sa.UniqueConstraint("listing_id", "org_id"),
        sa.UniqueConstraint("listing_id", "paddle"),
    )


class Auction(SQLModel, table=True):
    """竞价 among a listing's qualified buyers. `ends_at` moves later on a late bid (soft close);
    `best_price` and `bid_count` are the head of the bid log, updated under the row's lock."""

    __tablename__ = "auctions"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="sale_listings.id", unique=True)
    start_units: int
    increment_units: int
    reserve_units: int
    extend_minutes: int
    starts_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    ends_at: datetime = Field(sa_type=_TS, index=True)
    status: str = Field(default=AuctionStatus.RUNNING, max_length=10, index=True)
    bid_count: int = Field(default=0)
    best_units: int | None = Field(default=None)
    best_org_id: int | None = Field(default=None, foreign_key="organizations.id")
    best_paddle: str | None = Field(default=None, max_length=8)
    head_hash: str = Field(default="0" * 64, max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=_TS)

    __table_args__ = (sa.CheckConstraint("increment_units > 0", name="increment_positive"),)


class Bid(SQLModel, table=True):
    """An accepted bid, an entry of the auction's hash-chained log (see `rules.entry_hash`)."""

    __tablename__ = "bids"

    id: int | None = Field(default=None, primary_key=True)
    auction_id: int = Field(foreign_key="auctions.id")
    seq: int
    bidder_org_id: int = Field(foreign_key="organizations.id")
    bidder_user_id: int = Field(foreign_key="users.id")
    paddle: str | None = Field(default=None, max_length=8)  # None: written before 竞买号 existed
    price_units: int
    at: str = Field(max_length=40)  # the server's clock, ISO 8601 UTC, exactly as hashed
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)

    # one entry per position and per price: two requests that both passed a check cannot both land
    __table_args__ = (
        sa.UniqueConstraint("auction_id", "seq"),
        sa.UniqueConstraint("auction_id", "price_units"),
    )


class TradeDeal(SQLModel, table=True):
    """成交: the result of a pricing route, the basis of the 成交确认书 and of the contract."""

    __tablename__ = "trade_deals"

    id: int | None = Field(default=None, primary_key=True)
    route: str = Field(max_length=20)
    result_id: int = Field(foreign_key="research_results.id", index=True)
    seller_org_id: int = Field(foreign_key="organizations.id", index=True)
    buyer_org_id: int = Field(foreign_key="organizations.id", index=True)
    publicity_id: int | None = Field(default=None, foreign_key="publicities.id", unique=True)
    listing_id: int | None = Field(default=None, foreign_key="sale_listings.id", unique=True)
    auction_id: int | None = Field(default=None, foreign_key="auctions.id")
    title: str = Field(max_length=200)
    mode: str = Field(max_length=10)
    price_wan: float = Field(sa_type=_MONEY)
    #: SHA-256 of the record that priced the deal (the publicity record, or the bid log's head)
    record_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class TradeEvent(SQLModel, table=True):
    """Append-only trail of every step (created, objection, ruling, registration, close, …)."""

    __tablename__ = "trade_events"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=20)  # publicity / listing / auction / deal
    subject_id: int
    action: str = Field(max_length=40)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    note: str | None = Field(default=None, max_length=2000)
    at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.Index("ix_trade_events_subject", "subject", "subject_id", "id"),)


APPEND_ONLY = (Objection, ObjectionRuling, Bid, TradeEvent)


class EvidenceChanged(RuntimeError):
    """An attempt to update or delete an append-only evidence row."""


def _refuse(_mapper, _connection, target) -> None:
    raise EvidenceChanged(f"{type(target).__name__} rows are append-only")


for _model in APPEND_ONLY:  # registered once, at import (warehouse's pattern)
    sa.event.listen(_model, "before_update", _refuse)
    sa.event.listen(_model, "before_delete", _refuse)
