"""An image of a listing: the re-encoded picture and its two thumbnails, with the alt text."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class ListingImage(SQLModel, table=True):
    """图片: one of at most 6 pictures of a listing (keys under listing-images/ in the storage)."""

    __tablename__ = "listing_images"
    __table_args__ = (sa.Index("ix_listing_images_kind_listing_id", "kind", "listing_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    position: int = Field(default=0)
    alt: str = Field(max_length=120)
    mimetype: str = Field(max_length=20)
    width: int
    height: int
    size: int
    key: str = Field(max_length=255)
    thumb_small_key: str = Field(max_length=255)
    thumb_medium_key: str = Field(max_length=255)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
