"""GRADE certainty: the review team's rating of each domain of each outcome

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grade_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outcome", "domain"),
    )
    with op.batch_alter_table("grade_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grade_rating_outcome"), ["outcome"])


def downgrade() -> None:
    with op.batch_alter_table("grade_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_rating_outcome"))
    op.drop_table("grade_rating")
