"""The risk-of-bias tools' rules: RoB 2's published decision tables, exhaustively; the
overall rules of RoB 2, ROBINS-I and Newcastle-Ottawa; overrides need a reason."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from reviewflow.errors import InputError
from reviewflow.rob import tools
from reviewflow.rob.tools import HIGH, LOW, SOME, evaluate, get_tool

TABLES = Path(__file__).parent.parent / "data" / "rob2" / "decision_tables.txt"
Row = tuple[dict[str, set[str]], str]


def _tables() -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for line in TABLES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        domain, pattern, judgement = (part.strip() for part in line.split("|"))
        cells = {}
        for cell in pattern.split():
            q, answers = cell.split("=")
            if answers != "*":
                cells[q] = set(answers.split("/"))
        out.setdefault(domain, []).append((cells, judgement))
    return out


def _expected(rows: list[Row], answers: dict[str, str]) -> str | None:
    """The table's judgement; None (the domain stays open) only where a question on the path
    was answered "not applicable", a path the table does not have."""
    matches = {j for cells, j in rows if all(answers[q] in ok for q, ok in cells.items())}
    assert len(matches) <= 1, (answers, matches)  # rows that overlap agree
    if not matches:
        assert "NA" in answers.values(), answers  # every real path is in the table
        return None
    return matches.pop()


def _questions(domain: str, keys: tuple[str, ...] | None = None) -> list[tools.Question]:
    d = next(d for d in tools.ROB2.domains if d.key == domain)
    return [q for q in d.questions if keys is None or q.key in keys]


def _combinations(questions: list[tools.Question]) -> list[dict[str, str]]:
    return [
        dict(zip([q.key for q in questions], combo, strict=True))
        for combo in itertools.product(*(q.answers for q in questions))
    ]


@pytest.mark.parametrize("domain", ["D1", "D3", "D4", "D5"])
def test_every_answer_combination_gets_the_guidance_judgement(domain: str) -> None:
    rows = _tables()[domain]
    judge = next(d.judge for d in tools.ROB2.domains if d.key == domain)
    assert judge is not None
    combos = _combinations(_questions(domain))
    assert len(combos) >= 125
    for answers in combos:
        assert judge(answers) == _expected(rows, answers), answers


def test_domain_2_is_the_worse_of_its_two_parts_for_every_combination() -> None:
    tables = _tables()
    part1 = _combinations(_questions("D2", ("2.1", "2.2", "2.3", "2.4", "2.5")))
    part2 = _combinations(_questions("D2", ("2.6", "2.7")))
    expected1 = [_expected(tables["D2a"], a) for a in part1]
    expected2 = [_expected(tables["D2b"], a) for a in part2]
    judge = tools.ROB2.domains[1].judge
    assert judge is not None and len(part1) * len(part2) == 162_000
    for a1, e1 in zip(part1, expected1, strict=True):
        for a2, e2 in zip(part2, expected2, strict=True):
            want = None if e1 is None or e2 is None else tools.worst([e1, e2])
            assert judge(a1 | a2) == want, a1 | a2


def test_an_unanswered_question_on_the_path_leaves_the_domain_open() -> None:
    rob2 = get_tool("rob2")
    ev = evaluate(rob2, {"1.2": "Y", "1.1": "Y"})  # 1.3 still to answer
    assert ev.domains["D1"].value is None and not ev.complete
    assert evaluate(rob2, {"1.2": "N"}).domains["D1"].value == HIGH  # 1.1, 1.3 not needed
    assert evaluate(rob2, {"3.1": "Y"}).domains["D3"].value == LOW


ALL_LOW = {
    "1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.3": "NA", "2.4": "NA",
    "2.5": "NA", "2.6": "Y", "2.7": "NA", "3.1": "Y", "3.2": "NA", "3.3": "NA", "3.4": "NA",
    "4.1": "N", "4.2": "N", "4.3": "N", "4.4": "NA", "4.5": "NA", "5.1": "Y", "5.2": "N",
    "5.3": "N",
}  # fmt: skip


def test_rob2_overall_is_low_only_if_every_domain_is_low_and_high_if_any_is_high() -> None:
    rob2 = get_tool("rob2")
    assert evaluate(rob2, ALL_LOW).overall.value == LOW
    assert evaluate(rob2, ALL_LOW | {"5.1": "NI"}).overall.value == SOME
    assert evaluate(rob2, ALL_LOW | {"5.1": "NI", "4.1": "Y"}).overall.value == HIGH
    # the guidance lets reviewers judge several "some concerns" as high: an override, with why
    ev = evaluate(rob2, ALL_LOW | {"5.1": "NI", "overall": HIGH}, {"overall": "D4 and D5"})
    assert (ev.overall.value, ev.overall.source, ev.overall.reason) == (
        HIGH,
        "override",
        "D4 and D5",
    )
    ev = evaluate(rob2, ALL_LOW | {"D1": SOME}, {"D1": "baseline table missing"})
    assert ev.domains["D1"].source == "override" and ev.overall.value == SOME


def test_an_override_of_a_rule_needs_a_reason_and_answers_must_be_the_tools() -> None:
    rob2 = get_tool("rob2")
    with pytest.raises(InputError, match="needs a reason"):
        tools.check_answer(rob2, "D1", HIGH, "", "here")
    with pytest.raises(InputError, match="not an answer"):
        tools.check_answer(rob2, "1.1", "maybe", "", "here")
    with pytest.raises(InputError, match="no item"):
        tools.check_answer(rob2, "9.9", "Y", "", "here")
    with pytest.raises(InputError, match="unknown risk-of-bias tool"):
        get_tool("rob3")
    # JBI has no overall rule: the reviewers' overall judgement needs no override reason
    tools.check_answer(get_tool("jbi-case-series"), "overall", SOME, "", "here")


def test_robins_i_overall_follows_the_tools_rule() -> None:
    """Sterne et al. 2016, Table: low in all domains → low; low or moderate → moderate;
    serious in one, critical in none → serious; critical in one → critical."""
    robins = get_tool("robins-i")

    def overall(*js: str) -> str | None:
        return evaluate(robins, {f"D{i}": j for i, j in enumerate(js, 1)}).overall.value

    assert overall(*["low"] * 7) == "low"
    assert overall(*["low"] * 6, "moderate") == "moderate"
    assert overall("serious", *["moderate"] * 6) == "serious"
    assert overall("serious", "critical", *["low"] * 5) == "critical"
    assert overall("no information", *["low"] * 6) == "no information"
    assert overall("no information", "serious", *["low"] * 5) == "serious"
    assert overall(*["low"] * 6) is None  # a domain not judged yet


def test_newcastle_ottawa_follows_the_ahrq_thresholds() -> None:
    nos = get_tool("nos-cohort")
    good = {"S1": "*", "S2": "*", "S3": "*", "S4": "-", "C1": "**", "O1": "*", "O2": "*",
            "O3": "-"}  # fmt: skip
    assert evaluate(nos, good).overall.value == LOW  # 3 + 2 + 2 stars: good
    assert evaluate(nos, good | {"S3": "-"}).overall.value == SOME  # selection 2: fair
    assert evaluate(nos, good | {"C1": "-"}).overall.value == HIGH  # comparability 0: poor
    assert evaluate(nos, good | {"O2": "-"}).overall.value == HIGH  # outcome 1: poor
    assert evaluate(nos, good | {"S2": "-", "S3": "-"}).overall.value == HIGH  # selection 1
