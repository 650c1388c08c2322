"""listing field confidence: how sure the classifier was of a field it inferred (系统推断)

Revision ID: a15f1e1d0c0f
Revises: be0a159cf28c
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a15f1e1d0c0f"
down_revision: str | None = "be0a159cf28c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("research_results", "tech_needs")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("field_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("field_confidence")
