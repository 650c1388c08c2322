"""review loop: 已退回 for listings the reviewer returned

Revision ID: 5e1f0a7c2b90
Revises: 04baed91a410
Create Date: 2026-12-03 16:05:00

Listings returned before this revision read 草稿 with the reviewer's note kept in review_note (a
return is the only step that writes it; approval clears it): those become 已退回.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a7c2b90"
down_revision: str | None = "04baed91a410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTING_TABLES = ("research_results", "tech_needs")


def upgrade() -> None:
    for table in LISTING_TABLES:
        op.execute(
            sa.text(f"UPDATE {table} SET status = '已退回' WHERE status = '草稿' AND review_note IS NOT NULL")
        )


def downgrade() -> None:
    for table in LISTING_TABLES:
        op.execute(sa.text(f"UPDATE {table} SET status = '草稿' WHERE status = '已退回'"))
