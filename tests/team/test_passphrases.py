"""Passphrases: a slow salted hash only, set from a script or a terminal, by the right person."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, text

from reviewflow.access import passphrase
from reviewflow.access.identity import SIGN_IN_FAILED, check_passphrase, is_protected
from reviewflow.errors import AccessError, InputError
from reviewflow.store import open_store
from reviewflow.workspace import Workspace, load_config
from tests.conftest import run_cli
from tests.team.conftest import PASSPHRASES, Team, cli_as, set_passphrase


def test_the_stored_form_is_scrypt_at_the_production_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real cost, not the suite's quick one
    assert passphrase.N >= 2**15 and passphrase.R >= 8
    stored = passphrase.hash_passphrase("correct horse battery")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", passphrase.N, passphrase.R, 1)
    assert "correct horse" not in stored
    assert passphrase.verify_passphrase("correct horse battery", stored)
    assert not passphrase.verify_passphrase("correct horse batterz", stored)


def test_each_hash_has_its_own_salt() -> None:
    a, b = (passphrase.hash_passphrase("same words here") for _ in range(2))
    assert a != b and a.split("$")[4] != b.split("$")[4]
    assert passphrase.verify_passphrase("same words here", a)
    assert passphrase.verify_passphrase("same words here", b)


def test_a_damaged_hash_verifies_nothing() -> None:
    assert not passphrase.verify_passphrase("x", "scrypt$oops")
    assert not passphrase.verify_passphrase("x", "md5$1$2$3$4$5")


@pytest.mark.parametrize("bad", ["xyzzy7", " leading space ok?", "trailing space "])
def test_weak_passphrases_are_refused_without_repeating_them(bad: str) -> None:
    with pytest.raises(InputError) as err:
        passphrase.check_strength(bad)
    assert bad.strip() not in err.value.message


def _every_text_in_the_database(url: str) -> str:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            rows = [list(conn.execute(text(f'SELECT * FROM "{t}"'))) for t in tables]
    finally:
        store.dispose()
    return json.dumps(rows, default=str)


def test_a_passphrase_set_from_a_script_is_kept_only_as_a_hash(team: Team) -> None:
    everything = _every_text_in_the_database(team.ws.database_url())
    for secret in PASSPHRASES.values():
        assert secret not in everything
    assert everything.count("scrypt$") == 3
    toml = (team.ws.root / "review.toml").read_text()
    assert "scrypt" not in toml and all(s not in toml for s in PASSPHRASES.values())
    who = check_passphrase(team.store, "reviewer1", PASSPHRASES["reviewer1"])
    assert (who.name, who.role) == ("reviewer1", "reviewer")
    code, out, _ = run_cli("-w", str(team.ws.root), "reviewer", "list", "--json")
    listed = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and all(listed[n]["passphrase"] for n in PASSPHRASES)
    assert "scrypt" not in out


def test_wrong_name_and_wrong_passphrase_read_the_same(team: Team) -> None:
    messages = []
    for name, secret in (("reviewer1", "not the words"), ("nobody", "not the words")):
        with pytest.raises(AccessError) as err:
            check_passphrase(team.store, name, secret)
        messages.append(err.value.message)
    assert messages == [SIGN_IN_FAILED, SIGN_IN_FAILED]


def test_until_the_adjudicator_has_one_anyone_here_may_set_passphrases(
    workspace: Workspace,
) -> None:
    store = open_store(workspace.database_url())
    assert not is_protected(store)
    assert set_passphrase(workspace, "reviewer1", PASSPHRASES["reviewer1"]) == 0
    assert set_passphrase(workspace, "adjudicator", PASSPHRASES["adjudicator"]) == 0
    # from now on: the adjudicator, or the person themselves
    assert set_passphrase(workspace, "reviewer2", "set by reviewer1!", as_="reviewer1") == 1
    assert set_passphrase(workspace, "reviewer2", "set without anyone") == 1
    assert set_passphrase(workspace, "reviewer2", PASSPHRASES["reviewer2"], as_="adjudicator") == 0
    assert set_passphrase(workspace, "reviewer1", "a new one for me", as_="reviewer1") == 0
    check_passphrase(store, "reviewer1", "a new one for me")
    with pytest.raises(AccessError):
        check_passphrase(store, "reviewer1", PASSPHRASES["reviewer1"])
    store.dispose()


def test_every_passphrase_change_is_audited_without_the_hash(team: Team) -> None:
    with team.store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, action, after FROM audit_log WHERE action LIKE 'auth.passphrase%'")
        ).all()
    assert [(r[0], r[1]) for r in rows] == [
        ("cli", "auth.passphrase_set"),
        ("adjudicator", "auth.passphrase_set"),
        ("adjudicator", "auth.passphrase_set"),
    ]
    assert "scrypt" not in json.dumps([r[2] for r in rows], default=str)


def test_reviewer_add_appends_to_review_toml_keeping_its_comments(team: Team) -> None:
    before = (team.ws.root / "review.toml").read_text()
    code, out, err = cli_as(team.ws, "adjudicator", "reviewer", "add", "Ana Díaz")
    assert code == 0, err
    after = (team.ws.root / "review.toml").read_text()
    assert after.startswith(before.rstrip("\n")) and "# reviewflow review settings" in after
    config = load_config(team.ws.root / "review.toml")
    assert config.reviewer("Ana Díaz").role == "reviewer"
    code, _out, err = cli_as(team.ws, "adjudicator", "reviewer", "add", "Ana Díaz")
    assert code == 1 and "already listed" in err
    code, _out, err = cli_as(team.ws, "reviewer1", "reviewer", "add", "Mallory")
    assert code == 1 and "adjudicator" in err and len(err.strip().splitlines()) == 1
    assert "Mallory" not in (team.ws.root / "review.toml").read_text()


def test_setting_a_passphrase_needs_a_terminal_or_one_line_of_input(team: Team) -> None:
    code, _out, err = run_cli("-w", str(team.ws.root), "--user", "adjudicator",
                              "reviewer", "passphrase", "reviewer1")  # fmt: skip
    assert code == 1
    assert err.strip() == (
        "reviewflow: error: adjudicator's passphrase is needed and there is no terminal to "
        "ask it on: set REVIEWFLOW_PASSPHRASE"
    )
