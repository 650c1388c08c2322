"""OutboxEntry: one pending notification that a listing changed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class OutboxEntry(SQLModel, table=True):
    """Written in the same transaction as the listing change; drained by the relay."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=_TS, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    #: an asynchronous engine's task for this change (Meilisearch); done when the task succeeded
    task_uid: int | None = Field(default=None)
    processed_at: datetime | None = Field(default=None, sa_type=_TS, index=True)
