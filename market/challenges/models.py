"""揭榜 applications, the questions asked about them, and the record of a challenge's closing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class ApplicationStatus(StrEnum):
    SUBMITTED = "已揭榜"
    SHORTLISTED = "入围"
    CHOSEN = "中榜"
    UNSUCCESSFUL = "未中榜"


class Phase(StrEnum):
    """Where a challenge stands (张榜 → 揭榜 → 评审 → 签约)."""

    OPEN = "张榜中"
    REVIEW = "评审中"
    DECIDED = "已揭榜"
    UNFILLED = "未揭榜"


class ChallengeApplication(SQLModel, table=True):
    """我要揭榜: a verified university or institute team's application to a 揭榜挂帅 need."""

    __tablename__ = "challenge_applications"
    __table_args__ = (sa.UniqueConstraint("need_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="tech_needs.id", index=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    created_by_id: int = Field(foreign_key="users.id")
    plan: str = Field(sa_type=sa.Text)
    team: str = Field(sa_type=sa.Text)
    milestones: str = Field(sa_type=sa.Text)
    #: ids of the team's own published results offered as evidence
    result_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    status: str = Field(default=ApplicationStatus.SUBMITTED, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    decided_at: datetime | None = Field(default=None, sa_type=_TS)


class ChallengeQuestion(SQLModel, table=True):
    """A question from the owner or an agent about an application, or the team's answer (append-only)."""

    __tablename__ = "challenge_questions"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="challenge_applications.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    body: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class ChallengeClosing(SQLModel, table=True):
    """A challenge's end: closed at its deadline by the worker (or early by a decision), then decided."""

    __tablename__ = "challenge_closings"

    need_id: int = Field(foreign_key="tech_needs.id", primary_key=True)
    closed_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    decided_at: datetime | None = Field(default=None, sa_type=_TS)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    outcome: str | None = Field(default=None, max_length=500)
