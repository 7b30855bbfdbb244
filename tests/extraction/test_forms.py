"""Form files: the shipped reference form, and one clear line for every kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewflow.extraction.forms import FormError, find_form, load_form, parse_form, shipped_form
from tests.extraction.helpers import VASOSPASM_FORM

GOOD_FIELD = '[[fields]]\nkey = "patients"\ntype = "integer"\nmin = 1\n'


def test_reference_form_has_the_reviews_fields_and_outcomes() -> None:
    form = shipped_form()
    assert [f.key for f in form.study_fields] == [
        "country", "design", "centres", "patients", "mean_age", "nihss_mean", "nihss_sd",
        "occlusion_site", "stent_device", "angioplasty", "gp_inhibitor", "antiplatelet",
    ]  # fmt: skip
    assert [o.key for o in form.outcomes] == [
        "favourable_outcome", "mortality", "recanalisation", "sich",
    ]  # fmt: skip
    assert form.get("design").choices == ("prospective", "retrospective")
    assert form.get("angioplasty").type == "yesno"
    assert form.get("outcome.mortality.events").type == "integer"
    assert form.get("outcome.mortality.total").minimum == 1
    assert "mRS 0–2 at 90 days" in form.outcome("favourable_outcome").label
    assert "TICI 2b–3" in form.outcome("recanalisation").label
    assert len(form.fields) == 12 + 4 * 2


def test_init_copies_the_reference_form(sqlite_workspace) -> None:  # type: ignore[no-untyped-def]
    form = find_form(sqlite_workspace.forms_dir)
    assert form.name == "rescue_stenting"
    assert form.keys() == shipped_form().keys()


def test_continuous_outcome_has_mean_sd_n(tmp_path: Path) -> None:
    text = '[[outcomes]]\nkey = "nihss_24h"\nlabel = "NIHSS at 24 h"\nkind = "continuous"\nunit = "points"\n'
    form = parse_form(text, tmp_path / "f.toml")
    assert form.keys() == ["outcome.nihss_24h.mean", "outcome.nihss_24h.sd", "outcome.nihss_24h.n"]
    assert form.get("outcome.nihss_24h.sd").minimum == 0


def test_test_form_of_pritz_data_parses() -> None:
    form = load_form(VASOSPASM_FORM)
    assert form.keys() == ["outcome.improvement.events", "outcome.improvement.total"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[fields]\nkey = 1", "invalid TOML"),
        ('[[fields]]\nkey = "age"\ntype = "float"\n', "field 'age': unknown type 'float'"),
        (
            '[[fields]]\nkey = "design"\ntype = "choice"\n',
            "field 'design': a choice field needs 'choices'",
        ),
        (
            '[[fields]]\nkey = "design"\ntype = "choice"\nchoices = []\n',
            "field 'design': a choice field needs 'choices'",
        ),
        (
            '[[fields]]\nkey = "x"\ntype = "choice"\nchoices = ["a", "A"]\n',
            "field 'x': 'choices' lists a choice twice",
        ),
        (
            '[[fields]]\nkey = "age"\ntype = "text"\nmin = 1\n',
            "field 'age': 'min'/'max' apply only",
        ),
        (
            '[[fields]]\nkey = "age"\ntype = "number"\nmin = 5\nmax = 1\n',
            "field 'age': 'min' (5) is greater than 'max' (1)",
        ),
        (
            '[[fields]]\nkey = "age"\ntype = "number"\nmin = "5"\n',
            "field 'age': 'min' must be a number",
        ),
        (
            '[[fields]]\nkey = "age"\nrequired = "yes"\n',
            "field 'age': 'required' must be true or false",
        ),
        ('[[fields]]\nkey = "age"\nlable = "Age"\n', "field 'age': unknown setting 'lable'"),
        ('[[fields]]\nlabel = "Age"\n', "[[fields]] entry 1: needs a 'key'"),
        ('[[fields]]\nkey = "Mean age"\n', "key 'Mean age' must be lower-case"),
        ('[[fields]]\nkey = "study"\n', "key 'study' is reserved"),
        (GOOD_FIELD + GOOD_FIELD, "[[fields]] entry 2: key 'patients' is used twice"),
        (
            '[[outcomes]]\nkey = "death"\nkind = "ordinal"\n',
            "outcome 'death': unknown kind 'ordinal'",
        ),
        ('[[outcomes]]\nkey = "death"\nevents = 3\n', "outcome 'death': unknown setting 'events'"),
        ('[form]\ntitle = "x"\n', "the form has no [[fields]] and no [[outcomes]]"),
        ('[[field]]\nkey = "x"\n', "unknown section 'field'"),
        ('fields = "x"\n', "'fields' must be an array of tables"),
    ],
)
def test_bad_forms_give_one_line_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormError) as caught:
        load_form(path)
    line = str(caught.value)
    assert line.startswith(str(path)), line
    assert message in line
    assert "\n" not in line


def test_find_form_needs_one_or_a_name(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="no extraction form"):
        find_form(tmp_path)
    (tmp_path / "a.toml").write_text(GOOD_FIELD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD_FIELD, encoding="utf-8")
    with pytest.raises(FormError, match=r"several forms \(a, b\); choose one with --form NAME"):
        find_form(tmp_path)
    assert find_form(tmp_path, "b").name == "b"
    with pytest.raises(FormError, match="no such form"):
        find_form(tmp_path, "c")


def test_form_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[[fields]]\nkey = "country"\nhelp = "Pays d\'étude"\n'.encode("latin-1"))
    with pytest.raises(FormError, match=r"latin1.toml: not UTF-8 text \(byte 42\)"):
        load_form(path)
