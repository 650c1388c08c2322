"""Events (路演, 对接会): registrations, pitch applications with reviewers' scores, 1:1 meeting requests."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class Event(SQLModel, table=True):
    """An event: organiser, time, place or online link, capacity, registration window, 1:1 grid."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    organizer_org_id: int | None = Field(default=None, foreign_key="organizations.id")
    created_by_id: int = Field(foreign_key="users.id")
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    starts_at: datetime = Field(sa_type=_TS)
    ends_at: datetime = Field(sa_type=_TS)
    place: str | None = Field(default=None, max_length=200)
    online_url: str | None = Field(default=None, max_length=500)
    capacity: int = Field(default=100)
    registration_opens: datetime = Field(sa_type=_TS)
    registration_closes: datetime = Field(sa_type=_TS)
    published: bool = Field(default=True)
    #: the pitch track: first pitch, then fixed slots of pitch + questions
    pitch_starts_at: datetime | None = Field(default=None, sa_type=_TS)
    pitch_minutes: int = Field(default=8)
    qa_minutes: int = Field(default=7)
    criteria: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    #: the 1:1 grid: session start times (ISO), slots per session, minutes per slot, tables
    session_starts: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    slots_per_session: int = Field(default=6)
    slot_minutes: int = Field(default=20)
    tables: int = Field(default=10)
    #: "" (not scheduled), "初步" (preliminary) or "最终" (final)
    agenda: str = Field(default="", max_length=10)
    agenda_note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class Registration(SQLModel, table=True):
    """Someone registered for an event; visible to other participants once the organiser admits them."""

    __tablename__ = "event_registrations"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id")
    status: str = Field(default="待审核", max_length=10)
    #: the 1:1 sessions (indices) the participant attends; empty: all of them
    sessions: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    #: what they present (a published result or need), for turning an 意向 into a match
    listing_kind: str | None = Field(default=None, max_length=10)
    listing_id: int | None = Field(default=None)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("event_id", "user_id"),)


class EventReviewer(SQLModel, table=True):
    __tablename__ = "event_reviewers"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    user_id: int = Field(foreign_key="users.id")

    __table_args__ = (sa.UniqueConstraint("event_id", "user_id"),)


class PitchApplication(SQLModel, table=True):
    """A project applying to pitch, with a result or a financing request."""

    __tablename__ = "pitch_applications"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    organization_id: int | None = Field(default=None, foreign_key="organizations.id")
    title: str = Field(max_length=200)
    result_id: int | None = Field(default=None, foreign_key="research_results.id")
    financing_id: int | None = Field(default=None, foreign_key="financing_requests.id")
    status: str = Field(default="待评审", max_length=10)
    slot_starts_at: datetime | None = Field(default=None, sa_type=_TS)
    feedback: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class PitchScore(SQLModel, table=True):
    """One reviewer's scores (1–5 per criterion), veto and comment on one application."""

    __tablename__ = "pitch_scores"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="pitch_applications.id", index=True)
    reviewer_id: int = Field(foreign_key="users.id")
    scores: dict = Field(default_factory=dict, sa_type=sa.JSON)
    veto: bool = Field(default=False)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("application_id", "reviewer_id"),)


class MeetingRequest(SQLModel, table=True):
    """A 1:1 meeting request; accepted ones are scheduled into slot × table; every meeting gets an outcome."""

    __tablename__ = "meeting_requests"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    from_user_id: int = Field(foreign_key="users.id", index=True)
    to_user_id: int = Field(foreign_key="users.id", index=True)
    reason: str = Field(max_length=500)
    status: str = Field(default="待回复", max_length=10)
    responded_at: datetime | None = Field(default=None, sa_type=_TS)
    #: scheduled place: slot index over all sessions, table number (1-based)
    slot: int | None = Field(default=None)
    table: int | None = Field(default=None)
    locked: bool = Field(default=False)
    outcome: str | None = Field(default=None, max_length=10)
    outcome_note: str | None = Field(default=None, max_length=500)
    outcome_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("event_id", "from_user_id", "to_user_id"),)
