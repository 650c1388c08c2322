"""OutboxEntry (one pending change) and WorkerState (what each background worker last reported)."""

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
    #: due from then on; a relay that takes the entry moves it past its lease, so a relay that dies
    #: mid-batch leaves it due again once the lease runs out (and its restart frees it at once)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=_TS, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    #: the worker holding the entry's lease, while it works on it
    claimed_by: str | None = Field(default=None, max_length=40)
    processed_at: datetime | None = Field(default=None, sa_type=_TS, index=True)


class WorkerState(SQLModel, table=True):
    """A background worker's heartbeat and counters (the admin page and `flask outbox status`)."""

    __tablename__ = "worker_states"

    name: str = Field(primary_key=True, max_length=40)
    pid: int = Field(default=0)
    host: str = Field(default="", max_length=100)
    started_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    beat_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    #: running, stopped (a clean exit) — a running worker whose beat is old has died
    state: str = Field(default="running", max_length=10)
    processed: int = Field(default=0)
    failed: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    #: what the worker is doing now (draining, a job's name, idle)
    doing: str = Field(default="", max_length=60)
