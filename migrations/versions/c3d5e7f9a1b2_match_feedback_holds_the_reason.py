"""match feedback holds "not_interested:<reason>" (longer than 20 characters on PostgreSQL)

Revision ID: c3d5e7f9a1b2
Revises: b7c4e19f2a60
Create Date: 2026-12-03 18:21:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d5e7f9a1b2"
down_revision: str | None = "b7c4e19f2a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        for column in ("result_feedback", "need_feedback"):
            batch_op.alter_column(column, existing_type=sa.String(length=20), type_=sa.String(length=60))


def downgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        for column in ("result_feedback", "need_feedback"):
            batch_op.alter_column(column, existing_type=sa.String(length=60), type_=sa.String(length=20))
