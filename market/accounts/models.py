"""Organisation (机构) and User models."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow
from vocab.taxonomy import Role


def new_nonce() -> str:
    """A fresh session nonce; changing it invalidates every session cookie of the user."""
    return secrets.token_urlsafe(16)


class Organization(SQLModel, table=True):
    """机构: a university, institute, R&D institution, enterprise or technology-transfer agency."""

    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=20)
    region: str = Field(max_length=10, default="天津")
    district: str | None = Field(default=None, max_length=20)
    verified: bool = Field(default=False)
    verified_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    #: 统一社会信用代码, kept when the platform verifies the organisation (market/verification)
    credit_code: str | None = Field(default=None, max_length=18, index=True)
    growth_tier: str | None = Field(default=None, max_length=10)
    high_tech: bool = Field(default=False)
    agency_type: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("name"),)


class User(SQLModel, table=True):
    """A person who signs in; belongs to one organisation unless an admin."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    display_name: str = Field(max_length=60)
    role: str = Field(max_length=20)
    organization_id: int | None = Field(default=None, foreign_key="organizations.id", index=True)
    #: asked to join an existing organisation; a member only once an admin approves
    pending_organization_id: int | None = Field(default=None, foreign_key="organizations.id", index=True)
    password_hash: str = Field(max_length=255)
    session_nonce: str = Field(default_factory=new_nonce, max_length=40)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    last_login_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("email"),)

    # flask-login protocol, written out so the session id carries the nonce.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_nonce}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT


class ApiToken(SQLModel, table=True):
    """A personal API token for partner platforms; only its SHA-256 is stored (shown once on creation)."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=60)
    token_hash: str = Field(max_length=64)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("token_hash"),)
