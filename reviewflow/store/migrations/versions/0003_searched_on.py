"""searched_on: the day the database behind an imported file was searched (PRISMA-S item 13)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("searched_on", sa.String(length=10), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("search_run", schema=None) as batch_op:
        batch_op.drop_column("searched_on")
