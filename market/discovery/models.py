"""One visitor's view of a listing on one day (deduplicated: a visitor counts once a day)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class ListingView(SQLModel, table=True):
    __tablename__ = "listing_views"
    __table_args__ = (sa.UniqueConstraint("kind", "listing_id", "day", "visitor"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    day: date
    #: a hash of the signed-in user's id, or of the address and browser of an anonymous visitor
    visitor: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
