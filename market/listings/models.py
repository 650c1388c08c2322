"""ResearchResult (科技成果) and TechNeed (企业技术需求), their history, contact reveals and interest."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from market.db import utcnow
from vocab.taxonomy import ListingStatus

_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 2, asdecimal=False)


class ListingBase(SQLModel):
    """Columns shared by results and needs."""

    external_id: str | None = Field(default=None, max_length=64, index=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    title: str = Field(max_length=200)
    field: str | None = Field(default=None, max_length=30, index=True)
    #: the field was guessed from the text on import; the owner should confirm it
    field_inferred: bool = Field(default=False)
    #: the classifier's probability for an inferred field (系统推断), None when a person gave it
    field_confidence: float | None = Field(default=None)
    keywords: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=254)
    status: str = Field(default=ListingStatus.DRAFT, max_length=10, index=True)
    review_note: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    published_at: datetime | None = Field(default=None, sa_type=_TS, index=True)
    #: 有效期至: the owner re-confirms the listing before this day or it is badged 待更新 (freshness)
    valid_until: date | None = Field(default=None, index=True)
    #: when the owner was reminded that `valid_until` is near (once per validity period)
    renewal_reminded_at: datetime | None = Field(default=None, sa_type=_TS)
    #: the freshness stage search was last told of: 0 current, 1 lapsed (待更新), 2 past the grace period
    stale_stage: int = Field(default=0)

    @declared_attr
    def __mapper_args__(cls):  # optimistic locking: a stale UPDATE matches no row
        return {"version_id_col": cls.__table__.c.version}

    @property
    def is_public(self) -> bool:
        return self.status == ListingStatus.PUBLISHED


class ResearchResult(ListingBase, table=True):
    """科技成果: a research result offered for transfer by a university or institute."""

    __tablename__ = "research_results"
    # the showcases and the home page: published, newest first
    __table_args__ = (sa.Index("ix_research_results_showcase", "status", "published_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    summary: str = Field(sa_type=sa.Text)
    problem: str | None = Field(default=None, sa_type=sa.Text)
    advantage: str | None = Field(default=None, sa_type=sa.Text)
    maturity: str | None = Field(default=None, max_length=10)
    trl: int | None = Field(default=None)
    ip_type: str | None = Field(default=None, max_length=20)
    patent_numbers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    transfer_modes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    price_negotiable: bool = Field(default=True)
    price_wan: float | None = Field(default=None, sa_type=_MONEY)
    appraised_wan: float | None = Field(default=None, sa_type=_MONEY)
    inventors: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    rights_note: str | None = Field(default=None, max_length=10)

    kind: ClassVar[str] = "result"
    label: ClassVar[str] = "科技成果"

    @property
    def body(self) -> str:
        return "\n".join(p for p in (self.summary, self.problem, self.advantage) if p)

    @property
    def modes(self) -> list[str]:
        return list(self.transfer_modes or [])


class TechNeed(ListingBase, table=True):
    """企业技术需求: a technology need posted by an enterprise, possibly a 揭榜挂帅 challenge."""

    __tablename__ = "tech_needs"
    __table_args__ = (
        sa.Index("ix_tech_needs_showcase", "status", "published_at", "id"),
        sa.Index("ix_tech_needs_challenges", "status", "is_challenge", "published_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    description: str = Field(sa_type=sa.Text)
    requirements: str | None = Field(default=None, sa_type=sa.Text)
    target_metrics: str | None = Field(default=None, sa_type=sa.Text)
    cooperation_modes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    budget_min_wan: float | None = Field(default=None, sa_type=_MONEY)
    budget_max_wan: float | None = Field(default=None, sa_type=_MONEY)
    deadline: date | None = Field(default=None)
    is_challenge: bool = Field(default=False, index=True)
    reward_wan: float | None = Field(default=None, sa_type=_MONEY)
    eligibility: str | None = Field(default=None, sa_type=sa.Text)
    no_secret_confirmed: bool = Field(default=False)

    kind: ClassVar[str] = "need"
    label: ClassVar[str] = "技术需求"

    @property
    def body(self) -> str:
        return "\n".join(p for p in (self.description, self.requirements, self.target_metrics) if p)

    @property
    def modes(self) -> list[str]:
        return list(self.cooperation_modes or [])


Listing = ResearchResult | TechNeed
KINDS: dict[str, type[ResearchResult] | type[TechNeed]] = {"result": ResearchResult, "need": TechNeed}


class ListingEvent(SQLModel, table=True):
    """One lifecycle transition or edit of a listing: who, when, from, to, why."""

    __tablename__ = "listing_events"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=20)
    from_status: str | None = Field(default=None, max_length=10)
    to_status: str | None = Field(default=None, max_length=10)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.Index("ix_listing_events_kind_listing_id", "kind", "listing_id"),)


class Interest(SQLModel, table=True):
    """“Express interest” in a listing; reaches the agents, who can turn it into a match."""

    __tablename__ = "interests"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    user_id: int = Field(foreign_key="users.id", index=True)
    message: str | None = Field(default=None, max_length=500)
    handled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("kind", "listing_id", "user_id"),)


class ListingRevision(SQLModel, table=True):
    """A material edit of a published listing, waiting for review while the published version stays
    visible: the whole edited content, the changed fields (before → after) for the history, and the
    decision. Rows are never deleted; a newer edit supersedes a pending one (已取代)."""

    __tablename__ = "listing_revisions"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)
    listing_id: int
    #: the edited content as validated (ResultIn / NeedIn, JSON mode)
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)
    #: [[field, label, before, after], …] as shown text
    changes: list = Field(default_factory=list, sa_type=sa.JSON)
    base_version: int
    status: str = Field(default="待审核", max_length=10)
    submitted_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=_TS)
    reason: str | None = Field(default=None, max_length=500)

    __table_args__ = (
        sa.Index("ix_listing_revisions_kind_listing_id_status", "kind", "listing_id", "status"),
    )
