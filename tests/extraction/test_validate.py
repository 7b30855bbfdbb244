"""Validation of entered values against the reference form."""

from __future__ import annotations

import pytest

from reviewflow.extraction.forms import shipped_form
from reviewflow.extraction.validate import check_study, check_value, normal_value

FORM = shipped_form()


@pytest.mark.parametrize(
    ("key", "text", "normal"),
    [
        ("country", "  Germany ", "Germany"),
        ("design", "Retrospective", "retrospective"),
        ("patients", "17", "17"),
        ("patients", " 17 ", "17"),
        ("mean_age", "67.50", "67.5"),
        ("mean_age", "68.0", "68"),
        ("mean_age", ".5", "0.5"),
        ("nihss_mean", "16", "16"),
        ("angioplasty", "Yes", "yes"),
        ("angioplasty", "n", "no"),
        ("gp_inhibitor", "TRUE", "yes"),
        ("outcome.mortality.events", "0", "0"),
        ("country", "", ""),
    ],
)
def test_valid_values_and_their_normal_form(key: str, text: str, normal: str) -> None:
    checked = check_value(FORM.get(key), text)
    assert checked.ok, checked.problem
    assert checked.normal == normal


@pytest.mark.parametrize(
    ("key", "text", "message"),
    [
        ("patients", "12.5", "Patients: must be a whole number (got '12.5')"),
        ("patients", "0", "Patients: must be at least 1 patients (got 0)"),
        ("patients", "1 234", "Patients: must be a whole number (got '1 234')"),
        ("patients", "twelve", "Patients: must be a whole number (got 'twelve')"),
        ("mean_age", "67,5", "Mean age: use a decimal point, not a comma (got '67,5')"),
        ("mean_age", "130", "Mean age: must be at most 120 years (got 130)"),
        ("mean_age", "nan", "Mean age: must be a number (got 'nan')"),
        ("nihss_mean", "43", "Baseline NIHSS: mean: must be at most 42 points (got 43)"),
        (
            "design",
            "case series",
            "Study design: must be one of prospective, retrospective (got 'case series')",
        ),
        ("angioplasty", "maybe", "Angioplasty: must be yes or no (got 'maybe')"),
        (
            "outcome.mortality.events",
            "-1",
            "Mortality (90 days): events: must be at least 0 patients (got -1)",
        ),
        (
            "outcome.mortality.total",
            "0",
            "Mortality (90 days): total: must be at least 1 patients (got 0)",
        ),
    ],
)
def test_invalid_values_name_the_field(key: str, text: str, message: str) -> None:
    assert check_value(FORM.get(key), text).problem == message
    assert normal_value(FORM.get(key), text) is None


def test_date_fields(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reviewflow.extraction.forms import parse_form

    form = parse_form('[[fields]]\nkey = "recruited_until"\ntype = "date"\n', tmp_path / "f.toml")
    f = form.get("recruited_until")
    assert check_value(f, "2019-03-31").normal == "2019-03-31"
    assert check_value(f, "31/03/2019").problem == (
        "Recruited until: must be a date YYYY-MM-DD (got '31/03/2019')"
    )


def test_events_above_total_is_reported_at_the_events_field() -> None:
    # Pritz 1997, Kassell et al.: 43 of 58 (real counts); swapped, they are impossible
    problems = check_study(
        FORM, {"outcome.mortality.events": "58", "outcome.mortality.total": "43"}
    )
    assert [(p.key, p.message) for p in problems] == [
        ("outcome.mortality.events", "Mortality (90 days): events (58) exceed total (43)")
    ]
    assert (
        check_study(FORM, {"outcome.mortality.events": "43", "outcome.mortality.total": "58"}) == []
    )


def test_required_fields_and_half_outcomes_when_complete() -> None:
    values = {"country": "Spain", "outcome.sich.events": "3"}
    assert check_study(FORM, values) == []  # while typing, nothing is missing yet
    messages = [p.message for p in check_study(FORM, values, complete=True)]
    assert messages == [
        "Study design: required",
        "Patients: required",
        "Symptomatic intracerebral haemorrhage: total missing (give both or neither)",
    ]
