"""Notification: a message to one user, read or unread."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    message: str = Field(max_length=500)
    link: str | None = Field(default=None, max_length=300)
    read_at: datetime | None = Field(default=None, sa_type=_TS)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)
