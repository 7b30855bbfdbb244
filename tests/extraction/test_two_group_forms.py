"""Two-group outcomes in the extraction form (``groups = [...]``): their fields, their checks
and the form's mistakes. The counts are dat.bcg's (tests/pooling/data/bcg.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewflow.extraction.forms import FormError, load_form, parse_form
from reviewflow.extraction.validate import check_study, check_value
from tests.extraction.helpers import DATA

FORM = load_form(DATA / "extraction" / "two_groups.toml")


def test_two_group_outcomes_have_a_set_of_fields_per_group() -> None:
    tb, stay = FORM.outcomes
    assert (tb.family, stay.family) == ("binary", "continuous")
    assert tb.part_keys() == tuple(
        f"outcome.tb.{p}" for p in ("events1", "total1", "events2", "total2")
    )
    assert [(f.key, f.label, f.group, f.unit) for f in FORM.outcome_fields if f.outcome == "stay"] == [
        ("outcome.stay.mean1", "Length of stay: Specialist care mean", "Specialist care", "days"),
        ("outcome.stay.sd1", "Length of stay: Specialist care SD", "Specialist care", "days"),
        ("outcome.stay.n1", "Length of stay: Specialist care n", "Specialist care", "patients"),
        ("outcome.stay.mean2", "Length of stay: Routine care mean", "Routine care", "days"),
        ("outcome.stay.sd2", "Length of stay: Routine care SD", "Routine care", "days"),
        ("outcome.stay.n2", "Length of stay: Routine care n", "Routine care", "patients"),
    ]  # fmt: skip
    assert tb.measure == "" and FORM.get("outcome.tb.total2").minimum == 1


def test_one_group_outcomes_keep_their_fields() -> None:
    form = parse_form('[[outcomes]]\nkey = "mortality"\n', Path("f.toml"))
    assert [(f.key, f.label) for f in form.fields] == [
        ("outcome.mortality.events", "Mortality: events"),
        ("outcome.mortality.total", "Mortality: total"),
    ]
    assert form.outcomes[0].family == "proportion"


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("outcome.tb.events1", "-1", "Tuberculosis: Vaccinated events: must be at least 0 patients"),
        ("outcome.tb.total2", "0", "Tuberculosis: Not vaccinated total: must be at least 1 patients"),
        ("outcome.stay.sd1", "-4", "Length of stay: Specialist care SD: must be at least 0 days"),
        ("outcome.stay.n2", "15.5", "Length of stay: Routine care n: must be a whole number"),
        ("outcome.stay.mean1", "5,5", "Length of stay: Specialist care mean: use a decimal point"),
    ],
)  # fmt: skip
def test_bad_values_name_the_group_and_part(key: str, text: str, message: str) -> None:
    assert check_value(FORM.get(key), text).problem.startswith(message)


def test_events_above_total_in_either_group() -> None:
    # dat.bcg, Aronson: 4 of 123 vaccinated, 11 of 139 not vaccinated; swapped they are impossible
    aronson = {"outcome.tb.events1": "4", "outcome.tb.total1": "123",
               "outcome.tb.events2": "11", "outcome.tb.total2": "139"}  # fmt: skip
    assert check_study(FORM, aronson, complete=True) == []
    bad = {**aronson, "outcome.tb.events2": "139", "outcome.tb.total2": "11"}
    assert [(p.key, p.message) for p in check_study(FORM, bad)] == [
        ("outcome.tb.events2", "Tuberculosis, Not vaccinated: events (139) exceed total (11)")
    ]


def test_an_outcome_needs_all_its_parts_or_none_when_complete() -> None:
    half = {"outcome.tb.events1": "4", "outcome.tb.total1": "123", "outcome.tb.events2": "11"}
    assert check_study(FORM, half) == []  # while typing
    assert [(p.key, p.message) for p in check_study(FORM, half, complete=True)] == [
        (
            "outcome.tb.total2",
            "Tuberculosis: Not vaccinated total missing "
            "(give events and total of both groups, or nothing)",
        )
    ]
    stay = {"outcome.stay.mean1": "55", "outcome.stay.sd1": "47"}
    assert [p.message for p in check_study(FORM, stay, complete=True)] == [
        "Length of stay: Specialist care n missing (give mean, SD and n of both groups, or nothing)"
    ]


def test_a_measure_per_outcome_must_fit_its_data() -> None:
    text = '[[outcomes]]\nkey = "tb"\ngroups = ["A", "B"]\nmeasure = "or"\n'
    assert parse_form(text, Path("f.toml")).outcomes[0].measure == "OR"
    one = parse_form('[[outcomes]]\nkey = "stay"\nkind = "continuous"\nmeasure = "MNLN"\n',
                     Path("f.toml"))  # fmt: skip
    assert one.outcomes[0].measure == "MNLN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('groups = ["Stent"]', "'groups' must name two different groups, experimental first"),
        ('groups = ["Stent", "stent"]', "'groups' must name two different groups"),
        ('groups = ["Stent", ""]', "'groups' must name two different groups"),
        ('groups = "Stent, No stent"', "'groups' must name two different groups"),
        ('groups = ["A", "B"]\nmeasure = "MD"',
         "measure 'MD' does not fit a two-group binary outcome (choose RR, OR, RD, PETO)"),
        ('measure = "RR"',
         "measure 'RR' does not fit a one-group binary outcome (choose PLO, PFT, PAS, PR, PLN)"),
        ('kind = "continuous"\ngroups = ["A", "B"]\nmeasure = "OR"',
         "does not fit a two-group continuous outcome (choose MD, SMD, ROM)"),
        ('measure = 3', "'measure' must be a string"),
    ],
)  # fmt: skip
def test_bad_two_group_outcomes_give_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[[outcomes]]\nkey = "tb"\n{text}\n', encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    line = str(caught.value)
    assert line.startswith(f"{path}: outcome 'tb': ") and message in line, line
    assert "\n" not in line
