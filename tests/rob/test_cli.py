"""``reviewflow rob …``: a reviewer's answers from the command line, one-line errors that
change nothing, and the adjudicator's discrepancies, agreement and consensus."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.extraction.conftest import Review
from tests.rob.test_tools import ALL_LOW


def test_assess_compare_and_agree_from_the_command_line(review: Review) -> None:
    root = review.workspace.root
    study = review.studies[0].label
    answers = [f"{k}={v}" for k, v in ALL_LOW.items()]
    for who in ("reviewer1", "reviewer2"):
        code, _, err = run_cli("rob", "set", study, *answers, "--reviewer", who, cwd=root)
        assert code == 0, err
    code, out, err = run_cli("rob", "set", study, "5.1=NI", "--reviewer", "reviewer2", "--json",
                             cwd=root)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["domains"]["D5"]["judgement"] == "some concerns"
    # bad input: one line naming the item, nothing saved (1.1=Y would otherwise be kept)
    code, _, err = run_cli("rob", "set", study, "1.1=N", "1.2=sure", "--reviewer", "reviewer1",
                           cwd=root)  # fmt: skip
    assert code == 1 and err.strip().endswith(
        "'sure' is not an answer to rob2 1.2 (Y / PY / PN / N / NI)"
    )
    assert len(err.strip().splitlines()) == 1
    code, out, _ = run_cli("rob", "show", study, "--reviewer", "reviewer1", "--json", cwd=root)
    shown = json.loads(out)
    assert shown["answers"]["1.1"] == "Y" and shown["overall"]["judgement"] == "low"
    code, _, err = run_cli("rob", "set", study, "overall=high", "--reviewer", "reviewer1", cwd=root)
    assert code == 1 and "needs a reason" in err
    code, out, _ = run_cli("rob", "discrepancies", "--json", cwd=root)
    assert [(d["item"], d["values"]) for d in json.loads(out)] == [
        ("5.1", {"reviewer1": "Y", "reviewer2": "NI"})
    ]
    code, out, _ = run_cli("rob", "agree", cwd=root)
    assert code == 0 and out.startswith(f"{len(ALL_LOW) - 1} answers")
    code, out, err = run_cli("rob", "consensus", study, "5.1=PY", cwd=root)
    assert code == 0 and "consensus overall low" in out, err
    code, out, _ = run_cli("rob", "summary", "--json", cwd=root)
    assert json.loads(out)["rob2"][study]["overall"] == "low"
    code, out, _ = run_cli("rob", "progress", "--reviewer", "reviewer2", cwd=root)
    assert out.strip().endswith(f"1 of {len(review.studies)} studies assessed")
