"""Match (one per result–need pair) and its step history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from market.db import utcnow
from vocab.taxonomy import MatchStatus

_TS = sa.DateTime(timezone=True)


class Match(SQLModel, table=True):
    """A recommended pairing of one published result with one published need."""

    __tablename__ = "matches"

    id: int | None = Field(default=None, primary_key=True)
    result_id: int = Field(foreign_key="research_results.id", index=True)
    need_id: int = Field(foreign_key="tech_needs.id", index=True)
    score: float = Field(default=0.0, index=True)
    #: component -> value in [0, 1]; with "weights" and "terms" in `reasons`
    reasons: dict = Field(default_factory=dict, sa_type=sa.JSON)
    status: str = Field(default=MatchStatus.SUGGESTED, max_length=10, index=True)
    #: where the pair came from: matcher, interest (a user's “express interest”), agent
    origin: str = Field(default="matcher", max_length=20)
    #: the matcher no longer recommends this pair (kept because someone acted on it)
    stale: bool = Field(default=False)
    agent_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    introduced_by_id: int | None = Field(default=None, foreign_key="users.id")
    introduced_at: datetime | None = Field(default=None, sa_type=_TS)
    decline_reason: str | None = Field(default=None, max_length=20)
    #: a side expressed interest: agents see the match first
    raised_at: datetime | None = Field(default=None, sa_type=_TS)
    result_feedback: str | None = Field(default=None, max_length=60)
    need_feedback: str | None = Field(default=None, max_length=60)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    version: int = Field(default=1)

    __table_args__ = (sa.UniqueConstraint("result_id", "need_id"),)

    @declared_attr
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class MatchEvent(SQLModel, table=True):
    """One step of a match: status change, note, feedback — who and when."""

    __tablename__ = "match_events"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=20)
    from_status: str | None = Field(default=None, max_length=10)
    to_status: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
