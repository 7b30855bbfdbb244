"""GRADE ratings in the database (both backends): set by the adjudicator, every change audited,
a downgrade or an upgrade only with a reason, a bad rating changing nothing; and from the
command line."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from reviewflow.errors import InputError
from reviewflow.rob.grade import ratings, set_ratings
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, GradeRating
from tests.conftest import run_cli
from tests.extraction.conftest import Review

RCT_ALL_FINE = {"design": "randomised", "risk_of_bias": "not serious",
                "inconsistency": "not serious", "indirectness": "not serious",
                "imprecision": "not serious", "publication_bias": "undetected"}  # fmt: skip


def _audit(store: Store) -> list[tuple[str, object, object]]:
    with store.read() as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.entity == "grade_rating")).all()
        return [(r.action, r.before, r.after) for r in rows]


def test_ratings_give_the_certainty_and_every_change_is_audited(store: Store) -> None:
    r = set_ratings(store, "ada", "mortality", {"design": "randomised"})
    assert r.certainty is None and not r.complete  # five domains still to rate
    r = set_ratings(store, "ada", "mortality", RCT_ALL_FINE)
    assert r.certainty == "high" and r.decided_by["imprecision"] == "ada"
    r = set_ratings(store, "ada", "mortality",
                    {"imprecision": "very serious", "inconsistency": "serious"},
                    {"imprecision": "one small trial", "inconsistency": "I² 80%"})  # fmt: skip
    assert r.certainty == "very low"  # 4 - 2 - 1
    r = set_ratings(store, "ada", "mortality", {"upgrade": "1"}, {"upgrade": "large effect"})
    assert r.certainty == "low"
    assert r.notes == ("inconsistency: I² 80%; imprecision: one small trial; "
                       "upgrade: large effect")  # fmt: skip
    # observational evidence starts low and cannot go below very low
    r = set_ratings(store, "ada", "mortality", {"design": "observational"})
    assert r.certainty == "very low"
    r = set_ratings(store, "ada", "mortality", {"upgrade": ""})  # cleared
    assert "upgrade" not in r.values and "upgrade" not in ratings(store)["mortality"].reasons
    log = _audit(store)
    assert [a for a, _, _ in log].count("grade.set") == 10 and log[-1][0] == "grade.clear"
    assert log[-1][1] == {"outcome": "mortality", "domain": "upgrade", "value": "1",
                          "reason": "large effect"}  # fmt: skip
    before, after = next((b, a) for act, b, a in log
                         if isinstance(a, dict) and a["value"] == "very serious")  # fmt: skip
    assert before == {"outcome": "mortality", "domain": "imprecision", "value": "not serious",
                      "reason": ""}  # fmt: skip
    assert after == {"outcome": "mortality", "domain": "imprecision", "value": "very serious",
                     "reason": "one small trial"}  # fmt: skip
    # the same rating again changes nothing and writes no audit row
    set_ratings(store, "ada", "mortality", {"design": "observational"})
    assert len(_audit(store)) == len(log)


@pytest.mark.parametrize(
    ("values", "reasons", "message"),
    [
        ({"imprecision": "serious"}, {}, "imprecision = 'serious' is a downgrade and needs a"),
        ({"design": "randomised", "upgrade": "2"}, {"upgrade": " "}, "is an upgrade and needs"),
        ({"imprecision": "bad"}, {}, "'bad' is not a rating of imprecision"),
        ({"certainty": "high"}, {}, "no GRADE domain 'certainty'"),
        ({"design": "randomised"}, {"imprecision": "why"}, "a reason for 'imprecision'"),
    ],
)
def test_a_bad_rating_is_one_line_and_changes_nothing(
    store: Store, values: dict[str, str], reasons: dict[str, str], message: str
) -> None:
    set_ratings(store, "ada", "mortality", {"design": "observational"})
    with pytest.raises(InputError, match=message) as err:
        set_ratings(store, "ada", "mortality", {"design": "randomised", **values}, reasons)
    assert str(err.value).startswith("grade: mortality: ") and "\n" not in str(err.value)
    with store.read() as s:
        rows = s.exec(select(GradeRating)).all()
        assert [(r.domain, r.value) for r in rows] == [("design", "observational")]
    assert len(_audit(store)) == 1
    with pytest.raises(InputError, match=r"no outcome of that name in the forms \(outcomes: a"):
        set_ratings(store, "ada", "mortalty", {"design": "randomised"}, outcomes={"a", "b"})


def test_grade_from_the_command_line(review: Review) -> None:
    root = review.workspace.root
    outcome = review.form.outcomes[0].key
    code, out, err = run_cli("grade", "set", outcome, "design=observational",
                             "risk-of-bias=serious", cwd=root)  # fmt: skip
    assert code == 1 and err.strip().endswith("needs a reason (--reason risk_of_bias=TEXT)")
    assert len(err.strip().splitlines()) == 1
    code, out, err = run_cli("grade", "show", "--json", cwd=root)
    assert code == 0 and json.loads(out) == {}, err
    code, out, err = run_cli(
        "grade", "set", outcome, "design=observational", "risk-of-bias=serious",
        "inconsistency=not-serious", "indirectness=not serious", "imprecision=serious",
        "publication_bias=undetected", "--reason", "risk_of_bias=no consecutive inclusion",
        "--reason", "imprecision=CI from 20% to 60%", cwd=root,
    )  # fmt: skip
    assert code == 0 and out.strip() == f"{outcome}: certainty very low", err
    code, out, _ = run_cli("grade", "show", "--json", cwd=root)
    shown = json.loads(out)[outcome]
    assert shown["certainty"] == "very low" and shown["ratings"]["indirectness"] == "not serious"
    assert shown["reasons"] == {"risk_of_bias": "no consecutive inclusion",
                                "imprecision": "CI from 20% to 60%"}  # fmt: skip
    code, out, _ = run_cli("grade", "show", cwd=root)
    assert "  risk of bias: serious — no consecutive inclusion" in out
    code, _, err = run_cli("grade", "set", "nonsense", "design=randomised", cwd=root)
    assert code == 1 and "grade: nonsense: no outcome of that name in the forms" in err
