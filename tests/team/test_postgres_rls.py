"""PostgreSQL team mode: connected with reviewer A's own role, nothing of B's can be read or
written, even with plain SQL; the lead's role sees everything; the full-text queue still works
through the one function that returns record ids only."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy.engine import make_url

from reviewflow.access.identity import database_identity, sign_in
from reviewflow.access.postgres import setup_team
from reviewflow.errors import ReviewflowError
from reviewflow.extraction.forms import shipped_form
from reviewflow.extraction.studies import create_study
from reviewflow.extraction.values import save_value
from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening.conflicts import resolve
from reviewflow.screening.queue import ScreeningQueue
from reviewflow.store import Store, open_store
from reviewflow.store.reviewers import reviewer_id
from reviewflow.workspace import Workspace
from tests.conftest import run_cli
from tests.screening.helpers import add_records, nsaids_records

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


@dataclass
class PgTeam:
    ws: Workspace
    admin: Store
    ids: list[int]
    urls: dict[str, str]  # reviewer → their own connection URL


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def pg_team(tmp_path, postgres_url: str) -> Iterator[PgTeam]:  # type: ignore[no-untyped-def]
    from reviewflow.workspace import find_workspace
    from tests.conftest import _fresh_pg_database

    url = _fresh_pg_database(postgres_url)
    root = tmp_path / "review"
    assert run_cli("--db", url, "init", str(root))[0] == 0
    toml = root / "review.toml"
    toml.write_text(toml.read_text().replace('url = ""', f'url = "{url}"'))
    ws = find_workspace(root)
    admin = open_store(url)
    ids = add_records(admin, nsaids_records(10))
    roles = setup_team(admin, ws.config)
    base = make_url(url)
    urls = {
        r.reviewer: base.set(username=r.db_role, password=r.password).render_as_string(False)
        for r in roles
    }
    yield PgTeam(ws, admin, ids, urls)
    admin.dispose()


def as_role(team: PgTeam, name: str) -> Store:
    store = open_store(team.urls[name])
    who = database_identity(store)
    assert who is not None and who.name == name
    sign_in(store, who)
    return store


def raw(team: PgTeam, name: str) -> psycopg.Connection:  # psql's view of the database
    return psycopg.connect(team.urls[name], autocommit=True)


def test_roles_are_made_per_reviewer_with_passwords_shown_once(pg_team: PgTeam) -> None:
    again = setup_team(pg_team.admin, pg_team.ws.config)  # idempotent; passwords kept
    assert [r.password for r in again] == ["", "", ""]
    assert {r.role for r in again} == {"reviewer", "adjudicator"}


def test_a_reviewer_reads_and_writes_only_their_own_rows(pg_team: PgTeam) -> None:
    a, b = as_role(pg_team, "reviewer1"), as_role(pg_team, "reviewer2")
    for rid in pg_team.ids[:4]:
        core.decide(a, "reviewer1", rid, TA, "include")
        core.decide(b, "reviewer2", rid, TA, "exclude")
    b_id = reviewer_id(pg_team.admin, "reviewer2")
    with raw(pg_team, "reviewer1") as conn:
        rows = conn.execute("SELECT reviewer_id, decision FROM decision").fetchall()
        assert len(rows) == 4 and {r[1] for r in rows} == {"include"}
        assert conn.execute("SELECT count(*) FROM decision WHERE reviewer_id = %s",
                            (b_id,)).fetchone() == (0,)  # fmt: skip
        changed = conn.execute("UPDATE decision SET decision = 'include' WHERE reviewer_id = %s",
                               (b_id,)).rowcount  # fmt: skip
        assert changed == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # writing as B
            conn.execute(
                "INSERT INTO decision (record_id, reviewer_id, stage, decision, reason, note,"
                " decided_at) VALUES (%s, %s, 'title-abstract', 'include', '', '', now())",
                (pg_team.ids[5], b_id),
            )
        audit = conn.execute("SELECT DISTINCT actor FROM audit_log").fetchall()
        assert audit == [("reviewer1",)]
        for secret in ("reviewer_secret", "review_session"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {secret}")
    from reviewflow.store.models import Decision

    with pytest.raises(Exception, match="row-level security"), a.write() as s:  # the ORM too
        s.add(Decision(record_id=pg_team.ids[6], reviewer_id=b_id, stage=TA, decision="include"))
    a.dispose()
    b.dispose()


def test_labels_are_private_too_even_before_deciding(pg_team: PgTeam) -> None:
    a, b = as_role(pg_team, "reviewer1"), as_role(pg_team, "reviewer2")
    core.decide(a, "reviewer1", pg_team.ids[0], TA, "include")
    core.set_labels(a, "reviewer1", pg_team.ids[0], TA, ["pediatric"])
    core.set_labels(a, "reviewer1", pg_team.ids[1], TA, ["ask the author"])  # a draft
    core.decide(b, "reviewer2", pg_team.ids[0], TA, "include")
    core.set_labels(b, "reviewer2", pg_team.ids[0], TA, ["adults"])
    assert core.my_labels(b, "reviewer2", TA) == {pg_team.ids[0]: ["adults"]}
    with raw(pg_team, "reviewer2") as conn:
        assert conn.execute("SELECT labels FROM decision").fetchall() == [(["adults"],)]
        drafts = conn.execute("SELECT count(*) FROM audit_log WHERE action LIKE '%labels'")
        assert drafts.fetchone() == (1,)  # reviewer2's own label change only
    with raw(pg_team, "adjudicator") as conn:
        assert len(conn.execute("SELECT labels FROM decision").fetchall()) == 2
    a.dispose()
    b.dispose()


def test_extraction_values_are_private_too(pg_team: PgTeam) -> None:
    form = shipped_form()
    with pg_team.admin.write() as s:
        study = create_study(s, "admin", "Chang 2018")
        study_id = study.id
    assert study_id is not None
    key = form.study_fields[0].key
    a, b = as_role(pg_team, "reviewer1"), as_role(pg_team, "reviewer2")
    save_value(a, "reviewer1", form, study_id, key, "Korea")
    save_value(b, "reviewer2", form, study_id, key, "Japan")
    with raw(pg_team, "reviewer2") as conn:
        assert conn.execute("SELECT value FROM extraction_value").fetchall() == [("Japan",)]
    with raw(pg_team, "adjudicator") as conn:
        values = sorted(r[0] for r in conn.execute("SELECT value FROM extraction_value"))
        assert values == ["Japan", "Korea"]
    a.dispose()
    b.dispose()


def test_risk_of_bias_answers_are_private_too(pg_team: PgTeam) -> None:
    from reviewflow.rob.assess import set_answer

    with pg_team.admin.write() as s:
        study_id = create_study(s, "admin", "Chang 2018").id
    assert study_id is not None
    a, b = as_role(pg_team, "reviewer1"), as_role(pg_team, "reviewer2")
    set_answer(a, "reviewer1", study_id, "rob2", "1.1", "Y")
    set_answer(b, "reviewer2", study_id, "rob2", "1.1", "N")
    with raw(pg_team, "reviewer2") as conn:
        assert conn.execute("SELECT value FROM rob_answer").fetchall() == [("N",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # consensus is the lead's
            conn.execute(
                "INSERT INTO rob_consensus (study_id, tool, item, value, reason, source,"
                " decided_by, decided_at) VALUES (%s, 'rob2', '1.1', 'N', '', 'x', 'b', now())",
                (study_id,),
            )
    with raw(pg_team, "adjudicator") as conn:
        assert sorted(r[0] for r in conn.execute("SELECT value FROM rob_answer")) == ["N", "Y"]
    a.dispose()
    b.dispose()


def test_grade_ratings_are_the_leads_to_write_and_all_read(pg_team: PgTeam) -> None:
    from reviewflow.rob.grade import set_ratings

    lead = as_role(pg_team, "adjudicator")
    set_ratings(lead, "adjudicator", "mortality", {"design": "observational"})
    with raw(pg_team, "reviewer1") as conn:
        assert conn.execute("SELECT value FROM grade_rating").fetchall() == [("observational",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE grade_rating SET value = 'randomised'")
    lead.dispose()


def test_the_lead_sees_everything_and_alone_resolves(pg_team: PgTeam) -> None:
    a, b = as_role(pg_team, "reviewer1"), as_role(pg_team, "reviewer2")
    rid = pg_team.ids[0]
    core.decide(a, "reviewer1", rid, TA, "include")
    core.decide(b, "reviewer2", rid, TA, "exclude")
    lead = as_role(pg_team, "adjudicator")
    resolve(lead, "adjudicator", rid, TA, "include", "meets the criteria")
    with raw(pg_team, "adjudicator") as conn:
        assert conn.execute("SELECT count(*) FROM decision").fetchone() == (2,)
    with raw(pg_team, "reviewer1") as conn:
        assert conn.execute("SELECT decision FROM resolution").fetchall() == [("include",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE resolution SET decision = 'exclude'")
    code, _out, err = run_cli("--db", pg_team.urls["reviewer1"], "-w", str(pg_team.ws.root),
                              "agreement")  # fmt: skip
    assert code == 1 and "adjudicator" in err
    code, out, err = run_cli("--db", pg_team.urls["adjudicator"], "-w", str(pg_team.ws.root),
                             "agreement", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["stages"][0]["double_screened"] == 1
    for s in (a, b, lead):
        s.dispose()


def test_the_full_text_queue_works_behind_row_level_security(pg_team: PgTeam) -> None:
    """The SQL function and the Python rule agree on random decisions and resolutions, and a
    reviewer's full-text queue (which cannot read the other's decisions) holds the includes."""
    rnd = random.Random(7)
    a, b = as_role(pg_team, "reviewer1"), as_role(pg_team, "reviewer2")
    lead = as_role(pg_team, "adjudicator")
    for rid in pg_team.ids:
        for store, name in ((a, "reviewer1"), (b, "reviewer2")):
            if rnd.random() < 0.85:
                core.decide(store, name, rid, TA, rnd.choice(["include", "include", "exclude",
                                                              "maybe"]))  # fmt: skip
    for rid in pg_team.ids[:3]:
        with contextlib.suppress(ReviewflowError):  # not a conflict: nothing to resolve
            resolve(lead, "adjudicator", rid, TA, rnd.choice(["include", "exclude"]), "agreed")
    with pg_team.admin.read() as s:
        python_rule = flow.review_flow(s, 2).sought
        sql_rule = flow.sought_ids(s, 2, behind_rls=True)
    assert sql_rule == python_rule and python_rule
    queue = ScreeningQueue(a, "reviewer1", FT)
    assert len(queue) == len(python_rule)
    core.decide(a, "reviewer1", python_rule[0], FT, "include")
    with pytest.raises(Exception, match="not included at title/abstract"):
        outside = next(r for r in pg_team.ids if r not in python_rule)
        core.decide(a, "reviewer1", outside, FT, "include")
    for s in (a, b, lead):
        s.dispose()
