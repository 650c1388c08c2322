"""An image of a listing (the re-encoded picture and its two thumbnails, with the alt text) and a PDF
attached to a listing (with its title)."""

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


class ListingFile(SQLModel, table=True):
    """附件: one of at most LISTING_FILES_MAX PDF files of a listing (a key under listing-files/), with the
    title shown in the list (required, like an image's alt text) and an optional description."""

    __tablename__ = "listing_files"
    __table_args__ = (sa.Index("ix_listing_files_kind_listing_id", "kind", "listing_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    position: int = Field(default=0)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=300)
    name: str = Field(max_length=200)  # the download's file name (the upload's name, never a path)
    size: int
    pages: int
    key: str = Field(max_length=255)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
