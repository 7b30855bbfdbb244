"""PostgreSQL team mode: a database role per reviewer and row-level security, so that a reviewer
connected with their own role cannot read another reviewer's decisions or extraction values,
even with psql.

- Every reviewer's role belongs to the group ``<db>_team``; the adjudicators' also to
  ``<db>_leads``. The team may read the review's tables (never ``reviewer_secret`` or
  ``review_session``) and write their own screening and extraction rows; leads may also write
  resolutions, consensus values and studies. Imports, dedup and migrations stay with the owner
  (the account that ran ``reviewflow init``).
- Row-level security on ``decision``, ``extraction_value``, ``extraction_status``,
  ``rob_answer`` and ``audit_log``: a row is visible and writable only to the reviewer it
  belongs to (the role named in ``reviewer.db_role``) or to a lead. ``resolution``, ``consensus_value``,
  ``rob_consensus`` and ``grade_rating`` are read by all, written by leads.
- The full-text queue needs the title/abstract outcome, which depends on every reviewer's
  decisions: ``reviewflow_sought(required)``, a SECURITY DEFINER function, returns only the
  record ids included at title/abstract (the rule of :mod:`reviewflow.screening.flow`; a test
  keeps the two the same), never a decision.
- Passwords are generated here, shown once, and sent to the server only as a SCRAM-SHA-256
  verifier, so the password itself never reaches the server or its logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import text

from reviewflow.errors import DatabaseError
from reviewflow.store.engine import Store
from reviewflow.workspace import ReviewConfig

OWN_ROWS = {  # table → the expression naming the reviewer the row belongs to
    "decision": "reviewer_id = (SELECT id FROM reviewer WHERE db_role = current_user)",
    "extraction_value": "reviewer_id = (SELECT id FROM reviewer WHERE db_role = current_user)",
    "extraction_status": "reviewer_id = (SELECT id FROM reviewer WHERE db_role = current_user)",
    "rob_answer": "reviewer_id = (SELECT id FROM reviewer WHERE db_role = current_user)",
    "audit_log": "actor = (SELECT name FROM reviewer WHERE db_role = current_user)",
}
LEAD_WRITES = ("resolution", "consensus_value", "rob_consensus", "grade_rating")
TEAM_WRITES = (
    "decision", "extraction_value", "extraction_status", "fulltext_retrieval", "rob_answer"
)  # fmt: skip
LEAD_ONLY_TABLES = ("study", "study_report")  # leads write; all read
SECRET_TABLES = ("reviewer_secret", "review_session")

SOUGHT_FUNCTION = """
CREATE OR REPLACE FUNCTION reviewflow_sought(required integer) RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT r.id FROM record r
  WHERE r.id NOT IN (SELECT record_id FROM duplicate_link WHERE undone_at IS NULL
                     UNION SELECT record_id FROM prescreen_removal)
    AND COALESCE(
      (SELECT s.decision = 'include' FROM resolution s
        WHERE s.record_id = r.id AND s.stage = 'title-abstract'),
      (SELECT count(*) >= required AND bool_and(d.decision = 'include') FROM decision d
        WHERE d.record_id = r.id AND d.stage = 'title-abstract'))
  ORDER BY r.id
