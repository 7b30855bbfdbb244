"""extraction status: a reviewer marks a study's extraction finished (discrepancies compare finished extractions)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 17:04:46.985892
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "extraction_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["study.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "reviewer_id"),
    )
    with op.batch_alter_table("extraction_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extraction_status_reviewer_id"), ["reviewer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_extraction_status_study_id"), ["study_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("extraction_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extraction_status_study_id"))
        batch_op.drop_index(batch_op.f("ix_extraction_status_reviewer_id"))

    op.drop_table("extraction_status")
