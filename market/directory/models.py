"""Directory profiles: what an agency (技术转移机构) and a broker (技术经纪人) say about themselves, the
broker's certificates as an administrator checked them, and requests to take on a listing.

Track-record figures are not stored anywhere: they are counted from matches and contracts on each read
(`market.directory.track`), so nobody can edit them.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)


class AgencyProfile(SQLModel, table=True):
    """技术转移机构 profile: region (GB/T 2260), services offered, introduction, a contact kept protected."""

    __tablename__ = "agency_profiles"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    region_code: str | None = Field(default=None, max_length=6, index=True)
    intro: str | None = Field(default=None, sa_type=sa.Text)
    services: str | None = Field(default=None, sa_type=sa.Text)
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=254)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("organization_id"),)


class BrokerProfile(SQLModel, table=True):
    """技术经纪人 profile: region (GB/T 2260), a title and an introduction. No figures: see `track`."""

    __tablename__ = "broker_profiles"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    region_code: str | None = Field(default=None, max_length=6, index=True)
    title: str | None = Field(default=None, max_length=60)
    intro: str | None = Field(default=None, sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (sa.UniqueConstraint("user_id"),)


class ProfileField(SQLModel, table=True):
    """One technical field (second level, or a whole first level) of an agency or a broker profile; a
    row per field so the directory filters with a plain join on either database."""

    __tablename__ = "profile_fields"

    owner_kind: str = Field(max_length=10, primary_key=True)  # "agency" (organisation id) or "broker"
    owner_id: int = Field(primary_key=True)
    field: str = Field(max_length=30, primary_key=True)


class BrokerCertificate(SQLModel, table=True):
    """A broker's qualification (技术经纪人 / 技术经理人 certificate), shown once an administrator
    checked it."""

    __tablename__ = "broker_certificates"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=60)
    number: str = Field(max_length=60)
    issuer: str = Field(max_length=100)
    issued_on: date | None = Field(default=None)
    #: 待核验 → 已核验 / 未通过
    status: str = Field(default="待核验", max_length=10)
    checked_by_id: int | None = Field(default=None, foreign_key="users.id")
    checked_at: datetime | None = Field(default=None, sa_type=_TS)
    check_note: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)


class BrokerRequest(SQLModel, table=True):
    """请经纪人: a listing's owner asks an agency (any of its brokers) or one broker to take the
    listing on."""

    __tablename__ = "broker_requests"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # "result" or "need"
    listing_id: int = Field(index=True)
    sender_id: int = Field(foreign_key="users.id", index=True)
    sender_org_id: int = Field(foreign_key="organizations.id")
    agency_id: int = Field(foreign_key="organizations.id", index=True)
    #: None: any broker of the agency may take it
    broker_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    note: str = Field(sa_type=sa.Text)
    #: 待处理 → 已接受 / 已婉拒 / 已撤回
    status: str = Field(default="待处理", max_length=10, index=True)
    responder_id: int | None = Field(default=None, foreign_key="users.id")
    responded_at: datetime | None = Field(default=None, sa_type=_TS)
    decline_reason: str | None = Field(default=None, max_length=20)
    response_note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)
