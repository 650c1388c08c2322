"""Contract (技术合同) recorded when a match is signed."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from market.db import utcnow

_TS = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(14, 2, asdecimal=False)


class Contract(SQLModel, table=True):
    """A technology contract: type, 合同金额 and 技术交易额 (万元), signing date, parties and agent."""

    __tablename__ = "contracts"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id")
    result_id: int = Field(foreign_key="research_results.id", index=True)
    need_id: int = Field(foreign_key="tech_needs.id", index=True)
    seller_org_id: int = Field(foreign_key="organizations.id", index=True)
    buyer_org_id: int = Field(foreign_key="organizations.id", index=True)
    #: the agent credited with the deal (the one who introduced the two sides)
    agent_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    contract_type: str = Field(max_length=20)
    amount_wan: float = Field(sa_type=_MONEY)
    tech_amount_wan: float = Field(sa_type=_MONEY)
    signed_on: date = Field(index=True)
    title: str | None = Field(default=None, max_length=200)
    pdf_path: str | None = Field(default=None, max_length=255)
    pdf_name: str | None = Field(default=None, max_length=200)
    pdf_size: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=_TS)

    __table_args__ = (
        sa.UniqueConstraint("match_id"),
        sa.CheckConstraint("tech_amount_wan <= amount_wan", name="tech_amount_within_amount"),
        sa.CheckConstraint("tech_amount_wan >= 0", name="tech_amount_not_negative"),
    )
