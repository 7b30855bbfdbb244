"""The role guard, for every path: unblinded views refuse a reviewer (one line, exit 1) and
open for the adjudicator; a reviewer's own views refuse anyone else; the SQL a reviewer's views
run never reads another reviewer's rows. An unprotected review works as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from reviewflow.access.identity import check_passphrase, sign_in
from reviewflow.errors import AccessError
from reviewflow.extraction.values import my_values
from reviewflow.screening import decisions as core
from reviewflow.screening.agreement import agreement
from reviewflow.screening.conflicts import conflicts
from reviewflow.screening.queue import ScreeningQueue
from reviewflow.store import Store, open_store
from reviewflow.store.reviewers import reviewer_id
from tests.team.conftest import PASSPHRASES, Team, cli_as

TA = "title-abstract"


def screened_by_both(team: Team) -> None:
    """reviewer1 includes every record, reviewer2 excludes the first three (three conflicts)."""
    for name, decision in (("reviewer1", lambda i: "include"),
                           ("reviewer2", lambda i: "exclude" if i < 3 else "include")):  # fmt: skip
        store = open_store(team.ws.database_url())
        sign_in(store, check_passphrase(store, name, PASSPHRASES[name]))
        for i, rid in enumerate(team.ids):
            core.decide(store, name, rid, TA, decision(i))
        store.dispose()


def unblinded_commands(tmp: Path) -> list[list[str]]:
    return [
        ["agreement"],
        ["agreement", "--json"],
        ["export", "decisions", "--format", "csv", "--out", str(tmp / "decisions.csv")],
        ["reconcile"],
        ["extraction", "discrepancies"],
        ["extraction", "agree"],
        ["extract", "--reviewer", "adjudicator", "--consensus"],
        ["prisma", "--json"],
        ["report", "--out", str(tmp / "report")],
    ]


@pytest.mark.parametrize("index", range(9))
def test_every_unblinded_command_refuses_a_reviewer(team: Team, tmp_path: Path, index: int) -> None:
    screened_by_both(team)
    command = unblinded_commands(tmp_path)[index]
    for reviewer in ("reviewer1", "reviewer2"):
        code, out, err = cli_as(team.ws, reviewer, *command)
        assert code == 1, (command, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "adjudicator" in err
        assert not (tmp_path / "decisions.csv").exists() and not (tmp_path / "report").exists()


@pytest.mark.parametrize("index", [0, 1, 2, 4, 5, 7, 8])  # the others are terminal apps
def test_every_unblinded_command_opens_for_the_adjudicator(
    team: Team, tmp_path: Path, index: int
) -> None:
    screened_by_both(team)
    command = unblinded_commands(tmp_path)[index]
    code, out, err = cli_as(team.ws, "adjudicator", *command)
    assert code == 0, (command, err)
    if command[0] == "agreement":
        assert "reviewer1" in out and "reviewer2" in out
    if command[0] == "export":
        rows = (tmp_path / "decisions.csv").read_text().splitlines()
        assert len(rows) == 1 + 2 * len(team.ids)


def test_without_a_name_the_adjudicators_commands_ask_the_adjudicators_passphrase(
    team: Team,
) -> None:
    code, _out, err = cli_as(team.ws, None, "agreement")
    assert code == 1 and "adjudicator's passphrase is needed" in err
    from tests.conftest import run_cli

    code, _out, err = run_cli("-w", str(team.ws.root), "agreement",
                              env={"REVIEWFLOW_PASSPHRASE": PASSPHRASES["reviewer1"]})  # fmt: skip
    assert code == 1 and err.strip().endswith("unknown reviewer name or wrong passphrase")


def test_status_hides_conflict_counts_from_reviewers(team: Team) -> None:
    screened_by_both(team)
    import json

    code, out, _ = cli_as(team.ws, "reviewer1", "status", "--json")
    assert code == 0 and json.loads(out)["title_abstract"]["conflicts"] is None
    assert set(json.loads(out)["screening_speed"]["title-abstract"]) == {"reviewer1"}  # own only
    code, out, _ = cli_as(team.ws, "reviewer1", "status")
    assert "conflicts shown to the adjudicator only" in out
    code, out, _ = cli_as(team.ws, "adjudicator", "status", "--json")
    assert code == 0 and json.loads(out)["title_abstract"]["conflicts"] == 3
    assert set(json.loads(out)["screening_speed"]["title-abstract"]) >= {"reviewer1", "reviewer2"}


def test_a_reviewer_cannot_work_as_another(team: Team) -> None:
    code, _out, err = cli_as(team.ws, "reviewer1", "screen", "--reviewer", "reviewer2")
    assert code == 1 and "cannot work as reviewer2" in err
    code, _out, err = cli_as(team.ws, None, "screen", "--reviewer", "reviewer2")  # no passphrase
    assert code == 1 and "reviewer2's passphrase is needed" in err
    code, _out, err = cli_as(team.ws, "reviewer1", "extraction", "progress", "--reviewer",
                             "reviewer2")  # fmt: skip
    assert code == 1 and "cannot work as reviewer2" in err


def signed(team: Team, name: str) -> Store:
    store = open_store(team.ws.database_url())
    sign_in(store, check_passphrase(store, name, PASSPHRASES[name]))
    return store


def test_the_core_refuses_whatever_the_shell(team: Team) -> None:
    screened_by_both(team)
    store = signed(team, "reviewer1")
    rules = core.ScreeningRules()
    for unblinded in (lambda: agreement(store, rules), lambda: conflicts(store, TA, rules)):
        with pytest.raises(AccessError, match="adjudicator"):
            unblinded()
    for as_other in (
        lambda: ScreeningQueue(store, "reviewer2", TA),
        lambda: core.decide(store, "reviewer2", team.ids[0], TA, "exclude"),
        lambda: core.my_decisions(store, "reviewer2", TA),
        lambda: core.my_labels(store, "reviewer2", TA),
        lambda: core.labels_used(store, "reviewer2"),
        lambda: core.set_labels(store, "reviewer2", team.ids[0], TA, ["mine now"]),
        lambda: my_values(store, "reviewer2", 1),
    ):
        with pytest.raises(AccessError, match="signed in as reviewer1"):
            as_other()
    anonymous = open_store(team.ws.database_url())  # nobody signed in, protected review
    with pytest.raises(AccessError, match="sign in as reviewer1"):
        ScreeningQueue(anonymous, "reviewer1", TA)
    lead = signed(team, "adjudicator")
    assert len(conflicts(lead, TA, rules)) == 3
    for s in (store, anonymous, lead):
        s.dispose()


@contextmanager
def statements(store: Store) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: Any) -> None:
        seen.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_a_reviewers_screening_reads_only_their_own_decision_rows(team: Team) -> None:
    """Every statement that reads the decision table while reviewer1 screens names reviewer1's
    id: nothing in the data layer returns reviewer2's decisions to reviewer1's views."""
    screened_by_both(team)
    store = signed(team, "reviewer1")
    mine = reviewer_id(store, "reviewer1")
    with statements(store) as seen:
        queue = ScreeningQueue(store, "reviewer1", TA)
        for position in range(len(queue)):
            entry = queue.entry(position)
            assert entry is not None
            view = queue.record(entry.record_id)
            assert view.mine is not None and view.mine.decision == "include"
        queue.progress()
        queue.search("pain")
        core.decide(store, "reviewer1", team.ids[0], TA, "maybe")
        core.set_labels(store, "reviewer1", team.ids[0], TA, ["pediatric"])
        core.undo(store, "reviewer1", team.ids[0], TA)
        assert core.my_labels(store, "reviewer1", TA) == {}
    reads = [(sql, p) for sql, p in seen if re.search(r"\bFROM decision\b", sql)]
    assert reads, "the queue reads decisions"
    for sql, params in reads:
        values = params.values() if isinstance(params, dict) else params
        assert "reviewer_id" in sql and mine in list(values), sql
    store.dispose()


def test_an_unprotected_review_needs_nobody_to_sign_in(workspace: Any) -> None:
    from tests.conftest import run_cli

    code, out, err = run_cli("-w", str(workspace.root), "agreement")
    assert code == 0, err
    code, out, _ = run_cli("-w", str(workspace.root), "status", "--json")
    assert '"conflicts": 0' in out
