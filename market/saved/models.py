"""Favourites (收藏), follows (关注机构), saved searches (订阅搜索) and the listings each one found."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class Frequency(StrEnum):
    """How often a saved search's new listings are mailed (the in-site notification is always sent)."""

    DAILY = "每日"
    WEEKLY = "每周"
    NONE = "不发邮件"


class Favourite(SQLModel, table=True):
    """收藏: a user saved a listing. Its owners see how many did, never who."""

    __tablename__ = "favourites"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "kind", "listing_id"),
        sa.Index("ix_favourites_kind_listing_id", "kind", "listing_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=10)
    listing_id: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class Follow(SQLModel, table=True):
    """关注: a user follows an organisation."""

    __tablename__ = "follows"
    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    #: the newest publication of the organisation the follower was told about
    seen_until: datetime | None = Field(default=None, sa_type=_TS)


class SavedSearch(SQLModel, table=True):
    """订阅搜索: a query with its facets; new matching listings are notified and mailed in a digest."""

    __tablename__ = "saved_searches"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=100)
    #: the search page's parameters (q, kind, field, maturity, modes, region, challenge, price_min…)
    params: dict = Field(default_factory=dict, sa_type=sa.JSON)
    frequency: str = Field(default=Frequency.DAILY, max_length=10)
    active: bool = Field(default=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    last_mailed_at: datetime | None = Field(default=None, sa_type=_TS)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=_TS)


class SavedSearchHit(SQLModel, table=True):
    """A listing a saved search found after it was saved: notified once, mailed once in a digest."""

    __tablename__ = "saved_search_hits"
    __table_args__ = (sa.UniqueConstraint("saved_search_id", "kind", "listing_id"),)

    id: int | None = Field(default=None, primary_key=True)
    saved_search_id: int = Field(foreign_key="saved_searches.id", index=True)
    kind: str = Field(max_length=10)
    listing_id: int
    title: str = Field(max_length=200)
    found_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    mailed_at: datetime | None = Field(default=None, sa_type=_TS)
