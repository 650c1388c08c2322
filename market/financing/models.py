"""融资需求 (financing requests), their data room, NDA acceptances, views, investor profiles and pipeline."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from market.db import utcnow
from vocab.taxonomy import ListingStatus

_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 2, asdecimal=False)


class FinancingRequest(SQLModel, table=True):
    """融资需求: a project's or company's request for money (not 作价投资, which is a transfer mode)."""

    __tablename__ = "financing_requests"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    title: str = Field(max_length=200)
    #: the public layer: what anyone may read once published
    summary: str = Field(sa_type=sa.Text)
    field: str | None = Field(default=None, max_length=30, index=True)
    amount_wan: float = Field(sa_type=_MONEY)
    instrument: str = Field(max_length=10)
    stage: str = Field(max_length=10, index=True)
    use_of_funds: str | None = Field(default=None, sa_type=sa.Text)
    valuation_basis: str | None = Field(default=None, sa_type=sa.Text)
    team: str | None = Field(default=None, sa_type=sa.Text)
    result_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    #: the click-through NDA an investor accepts before the data room opens
    nda_text: str = Field(sa_type=sa.Text)
    status: str = Field(default=ListingStatus.DRAFT, max_length=10, index=True)
    review_note: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    published_at: datetime | None = Field(default=None, sa_type=_TS)

    @declared_attr
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class FinancingEvent(SQLModel, table=True):
    """One lifecycle step of a financing request: who, when, from, to, why."""

    __tablename__ = "financing_events"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="financing_requests.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=20)
    from_status: str | None = Field(default=None, max_length=10)
    to_status: str | None = Field(default=None, max_length=10)
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class DataRoomFile(SQLModel, table=True):
    """A confidential document (business plan, financials) kept in `market.storage`."""

    __tablename__ = "data_room_files"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="financing_requests.id", index=True)
    name: str = Field(max_length=200)
    category: str = Field(max_length=20)
    storage_key: str = Field(max_length=200)
    mimetype: str = Field(max_length=100)
    size: int
    uploaded_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class NdaAcceptance(SQLModel, table=True):
    """A click-through NDA accepted by an investor's member; append-only evidence."""

    __tablename__ = "nda_acceptances"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="financing_requests.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    organization_id: int = Field(foreign_key="organizations.id")
    #: SHA-256 of the exact NDA text shown and accepted
    text_hash: str = Field(max_length=64)
    ip_address: str | None = Field(default=None, max_length=64)
    accepted_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class DataRoomView(SQLModel, table=True):
    """One opening of the data room or one file download; append-only, shown to the owner."""

    __tablename__ = "data_room_views"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="financing_requests.id", index=True)
    file_id: int | None = Field(default=None, foreign_key="data_room_files.id")
    user_id: int = Field(foreign_key="users.id")
    organization_id: int | None = Field(default=None, foreign_key="organizations.id")
    action: str = Field(max_length=10)  # "view" (the room) or "download" (a file)
    ip_address: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class InvestorProfile(SQLModel, table=True):
    """What a 投资机构 invests in: focus fields, stages, ticket size (万元)."""

    __tablename__ = "investor_profiles"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", unique=True)
    fields: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    stages: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    ticket_min_wan: float | None = Field(default=None, sa_type=_MONEY)
    ticket_max_wan: float | None = Field(default=None, sa_type=_MONEY)
    thesis: str | None = Field(default=None, sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class PipelineEntry(SQLModel, table=True):
    """One investor's state on one financing request (关注 → 尽调 → 投资意向 → 已投资 / 放弃)."""

    __tablename__ = "pipeline_entries"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="financing_requests.id", index=True)
    investor_org_id: int = Field(foreign_key="organizations.id", index=True)
    state: str = Field(max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("request_id", "investor_org_id"),)


class PipelineStep(SQLModel, table=True):
    """One move or note on a pipeline entry, with the date it happened."""

    __tablename__ = "pipeline_steps"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="pipeline_entries.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    from_state: str | None = Field(default=None, max_length=10)
    to_state: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, sa_type=sa.Text)
    on_date: date = Field(default_factory=date.today)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
