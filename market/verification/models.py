"""A request to verify an organisation: the code and certificate a member gave, and the decision."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

PENDING = "待审核"
APPROVED = "已通过"
REFUSED = "未通过"
STATUSES = (PENDING, APPROVED, REFUSED)
#: the certificates an organisation may show: enterprises have a 营业执照, public institutions
#: (universities, institutes) a 事业单位法人证书
DOCUMENT_KINDS = ("营业执照", "事业单位法人证书")


class OrgVerification(SQLModel, table=True):
    """One application; the member's part is never changed, the decision is written once."""

    __tablename__ = "org_verifications"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    submitted_by_id: int = Field(foreign_key="users.id")
    credit_code: str = Field(max_length=18, index=True)
    document_kind: str = Field(max_length=20)
    document_key: str = Field(max_length=200)
    document_mimetype: str = Field(max_length=40)
    document_name: str = Field(max_length=200)
    document_bytes: int
    status: str = Field(default=PENDING, max_length=10, index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
