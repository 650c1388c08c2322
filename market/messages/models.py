"""A message on a match (append-only), each user's read mark, and a side's report to the platform."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class Message(SQLModel, table=True):
    """One message between the two introduced sides of a match, with at most one attached file."""

    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_match_id_id", "match_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id")
    sender_id: int = Field(foreign_key="users.id")
    sender_org_id: int = Field(foreign_key="organizations.id")
    body: str = Field(sa_type=sa.Text)
    file_key: str | None = Field(default=None, max_length=255)
    file_name: str | None = Field(default=None, max_length=200)
    file_mimetype: str | None = Field(default=None, max_length=100)
    file_size: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class MessageRead(SQLModel, table=True):
    """How far a user has read a match's thread (the newest message id seen)."""

    __tablename__ = "message_reads"

    match_id: int = Field(foreign_key="matches.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    last_read_id: int = Field(default=0)


class ThreadReport(SQLModel, table=True):
    """A side reported the thread (骚扰、违规…): from then on administrators may read it."""

    __tablename__ = "thread_reports"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id", index=True)
    reporter_id: int = Field(foreign_key="users.id")
    reason: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
