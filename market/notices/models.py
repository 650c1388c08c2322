"""公告 / 政策: notices and policy summaries published by the platform, with attached files."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class Notice(SQLModel, table=True):
    """A notice (公告) or policy summary (政策解读): Markdown body, 草稿 → 已发布 ⇄ 已撤回."""

    __tablename__ = "notices"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="公告", max_length=10)
    title: str = Field(max_length=120)
    body_md: str = Field(sa_type=sa.Text)
    #: the date the issuing office put on the document (发文日期), optional
    issued_on: date | None = Field(default=None)
    status: str = Field(default="草稿", max_length=10, index=True)
    published_at: datetime | None = Field(default=None, sa_type=_TS, index=True)
    withdrawn_at: datetime | None = Field(default=None, sa_type=_TS)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class NoticeAttachment(SQLModel, table=True):
    """A file attached to a notice, kept by `market.storage` under notices/."""

    __tablename__ = "notice_attachments"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notices.id", index=True)
    key: str = Field(max_length=255)
    name: str = Field(max_length=200)
    mimetype: str = Field(max_length=100)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
