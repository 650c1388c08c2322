"""review loop: 已退回 for listings the reviewer returned; revisions of published listings

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
    op.create_table(
        "listing_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_listing_revisions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_listing_revisions_submitted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_revisions")),
    )
    with op.batch_alter_table("listing_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_listing_revisions_kind_listing_id_status", ["kind", "listing_id", "status"], unique=False
        )
    for table in LISTING_TABLES:
        op.execute(
            sa.text(f"UPDATE {table} SET status = '已退回' WHERE status = '草稿' AND review_note IS NOT NULL")
        )


def downgrade() -> None:
    for table in LISTING_TABLES:
        op.execute(sa.text(f"UPDATE {table} SET status = '草稿' WHERE status = '已退回'"))
    with op.batch_alter_table("listing_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_listing_revisions_kind_listing_id_status")
    op.drop_table("listing_revisions")
