"""The record of contact reveals."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class ContactReveal(SQLModel, table=True):
    """A record that a user was shown a listing's protected contact details."""

    __tablename__ = "contact_reveals"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    viewer_id: int = Field(foreign_key="users.id", index=True)
    basis: str = Field(max_length=20)  # role / owner / match
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
