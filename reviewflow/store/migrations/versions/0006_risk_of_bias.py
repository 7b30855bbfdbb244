"""risk of bias: reviewers' answers to assessment tools, and the consensus answers

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rob_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["reviewer.id"]),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "reviewer_id", "tool", "item"),
    )
    with op.batch_alter_table("rob_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rob_answer_reviewer_id"), ["reviewer_id"])
        batch_op.create_index(batch_op.f("ix_rob_answer_study_id"), ["study_id"])
    op.create_table(
        "rob_consensus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "tool", "item"),
    )
    with op.batch_alter_table("rob_consensus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rob_consensus_study_id"), ["study_id"])


def downgrade() -> None:
    with op.batch_alter_table("rob_consensus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rob_consensus_study_id"))
    op.drop_table("rob_consensus")
    with op.batch_alter_table("rob_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rob_answer_study_id"))
        batch_op.drop_index(batch_op.f("ix_rob_answer_reviewer_id"))
    op.drop_table("rob_answer")
