"""OutgoingMail: one message waiting for (or done with) the SMTP server."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class OutgoingMail(SQLModel, table=True):
    """Written with the change that causes it; the worker sends it and marks it sent (or backs off)."""

    __tablename__ = "outgoing_mail"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=_TS, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=_TS, index=True)
    last_error: str | None = Field(default=None, max_length=300)
