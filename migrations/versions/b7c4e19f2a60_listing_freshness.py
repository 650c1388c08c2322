"""listing freshness: valid-until day, renewal reminder, the stage search was told of (有效期)

Revision ID: b7c4e19f2a60
Revises: 9c127909fe57
Create Date: 2026-12-03 16:10:00

Backfill: a published listing is valid for 12 months from its publication, but never less than
45 days from the upgrade (a reminder 30 days before, then 15 days to re-confirm): an old listing is
not badged 待更新 and dropped from search the moment the feature arrives, without its owner having
been asked first. Drafts and withdrawn listings get a period when they are (re-)published.
"""

import calendar
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "b7c4e19f2a60"
down_revision: str | None = "9c127909fe57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("research_results", "tech_needs")
VALID_MONTHS = 12
MIN_DAYS_LEFT = 45


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
            batch_op.add_column(sa.Column("renewal_reminded_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("stale_stage", sa.Integer(), nullable=False, server_default="0"))
            batch_op.create_index(batch_op.f(f"ix_{table}_valid_until"), ["valid_until"], unique=False)
    bind = op.get_bind()
    floor = datetime.now(UTC).date() + timedelta(days=MIN_DAYS_LEFT)
    for table in TABLES:
        t = sa.table(
            table,
            sa.column("id", sa.Integer),
            sa.column("published_at", sa.DateTime(timezone=True)),
            sa.column("valid_until", sa.Date),
        )
        rows = bind.execute(sa.select(t.c.id, t.c.published_at).where(t.c.published_at.is_not(None))).all()
        for listing_id, published_at in rows:
            if isinstance(published_at, str):  # SQLite without type processing
                published_at = datetime.fromisoformat(published_at)
            valid = max(_add_months(published_at.date(), VALID_MONTHS), floor)
            bind.execute(sa.update(t).where(t.c.id == listing_id).values(valid_until=valid))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_valid_until"))
            batch_op.drop_column("stale_stage")
            batch_op.drop_column("renewal_reminded_at")
            batch_op.drop_column("valid_until")
