"""Any form text parses or gives a FormError; any typed value is valid or gets a message naming
the field (hypothesis)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewflow.extraction.forms import FIELD_TYPES, Form, FormError, parse_form, shipped_form
from reviewflow.extraction.validate import check_study, check_value

FORM = shipped_form()
LINES = st.sampled_from([
    "[form]", "[[fields]]", "[[outcomes]]", 'key = "age"', 'key = "age"', 'key = "x1"', "key = 3",
    *[f'type = "{t}"' for t in FIELD_TYPES], 'type = "float"', 'choices = ["a", "b"]', "choices = []",
    "min = 0", "max = -1", 'min = "0"', "required = true", 'kind = "continuous"', 'kind = "x"',
    'label = "Âge (ans)"', "help = 1", "=", '"', "[fields]", 'fields = "x"',
])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=12))
def test_any_form_text_parses_or_is_one_line_error(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    try:
        form = parse_form(text, Path("forms/fuzz.toml"))
    except FormError as exc:
        assert str(exc).startswith("forms/fuzz.toml: ") and "\n" not in str(exc)
    else:
        assert isinstance(form, Form) and form.fields


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FORM.keys()), st.text(max_size=20))
def test_any_typed_value_is_valid_or_names_the_field(key: str, text: str) -> None:
    spec = FORM.get(key)
    checked = check_value(spec, text)
    if checked.problem:
        assert checked.problem.startswith(spec.label + ":")
        assert "\n" not in checked.problem
    else:
        assert check_value(spec, checked.normal).normal == checked.normal  # normal form is stable
    for problem in check_study(FORM, {key: text}, complete=True):
        assert FORM.has(problem.key)