$$"""


@dataclass(frozen=True)
class TeamRole:
    reviewer: str
    role: str
    db_role: str
    password: str  # "" when the role existed and kept its password


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def role_name(database: str, reviewer: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", reviewer.casefold()).strip("_") or "reviewer"
    return f"{database}_{slug}"[:63]


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
        f"{b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def policy_sql(database: str) -> list[str]:
    """The grants, policies and function (idempotent), for a database whose roles exist."""
    team, leads = _ident(f"{database}_team"), _ident(f"{database}_leads")
    lead = f"pg_has_role(current_user, {_literal(database + '_leads')}, 'MEMBER')"
    sql = [
        f"GRANT CONNECT ON DATABASE {_ident(database)} TO {team}",
        f"GRANT USAGE ON SCHEMA public TO {team}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {team}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {team}",
        *[f"REVOKE ALL ON {t} FROM {team}" for t in SECRET_TABLES],
        *[f"GRANT INSERT, UPDATE, DELETE ON {t} TO {team}" for t in TEAM_WRITES],
        f"GRANT INSERT ON audit_log TO {team}",
        *[f"GRANT INSERT, UPDATE, DELETE ON {t} TO {leads}" for t in LEAD_WRITES],
        *[f"GRANT INSERT, UPDATE, DELETE ON {t} TO {leads}" for t in LEAD_ONLY_TABLES],
    ]
    for table, own in OWN_ROWS.items():
        sql += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS reviewflow_own ON {table}",
            f"CREATE POLICY reviewflow_own ON {table} USING ({own} OR {lead}) "
            f"WITH CHECK ({own} OR {lead})",
        ]
    for table in LEAD_WRITES:
        sql += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS reviewflow_read ON {table}",
            f"DROP POLICY IF EXISTS reviewflow_lead ON {table}",
            f"CREATE POLICY reviewflow_read ON {table} FOR SELECT USING (true)",
            f"CREATE POLICY reviewflow_lead ON {table} USING ({lead}) WITH CHECK ({lead})",
        ]
    sql += [
        SOUGHT_FUNCTION.strip(),
        "REVOKE ALL ON FUNCTION reviewflow_sought(integer) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION reviewflow_sought(integer) TO {team}",
    ]
    return sql


def setup_team(
    store: Store, config: ReviewConfig, *, reset_passwords: bool = False
) -> list[TeamRole]:
    """Create (or update) the roles, grants and policies. Returns each reviewer's role and, for
    roles made now (or reset), the generated password, to hand over privately."""
    if store.is_sqlite:
        raise DatabaseError(
            "team setup-postgres is for a PostgreSQL review database (--db postgresql://…); "
            "on SQLite, share the review with 'reviewflow serve'"
        )
    out: list[TeamRole] = []
    with store.write() as s:

        def ddl(statement: str) -> None:  # no bind parameters: ':' in a verifier is literal
            s.connection().exec_driver_sql(statement)

        database = str(s.execute(text("SELECT current_database()")).scalar())
        owner = s.execute(text("SELECT rolcreaterole OR rolsuper FROM pg_roles "
                               "WHERE rolname = current_user")).scalar()  # fmt: skip
        if not owner:
            raise DatabaseError(
                f"{store.display_url}: this account may not create roles; run the setup as "
                "the database's owner with CREATEROLE (e.g. the postgres account)"
            )
        for group in ("team", "leads"):
            name = f"{database}_{group}"
            if not s.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}
            ).first():
                ddl(f"CREATE ROLE {_ident(name)} NOLOGIN")
        for person in config.reviewers:
            db_role = role_name(database, person.name)
            exists = s.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": db_role}
            ).first()
            password = ""
            if not exists or reset_passwords:
                password = secrets.token_urlsafe(18)
                verb = "ALTER" if exists else "CREATE"
                ddl(
                    f"{verb} ROLE {_ident(db_role)} LOGIN PASSWORD "
                    f"{_literal(scram_verifier(password))}"
                )
            ddl(f"GRANT {_ident(database + '_team')} TO {_ident(db_role)}")
            leads = _ident(database + "_leads")
            verb = "GRANT" if person.role == "adjudicator" else "REVOKE"
            joiner = "TO" if verb == "GRANT" else "FROM"
            ddl(f"{verb} {leads} {joiner} {_ident(db_role)}")
            s.execute(
                text("UPDATE reviewer SET db_role = :r WHERE name = :n"),
                {"r": db_role, "n": person.name},
            )
            out.append(TeamRole(person.name, person.role, db_role, password))
        for statement in policy_sql(database):
            ddl(statement)
    return out
