"""team mode: reviewers' passphrase hashes, signed-in sessions, PostgreSQL roles

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviewer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("db_role", sa.String(length=63), nullable=False, server_default="")
        )
    op.create_table(
        "reviewer_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("passphrase_hash", sa.String(length=300), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["reviewer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reviewer_id"),
    )
    op.create_table(
        "review_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["reviewer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_review_session_reviewer_id", "review_session", ["reviewer_id"])


def downgrade() -> None:
    op.drop_index("ix_review_session_reviewer_id", table_name="review_session")
    op.drop_table("review_session")
    op.drop_table("reviewer_secret")
    with op.batch_alter_table("reviewer", schema=None) as batch_op:
        batch_op.drop_column("db_role")
