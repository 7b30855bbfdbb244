"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 16:20:26.766112
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_record_id"), ["record_id"], unique=False)

    op.create_table(
        "record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("abstract", sa.Text(), server_default="", nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("journal", sa.Text(), server_default="", nullable=False),
        sa.Column("journal_abbrev", sa.String(length=200), nullable=False),
        sa.Column("volume", sa.String(length=50), nullable=False),
        sa.Column("issue", sa.String(length=50), nullable=False),
        sa.Column("pages", sa.String(length=100), nullable=False),
        sa.Column("doi", sa.String(length=300), nullable=False),
        sa.Column("pmid", sa.String(length=20), nullable=False),
        sa.Column("pmcid", sa.String(length=20), nullable=False),
        sa.Column("issn", sa.String(length=20), nullable=False),
        sa.Column("language", sa.JSON(), nullable=False),
        sa.Column("publication_types", sa.JSON(), nullable=False),
        sa.Column("mesh_terms", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("vernacular_title", sa.Text(), server_default="", nullable=False),
        sa.Column("comments_corrections", sa.JSON(), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), server_default="", nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_doi"), ["doi"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_pmid"), ["pmid"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_year"), ["year"], unique=False)

    op.create_table(
        "reviewer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reviewer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviewer_name"), ["name"], unique=True)

    op.create_table(
        "search_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("query_name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), server_default="", nullable=False),
        sa.Column("translation", sa.Text(), server_default="", nullable=False),
        sa.Column("date_from", sa.String(length=20), nullable=False),
        sa.Column("date_to", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("records_added", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("search_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_run_source"), ["source"], unique=False)

    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label"),
    )
    op.create_table(
        "consensus_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["study.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "field"),
    )
    with op.batch_alter_table("consensus_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consensus_value_study_id"), ["study_id"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "reviewer_id", "stage"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_record_id"), ["record_id"], unique=False)
        batch_op.create_index(
            "ix_decision_reviewer_stage", ["reviewer_id", "stage", "record_id"], unique=False
        )

    op.create_table(
        "duplicate_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_a_id", sa.Integer(), nullable=False),
        sa.Column("record_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_a_id"],
            ["record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_b_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_a_id", "record_b_id"),
    )
    with op.batch_alter_table("duplicate_candidate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duplicate_candidate_record_a_id"), ["record_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_duplicate_candidate_record_b_id"), ["record_b_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_duplicate_candidate_status"), ["status"], unique=False)

    op.create_table(
        "duplicate_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("kept_record_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["kept_record_id"],
            ["record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duplicate_link", schema=None) as batch_op:
        batch_op.create_index("ix_duplicate_link_active", ["record_id", "undone_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_duplicate_link_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_duplicate_link_kept_record_id"), ["kept_record_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_duplicate_link_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "extraction_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), server_default="", nullable=False),
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
        sa.UniqueConstraint("study_id", "reviewer_id", "field"),
    )
    with op.batch_alter_table("extraction_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extraction_value_reviewer_id"), ["reviewer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_extraction_value_study_id"), ["study_id"], unique=False
        )

    op.create_table(
        "fulltext_retrieval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("location", sa.Text(), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    op.create_table(
        "prescreen_removal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reason_kind", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    op.create_table(
        "record_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["search_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "record_id"),
    )
    with op.batch_alter_table("record_source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_source_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_source_run_id"), ["run_id"], unique=False)

    op.create_table(
        "resolution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("resolved_by", sa.String(length=200), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "stage"),
    )
    with op.batch_alter_table("resolution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resolution_record_id"), ["record_id"], unique=False)

    op.create_table(
        "search_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("pmid", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["search_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "pmid"),
    )
    with op.batch_alter_table("search_hit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_hit_run_id"), ["run_id"], unique=False)

    op.create_table(
        "study_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["study.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("study_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_report_study_id"), ["study_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("study_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_report_study_id"))

    op.drop_table("study_report")
    with op.batch_alter_table("search_hit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_hit_run_id"))

    op.drop_table("search_hit")
    with op.batch_alter_table("resolution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resolution_record_id"))

    op.drop_table("resolution")
    with op.batch_alter_table("record_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_source_run_id"))
        batch_op.drop_index(batch_op.f("ix_record_source_record_id"))

    op.drop_table("record_source")
    op.drop_table("prescreen_removal")
    op.drop_table("fulltext_retrieval")
    with op.batch_alter_table("extraction_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extraction_value_study_id"))
        batch_op.drop_index(batch_op.f("ix_extraction_value_reviewer_id"))

    op.drop_table("extraction_value")
    with op.batch_alter_table("duplicate_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_link_record_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_link_kept_record_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_link_group_id"))
        batch_op.drop_index("ix_duplicate_link_active")

    op.drop_table("duplicate_link")
    with op.batch_alter_table("duplicate_candidate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duplicate_candidate_status"))
        batch_op.drop_index(batch_op.f("ix_duplicate_candidate_record_b_id"))
        batch_op.drop_index(batch_op.f("ix_duplicate_candidate_record_a_id"))

    op.drop_table("duplicate_candidate")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_reviewer_stage")
        batch_op.drop_index(batch_op.f("ix_decision_record_id"))

    op.drop_table("decision")
    with op.batch_alter_table("consensus_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consensus_value_study_id"))

    op.drop_table("consensus_value")
    op.drop_table("study")
    with op.batch_alter_table("search_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_run_source"))

    op.drop_table("search_run")
    with op.batch_alter_table("reviewer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_name"))

    op.drop_table("reviewer")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_year"))
        batch_op.drop_index(batch_op.f("ix_record_pmid"))
        batch_op.drop_index(batch_op.f("ix_record_doi"))

    op.drop_table("record")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_record_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
