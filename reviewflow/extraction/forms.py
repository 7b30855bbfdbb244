"""The extraction form: a TOML file in the workspace's ``forms/`` folder.

A form has study-level fields and outcome blocks::

    [form]
    title = "Rescue stenting after failed thrombectomy"

    [[fields]]
    key = "design"
    label = "Study design"
    type = "choice"                  # text | integer | number | choice | yesno | date
    choices = ["prospective", "retrospective"]
    required = true
    help = "As stated in the methods section"

    [[fields]]
    key = "patients"
    type = "integer"
    min = 1
    unit = "patients"

    [[outcomes]]
    key = "mortality"
    label = "Mortality at 90 days"
    kind = "binary"                  # binary: events / total; continuous: mean / sd / n

    [[outcomes]]
    key = "tb"
    label = "Tuberculosis"
    kind = "binary"
    groups = ["Vaccinated", "Not vaccinated"]   # two groups: events1/total1, events2/total2
    measure = "OR"                   # optional: how `reviewflow pool` pools it (metafor's names)

Every outcome becomes fields named ``outcome.<key>.events`` and ``outcome.<key>.total`` (or
``.mean``, ``.sd``, ``.n``); an outcome with ``groups`` has them per group, numbered 1
(experimental) and 2 (control): ``outcome.<key>.events1`` … ``.total2`` or ``.mean1`` …
``.n2``. These are the names stored in the database, used as export columns, and the
columns ``reviewflow pool`` reads. Any mistake in the file is one :class:`FormError` naming
the file and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewflow.errors import InputError

FIELD_TYPES = ("text", "integer", "number", "choice", "yesno", "date")
OUTCOME_KINDS = ("binary", "continuous")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_KEYS = ("study", "reports", "outcome")


class FormError(InputError):
    """The form file is not a valid extraction form (names the file and the field)."""


@dataclass(frozen=True)
class FormField:
    """One value a reviewer enters for a study (``key`` is the stored field name)."""

    key: str
    label: str
    type: str
    help: str = ""
    unit: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    outcome: str = ""  # the outcome key, for outcome.<key>.<part> fields
    part: str = ""  # events | total | mean | sd | n, numbered 1/2 in a two-group outcome
    group: str = ""  # the group's name, in a two-group outcome

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")


# (kind, two groups) → the data type pooling calls it (reviewflow.pooling.measures)
FAMILIES = {
    ("binary", False): "proportion",
    ("continuous", False): "mean",
    ("binary", True): "binary",
    ("continuous", True): "continuous",
}
_BASE_PARTS = {"binary": ("events", "total"), "continuous": ("mean", "sd", "n")}


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    kind: str = "binary"
    help: str = ""
    unit: str = ""  # continuous outcomes: the unit of mean and SD
    groups: tuple[str, ...] = ()  # two names for a two-group outcome, else empty
    measure: str = ""  # the measure pooling uses by default ("" = the data type's default)

    @property
    def family(self) -> str:
        """The data type pooling sees: proportion, mean, binary or continuous."""
        return FAMILIES[self.kind, bool(self.groups)]

    def parts(self) -> tuple[str, ...]:
        """``events, total`` … or, with two groups, ``events1, total1, events2, total2`` …"""
        base = _BASE_PARTS[self.kind]
        if not self.groups:
            return base
        return tuple(f"{p}{g}" for g in ("1", "2") for p in base)

    def part_keys(self) -> tuple[str, ...]:
        return tuple(f"outcome.{self.key}.{p}" for p in self.parts())


@dataclass(frozen=True)
class Form:
    """A parsed form: study fields then outcome fields, in the file's order."""

    path: Path
    title: str
    study_fields: tuple[FormField, ...]
    outcomes: tuple[Outcome, ...]
    outcome_fields: tuple[FormField, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def fields(self) -> tuple[FormField, ...]:
        return self.study_fields + self.outcome_fields

    def keys(self) -> list[str]:
        return [f.key for f in self.fields]

    def get(self, key: str) -> FormField:
        for f in self.fields:
            if f.key == key:
                return f
        raise InputError(f"{self.path.name}: the form has no field {key!r}")

    def has(self, key: str) -> bool:
        return any(f.key == key for f in self.fields)

    def outcome(self, key: str) -> Outcome:
        for o in self.outcomes:
            if o.key == key:
                return o
        known = ", ".join(o.key for o in self.outcomes) or "none"
        raise InputError(f"{self.path.name}: no outcome {key!r} (outcomes: {known})")


# part → (label, type, help, unit is the outcome's, minimum)
_PART_SPECS = {
    "events": ("events", "integer", "Patients with the outcome", False, 0.0),
    "total": ("total", "integer", "Patients assessed for the outcome", False, 1.0),
    "mean": ("mean", "number", "", True, None),
    "sd": ("SD", "number", "", True, 0.0),
    "n": ("n", "integer", "", False, 1.0),
}


def _outcome_fields(o: Outcome) -> tuple[FormField, ...]:
    out = []
    for part in o.parts():
        base, number = part.rstrip("12"), part[len(part.rstrip("12")) :]
        name, ftype, help_text, own_unit, minimum = _PART_SPECS[base]
        group = o.groups[int(number) - 1] if number else ""
        unit = o.unit if own_unit else "patients"
        out.append(
            FormField(
                f"outcome.{o.key}.{part}",
                f"{o.label}: {group + ' ' if group else ''}{name}",
                ftype,
                help=help_text,
                unit=unit,
                minimum=minimum,
                outcome=o.key,
                part=part,
                group=group,
            )
        )
    return tuple(out)


def _number(value: Any, where: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormError(f"{where}: '{name}' must be a number, not {value!r}")
    return float(value)


def _string(entry: dict[str, Any], name: str, where: str, default: str = "") -> str:
    value = entry.get(name, default)
    if not isinstance(value, str):
        raise FormError(f"{where}: '{name}' must be a string, not {value!r}")
    return value.strip()


def _key(entry: dict[str, Any], where: str, seen: set[str]) -> str:
    key = entry.get("key")
    if not isinstance(key, str) or not key:
        raise FormError(f"{where}: needs a 'key' (a name like \"mean_age\")")
    if not KEY_PATTERN.match(key):
        raise FormError(
            f"{where}: key {key!r} must be lower-case letters, digits and _ (starting with a letter)"
        )
    if key in RESERVED_KEYS:
        raise FormError(f"{where}: key {key!r} is reserved; choose another name")
    if key in seen:
        raise FormError(f"{where}: key {key!r} is used twice")
    seen.add(key)
    return key


_FIELD_KEYS = {"key", "label", "type", "help", "unit", "required", "min", "max", "choices"}
_OUTCOME_KEYS = {"key", "label", "kind", "help", "unit", "groups", "measure"}


def _parse_field(entry: Any, i: int, where0: str, seen: set[str]) -> FormField:
    where = f"{where0}: [[fields]] entry {i}"
    if not isinstance(entry, dict):
        raise FormError(f"{where}: must be a table")
    key = _key(entry, where, seen)
    where = f"{where0}: field '{key}'"
    unknown = sorted(set(entry) - _FIELD_KEYS)
    if unknown:
        raise FormError(
            f"{where}: unknown setting {unknown[0]!r} (settings: {', '.join(sorted(_FIELD_KEYS))})"
        )
    ftype = entry.get("type", "text")
    if ftype == "yes/no":
        ftype = "yesno"
    if ftype not in FIELD_TYPES:
        raise FormError(f"{where}: unknown type {ftype!r} (types: {', '.join(FIELD_TYPES)})")
    required = entry.get("required", False)
    if not isinstance(required, bool):
        raise FormError(f"{where}: 'required' must be true or false")
    minimum = _number(entry.get("min"), where, "min")
    maximum = _number(entry.get("max"), where, "max")
    if (minimum is not None or maximum is not None) and ftype not in ("integer", "number"):
        raise FormError(f"{where}: 'min'/'max' apply only to integer and number fields")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise FormError(f"{where}: 'min' ({minimum:g}) is greater than 'max' ({maximum:g})")
    choices = entry.get("choices")
    if ftype == "choice":
        if (
            not isinstance(choices, list)
            or not choices
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            raise FormError(f"{where}: a choice field needs 'choices', a list of strings")
        if len({c.strip().lower() for c in choices}) != len(choices):
            raise FormError(f"{where}: 'choices' lists a choice twice")
    elif choices is not None:
        raise FormError(f"{where}: 'choices' apply only to choice fields")
    return FormField(
        key=key,
        label=_string(entry, "label", where, key.replace("_", " ").capitalize()),
        type=ftype,
        help=_string(entry, "help", where),
        unit=_string(entry, "unit", where),
        required=required,
        minimum=minimum,
        maximum=maximum,
        choices=tuple(c.strip() for c in choices) if ftype == "choice" and choices else (),
    )


def _parse_outcome(entry: Any, i: int, where0: str, seen: set[str]) -> Outcome:
    where = f"{where0}: [[outcomes]] entry {i}"
    if not isinstance(entry, dict):
        raise FormError(f"{where}: must be a table")
    key = _key(entry, where, seen)
    where = f"{where0}: outcome '{key}'"
    unknown = sorted(set(entry) - _OUTCOME_KEYS)
    if unknown:
        raise FormError(
            f"{where}: unknown setting {unknown[0]!r} (settings: {', '.join(sorted(_OUTCOME_KEYS))})"
        )
    kind = entry.get("kind", "binary")
    if kind not in OUTCOME_KINDS:
        raise FormError(f"{where}: unknown kind {kind!r} (kinds: {', '.join(OUTCOME_KINDS)})")
    groups = entry.get("groups", [])
    if (
        not isinstance(groups, list)
        or len(groups) not in (0, 2)
        or not all(isinstance(g, str) and g.strip() for g in groups)
        or len({g.strip().lower() for g in groups}) != len(groups)
    ):
        raise FormError(
            f"{where}: 'groups' must name two different groups, experimental first "
            '(e.g. groups = ["Stent", "No stent"])'
        )
    outcome = Outcome(
        key=key,
        label=_string(entry, "label", where, key.replace("_", " ").capitalize()),
        kind=kind,
        help=_string(entry, "help", where),
        unit=_string(entry, "unit", where),
        groups=tuple(g.strip() for g in groups),
        measure=_string(entry, "measure", where).upper(),
    )
    if outcome.measure:
        _check_measure(outcome, where)
    return outcome


def _check_measure(outcome: Outcome, where: str) -> None:
    from reviewflow.pooling.measures import MEASURES

    fitting = [m.name for m in MEASURES.values() if m.family == outcome.family]
    if outcome.measure not in fitting:
        what = f"{'a two-group' if outcome.groups else 'a one-group'} {outcome.kind} outcome"
        raise FormError(
            f"{where}: measure {outcome.measure!r} does not fit {what} "
            f"(choose {', '.join(fitting)})"
        )


def parse_form(text: str, path: Path) -> Form:
    """Parse a form's text; ``path`` names it in messages."""
    where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormError(f"{where}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"form", "fields", "outcomes"})
    if unknown:
        raise FormError(
            f"{where}: unknown section {unknown[0]!r} (sections: form, fields, outcomes)"
        )
    head = data.get("form", {})
    if not isinstance(head, dict):
        raise FormError(f"{where}: [form] must be a table")
    fields_raw = data.get("fields", [])
    outcomes_raw = data.get("outcomes", [])
    if not isinstance(fields_raw, list):
        raise FormError(f"{where}: 'fields' must be an array of tables ([[fields]])")
    if not isinstance(outcomes_raw, list):
        raise FormError(f"{where}: 'outcomes' must be an array of tables ([[outcomes]])")
    if not fields_raw and not outcomes_raw:
        raise FormError(f"{where}: the form has no [[fields]] and no [[outcomes]]")
    seen: set[str] = set()
    study_fields = tuple(_parse_field(e, i, where, seen) for i, e in enumerate(fields_raw, 1))
    seen_outcomes: set[str] = set()
    outcomes = tuple(
        _parse_outcome(e, i, where, seen_outcomes) for i, e in enumerate(outcomes_raw, 1)
    )
    return Form(
        path=path,
        title=_string(head, "title", f"{where}: [form]", path.stem),
        study_fields=study_fields,
        outcomes=outcomes,
        outcome_fields=tuple(f for o in outcomes for f in _outcome_fields(o)),
    )


def load_form(path: Path) -> Form:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise FormError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_form(text, path)


def find_form(forms_dir: Path, name: str | None = None) -> Form:
    """The workspace's form: ``forms/NAME.toml`` when named, else the only form there."""
    if name:
        candidate = Path(name)
        if candidate.suffix != ".toml":
            candidate = forms_dir / f"{name}.toml"
        elif not candidate.is_absolute() and not candidate.exists():
            candidate = forms_dir / candidate.name
        if not candidate.is_file():
            raise FormError(f"{candidate}: no such form")
        return load_form(candidate)
    forms = sorted(forms_dir.glob("*.toml")) if forms_dir.is_dir() else []
    if not forms:
        raise FormError(
            f"{forms_dir}: no extraction form (*.toml); write one (see reviewflow/extraction/forms.py)"
        )
    if len(forms) > 1:
        names = ", ".join(f.stem for f in forms)
        raise FormError(f"{forms_dir}: several forms ({names}); choose one with --form NAME")
    return load_form(forms[0])


def shipped_form(name: str = "rescue_stenting") -> Form:
    """A form shipped with reviewflow (the reference review's form)."""
    from importlib.resources import as_file, files

    resource = files("reviewflow.extraction").joinpath("forms", f"{name}.toml")
    with as_file(resource) as path:
        return parse_form(resource.read_text(encoding="utf-8"), Path(path))
