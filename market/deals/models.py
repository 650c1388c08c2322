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
    #: the match that led to it (a contract from a trade deal has none)
    match_id: int | None = Field(default=None, foreign_key="matches.id")
    result_id: int = Field(foreign_key="research_results.id", index=True)
    need_id: int | None = Field(default=None, foreign_key="tech_needs.id", index=True)
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
    # 技术合同认定登记: the parties' identifiers, the non-technical costs, the office's number and date
    deal_id: int | None = Field(default=None, foreign_key="trade_deals.id")
    non_tech_cost_wan: float | None = Field(default=None, sa_type=_MONEY)
    seller_uscc: str | None = Field(default=None, max_length=18)
    buyer_uscc: str | None = Field(default=None, max_length=18)
    seller_region_code: str | None = Field(default=None, max_length=6)
    buyer_region_code: str | None = Field(default=None, max_length=6)
    registration_no: str | None = Field(default=None, max_length=40)
    registered_on: date | None = Field(default=None, index=True)

    @property
    def is_registered(self) -> bool:
        return bool(self.registration_no)

    __table_args__ = (
        sa.UniqueConstraint("match_id"),
        sa.UniqueConstraint("deal_id"),
        sa.UniqueConstraint("registration_no"),
        sa.CheckConstraint(
            "non_tech_cost_wan IS NULL OR non_tech_cost_wan <= amount_wan", name="costs_within_amount"
        ),
        sa.CheckConstraint("tech_amount_wan <= amount_wan", name="tech_amount_within_amount"),
        sa.CheckConstraint("tech_amount_wan >= 0", name="tech_amount_not_negative"),
    )


class ContractInstalment(SQLModel, table=True):
    """A payment instalment of a contract: amount and due date, and when it was received (收款)."""

    __tablename__ = "contract_instalments"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contracts.id", index=True)
    seq: int
    amount_wan: float = Field(sa_type=_MONEY)
    due_on: date
    paid_on: date | None = Field(default=None)
    paid_recorded_by_id: int | None = Field(default=None, foreign_key="users.id")

    __table_args__ = (
        sa.UniqueConstraint("contract_id", "seq"),
        sa.CheckConstraint("amount_wan > 0", name="amount_positive"),
    )
