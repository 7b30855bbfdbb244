"""The consensus extraction as a table: one row per study (wide) or one row per value (long).

Wide columns: ``study``, ``reports`` (the PMIDs, or record ids, of its reports, ``;``-separated),
then the form's study fields in form order (``country``, ``design``, …), then the outcome parts
(``outcome.mortality.events``, ``outcome.mortality.total``, …). Integers are nullable
``Int64``, numbers ``float64``, the rest text; an empty cell is a value nobody set.

Long columns: ``study``, ``field``, ``value``, ``source``, ``decided_by`` (only values set).

The studies are the included ones (full-text includes linked to a study) plus studies without
reports that have consensus values (imported from a sheet). This frame is what pooling reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reviewflow.access.guard import require_lead
from reviewflow.cells import protect_sheet, safe_frame
from reviewflow.errors import InputError
from reviewflow.extraction.consensus import compare, consensus_values
from reviewflow.extraction.forms import Form
from reviewflow.extraction.studies import StudyInfo, list_studies, studies_with_consensus
from reviewflow.store.engine import Store

LONG_COLUMNS = ["study", "field", "value", "source", "decided_by"]


def export_studies(store: Store, reviewers_per_record: int) -> list[StudyInfo]:
    """The included studies, and studies without any report that have consensus values (from
    an imported sheet). A study whose reports are no longer included is left out."""
    by_id = {st.id: st for st in list_studies(store, reviewers_per_record)}
    for st in studies_with_consensus(store):
        if not st.reports:
            by_id.setdefault(st.id, st)
    return sorted(by_id.values(), key=lambda st: st.label)


def _reports(st: StudyInfo) -> str:
    return ";".join(r.pmid or f"record {r.record_id}" for r in st.reports)


def extraction_frame(
    store: Store, form: Form, reviewers_per_record: int = 2, *, long: bool = False
) -> pd.DataFrame:
    """The consensus extraction as a pandas DataFrame (see the module docstring)."""
    studies = export_studies(store, reviewers_per_record)
    values = consensus_values(store, [st.id for st in studies])
    if long:
        rows = [
            {
                "study": st.label,
                "field": f.key,
                "value": row.value,
                "source": row.source,
                "decided_by": row.decided_by,
            }  # fmt: skip
            for st in studies
            for f in form.fields
            if (row := values.get(st.id, {}).get(f.key)) is not None and row.value != ""
        ]
        return pd.DataFrame(rows, columns=LONG_COLUMNS)
    columns: dict[str, list[str | None]] = {"study": [], "reports": []}
    for f in form.fields:
        columns[f.key] = []
    for st in studies:
        columns["study"].append(st.label)
        columns["reports"].append(_reports(st))
        mine = values.get(st.id, {})
        for f in form.fields:
            row = mine.get(f.key)
            columns[f.key].append(row.value if row is not None and row.value != "" else None)
    frame = pd.DataFrame({"study": columns["study"], "reports": columns["reports"]})
    for f in form.fields:
        cells = columns[f.key]
        if f.type == "integer":
            frame[f.key] = pd.Series([pd.NA if v is None else int(v) for v in cells], dtype="Int64")
        elif f.type == "number":
            frame[f.key] = pd.Series(
                [float("nan") if v is None else float(v) for v in cells], dtype="float64"
            )
        else:
            frame[f.key] = pd.Series(cells, dtype="object")
    return frame


def as_typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its number columns as text the way people write them: 6, not 6.0."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == "float64":
            out[column] = [
                "" if pd.isna(x) else (str(int(x)) if float(x).is_integer() else repr(float(x)))
                for x in out[column]
            ]
    return out


def write_extraction(frame: pd.DataFrame, out: Path, fmt: str) -> None:
    """Write the frame as CSV (UTF-8, empty cells for missing, numbers as typed) or xlsx (one
    sheet); no text cell can act as a formula (:mod:`reviewflow.cells`)."""
    try:
        if fmt == "csv":
            # "\r\n" (RFC 4180): with "\n" a "\r" inside a value would not be quoted
            safe_frame(as_typed(frame)).to_csv(
                out, index=False, encoding="utf-8", lineterminator="\r\n"
            )
        elif fmt == "xlsx":
            with pd.ExcelWriter(out, engine="openpyxl") as book:
                frame.to_excel(book, index=False, sheet_name="extraction")
                protect_sheet(book.sheets["extraction"])
        else:
            raise InputError(f"unknown export format {fmt!r}: use csv or xlsx")
    except OSError as exc:
        raise InputError(f"{out}: cannot write ({exc.strerror})") from None


def outcome_table(
    store: Store,
    form: Form,
    outcome: str,
    reviewers_per_record: int = 2,
    subgroup: str | None = None,
    moderators: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str]]:
    """One outcome of the consensus extraction as a pooling table: columns ``study`` and the
    outcome's parts (``events``, ``total`` for a binary outcome; ``mean``, ``sd``, ``n`` for a
    continuous one; numbered 1 and 2 for two groups: ``events1`` … ``total2``, ``mean1`` …
    ``n2``), ``subgroup`` (a study field) when asked, and each moderator (a study field) under
    its own name, a missing value as None. Studies that lack a part are left out and
    returned by label."""
    spec = form.outcome(outcome)
    parts = {key: key.rsplit(".", 1)[1] for key in spec.part_keys()}
    for name, option in [(subgroup, "group by"), *((m, "use as a moderator") for m in moderators)]:
        if name is not None and (not form.has(name) or name.startswith("outcome.")):
            fields = ", ".join(f.key for f in form.study_fields) or "none"
            raise InputError(f"{form.path.name}: no study field {name!r} to {option} ({fields})")
        if name in parts.values():
            raise InputError(
                f"{form.path.name}: study field {name!r} has the name of an outcome part; "
                "rename it to use it here"
            )
    frame = extraction_frame(store, form, reviewers_per_record)
    has = frame[list(parts)].notna().all(axis=1)
    skipped = [str(s) for s in frame.loc[~has, "study"]]
    columns = ["study", *parts] + ([subgroup] if subgroup else [])
    table = frame.loc[has, columns].rename(columns=parts)
    if subgroup:
        table = table.rename(columns={subgroup: "subgroup"})
        table["subgroup"] = table["subgroup"].astype("object").where(table["subgroup"].notna(), "")
    for m in moderators:
        cells = frame.loc[has, m]
        table[m] = cells.astype("object").where(cells.notna(), None)
    return table.reset_index(drop=True), skipped


def outcome_gaps(
    store: Store, form: Form, outcome: str, reviewers_per_record: int = 2
) -> tuple[list[str], list[str]]:
    """The studies (by label) that lack a part of ``outcome`` in the consensus extraction, in
    two kinds: (pending, not reported). Pending: the extraction of that outcome is not settled
    yet: not every reviewer has finished the study (or nobody has begun it and it has no
    consensus value at all), or a reviewer entered one of its parts and that field has no
    consensus value yet (a discrepancy, or an agreement not yet accepted). Not reported: the
    study is settled and its consensus lacks the outcome (every reviewer left it empty, or an
    imported sheet has no value). PRISMA counts the first as awaiting, the second as missing."""
    require_lead(store, "the extraction's gaps")
    parts = set(form.outcome(outcome).part_keys())
    studies = export_studies(store, reviewers_per_record)
    values = consensus_values(store, [st.id for st in studies])
    compared = {c.study_id: c for c in compare(store, form, required=reviewers_per_record)}
    pending: list[str] = []
    missing: list[str] = []
    for st in studies:
        mine = values.get(st.id, {})
        if all(key in mine and mine[key].value != "" for key in parts):
            continue
        c = compared.get(st.id)
        if c is not None and not c.waiting:
            unsettled = {f.key for f in c.fields if f.consensus is None} & parts
        else:  # not finished by everyone, or not begun: settled only by an imported sheet
            unsettled = parts if c is not None or not mine else set()
        (pending if unsettled else missing).append(st.label)
    return pending, missing
