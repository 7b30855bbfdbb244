"""The consensus table: export (CSV, xlsx, long) read back with pandas, and sheet import (good
and bad). The sheet is metadat's dat.pritz1997 (tests/data/extraction/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import func, select

from reviewflow.errors import InputError
from reviewflow.extraction.consensus import consensus_values, set_consensus
from reviewflow.extraction.export import extraction_frame, outcome_table, write_extraction
from reviewflow.extraction.forms import Form, load_form
from reviewflow.extraction.sheet_import import import_sheet
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, ConsensusValue, Study
from tests.extraction.conftest import Review
from tests.extraction.helpers import PRITZ, VASOSPASM_FORM, pritz_counts

EVENTS, TOTAL = "outcome.improvement.events", "outcome.improvement.total"


@pytest.fixture
def vasospasm() -> Form:
    return load_form(VASOSPASM_FORM)


def counts(store: Store) -> tuple[int, int, int]:
    with store.read() as s:
        return (
            s.scalar(select(func.count()).select_from(ConsensusValue)) or 0,
            s.scalar(select(func.count()).select_from(Study)) or 0,
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def test_import_pritz_sheet_then_export_csv_and_xlsx_round_trip(
    review: Review, vasospasm: Form, tmp_path: Path
) -> None:
    result = import_sheet(review.store, vasospasm, PRITZ, "adjudicator", create_studies=True)
    assert (result.studies, result.values, len(result.created_studies)) == (14, 28, 14)
    frame = extraction_frame(review.store, vasospasm)
    pritz = {name: (x, n) for name, x, n in pritz_counts()}
    assert list(frame.columns) == ["study", "reports", EVENTS, TOTAL]
    imported = frame[frame["study"].isin(list(pritz))]
    assert len(imported) == 14
    assert {r.study: (r[EVENTS], r[TOTAL]) for _, r in imported.iterrows()} == pritz
    assert str(frame[EVENTS].dtype) == "Int64"
    # the 5 included studies of the review have no values for this form: empty cells
    assert frame[~frame["study"].isin(list(pritz))][EVENTS].isna().all()

    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"extraction.{fmt}"
        write_extraction(frame, out, fmt)
        back = pd.read_csv(out) if fmt == "csv" else pd.read_excel(out, sheet_name="extraction")
        assert list(back.columns) == list(frame.columns)
        assert back["study"].tolist() == frame["study"].tolist()
        for col in (EVENTS, TOTAL):
            assert back[col].astype("Int64").tolist() == frame[col].tolist()

    # the exported CSV imports again (reports column ignored) and changes nothing
    before = counts(review.store)
    again = import_sheet(review.store, vasospasm, tmp_path / "extraction.csv", "adjudicator")
    assert again.values == 0 and counts(review.store) == before


def test_long_format_lists_each_value_with_its_source(review: Review, vasospasm: Form) -> None:
    import_sheet(review.store, vasospasm, PRITZ, "adjudicator", create_studies=True)
    long = extraction_frame(review.store, vasospasm, long=True)
    assert list(long.columns) == ["study", "field", "value", "source", "decided_by"]
    assert len(long) == 28
    giannotta = long[long["study"] == "Giannotta et al."]
    assert giannotta[["field", "value"]].values.tolist() == [[EVENTS, "16"], [TOTAL, "17"]]
    assert set(long["source"]) == {"imported"} and set(long["decided_by"]) == {"adjudicator"}


def test_reference_form_export_types_and_outcome_table(review: Review) -> None:
    form = review.form
    a, b = review.studies[0], review.studies[1]
    # Pritz 1997 counts (Levy et al. 18/23, Solomon et al. 6/10) entered as mortality
    for study, values in (
        (a, {"country": "USA", "design": "retrospective", "patients": "23", "mean_age": "61.5",
             "angioplasty": "no", "outcome.mortality.events": "18", "outcome.mortality.total": "23"}),
        (b, {"country": "USA", "design": "prospective", "patients": "10",
             "outcome.mortality.events": "6", "outcome.mortality.total": "10"}),
    ):  # fmt: skip
        for key, value in values.items():
            set_consensus(review.store, form, "adjudicator", study.id, key, value)
    frame = extraction_frame(review.store, form)
    assert list(frame.columns) == ["study", "reports", *form.keys()]
    assert len(frame) == 5
    row = frame.set_index("study").loc[a.label]
    assert (row["country"], row["patients"], row["mean_age"], row["angioplasty"]) == (
        "USA",
        23,
        61.5,
        "no",
    )
    assert row["reports"] == a.reports[0].pmid
    assert str(frame["mean_age"].dtype) == "float64" and str(frame["patients"].dtype) == "Int64"

    table, skipped = outcome_table(review.store, form, "mortality", subgroup="design")
    assert table.to_dict("records") == [
        {"study": a.label, "events": 18, "total": 23, "subgroup": "retrospective"},
        {"study": b.label, "events": 6, "total": 10, "subgroup": "prospective"},
    ]
    assert sorted(skipped) == sorted(s.label for s in review.studies[2:])
    with pytest.raises(InputError, match="no outcome 'death'"):
        outcome_table(review.store, form, "death")
    with pytest.raises(InputError, match="no study field 'region' to group by"):
        outcome_table(review.store, form, "mortality", subgroup="region")


def test_csv_export_writes_numbers_as_typed(review: Review, tmp_path: Path) -> None:
    a, b = review.studies[0], review.studies[1]
    set_consensus(review.store, review.form, "adjudicator", a.id, "nihss_mean", "6")
    set_consensus(review.store, review.form, "adjudicator", b.id, "nihss_mean", "14.5")
    out = tmp_path / "extraction.csv"
    write_extraction(extraction_frame(review.store, review.form), out, "csv")
    rows = {
        r["study"]: r for r in pd.read_csv(out, dtype=str, keep_default_na=False).to_dict("records")
    }
    assert (rows[a.label]["nihss_mean"], rows[b.label]["nihss_mean"]) == ("6", "14.5")
    assert rows[review.studies[2].label]["nihss_mean"] == ""
    back = pd.read_csv(out)  # still numbers for whoever reads the file back
    assert back["nihss_mean"].dtype == "float64"


def bad_sheet(tmp_path: Path, edit: str, new: str) -> Path:
    text = PRITZ.read_text(encoding="utf-8")
    assert edit in text
    path = tmp_path / "sheet.csv"
    path.write_text(text.replace(edit, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "new", "message"),
    [
        ("Kassell et al.,43,58", "Kassell et al.,58,43",
         "row 4 (line 5), column 'outcome.improvement.events': Clinical improvement: events (58) exceed total (43)"),
        ("Awad et al.,25,42", "Awad et al.,25,42.5",
         "row 6 (line 7), column 'outcome.improvement.total': Clinical improvement: total: must be a whole number (got '42.5')"),
        ("Finn et al.,13,14", "Finn et al.,-1,14",
         "row 7 (line 8), column 'outcome.improvement.events': Clinical improvement: events: must be at least 0"),
        ("study,", "Study,", "no 'study' column"),
        ("outcome.improvement.total", "outcome.improvment.total",
         "column 3 ('outcome.improvment.total') is not a field of the form vasospasm.toml"),
        ("Levy et al.,18,23", "Shimoda et al.,18,23", "row 13 (line 14), column 'study': 'Shimoda et al.' is also in row 12"),
        ("Levy et al.,18,23", ",18,23", "row 12 (line 13), column 'study': empty study label"),
        ("Solomon et al.,6,10", "Solomon et al.,6", "row 14 (line 15): 2 cells, the header has 3"),
    ],
)  # fmt: skip
def test_bad_sheet_names_row_and_column_and_imports_nothing(
    review: Review, vasospasm: Form, tmp_path: Path, edit: str, new: str, message: str
) -> None:
    path = bad_sheet(tmp_path, edit, new)
    before = counts(review.store)
    with pytest.raises(InputError) as caught:
        import_sheet(review.store, vasospasm, path, "adjudicator", create_studies=True)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert counts(review.store) == before


def test_unknown_study_without_create_imports_nothing(review: Review, vasospasm: Form) -> None:
    before = counts(review.store)
    with pytest.raises(
        InputError, match=r"row 1 \(line 2\), column 'study': no study labelled 'Giannotta et al.'"
    ):
        import_sheet(review.store, vasospasm, PRITZ, "adjudicator")
    assert counts(review.store) == before


def test_sheet_for_existing_studies_and_other_delimiters(review: Review, tmp_path: Path) -> None:
    a = review.studies[0]
    path = tmp_path / "from_excel.csv"
    # a semicolon sheet saved by a spreadsheet, with a byte-order mark
    path.write_bytes(
        ("\ufeffstudy;design;angioplasty;outcome.sich.events;outcome.sich.total\n"
         f"{a.label};Retrospective;Y;4;8\n").encode()  # Swift and Solomon: 4 of 8
    )  # fmt: skip
    result = import_sheet(review.store, review.form, path, "adjudicator")
    assert (result.studies, result.values, result.created_studies) == (1, 4, ())
    values = {k: (r.value, r.source) for k, r in consensus_values(review.store)[a.id].items()}
    assert values == {
        "design": ("retrospective", "imported"),
        "angioplasty": ("yes", "imported"),
        "outcome.sich.events": ("4", "imported"),
        "outcome.sich.total": ("8", "imported"),
    }


def test_sheet_not_utf8_or_empty(review: Review, vasospasm: Form, tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        "study,outcome.improvement.events,outcome.improvement.total\nMüller,1,2\n".encode("latin-1")
    )
    with pytest.raises(InputError, match=r"latin1.csv: not UTF-8 text \(byte 60\)"):
        import_sheet(review.store, vasospasm, latin, "adjudicator", create_studies=True)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty file"):
        import_sheet(review.store, vasospasm, empty, "adjudicator")
    missing = tmp_path / "missing.csv"
    with pytest.raises(InputError, match="missing.csv: cannot read"):
        import_sheet(review.store, vasospasm, missing, "adjudicator")


def test_sheet_checked_against_consensus_already_in_the_review(
    review: Review, tmp_path: Path
) -> None:
    a = review.studies[0]
    set_consensus(review.store, review.form, "adjudicator", a.id, "outcome.mortality.total", "10")
    path = tmp_path / "events_only.csv"
    path.write_text(f"study,outcome.mortality.events\n{a.label},12\n", encoding="utf-8")
    before = counts(review.store)
    with pytest.raises(InputError, match=(
        r"row 1 \(line 2\), column 'outcome.mortality.events': Mortality \(90 days\): events "
        r"\(12\) exceed total \(10\) \(with the consensus values already in the review\)"
    )):  # fmt: skip
        import_sheet(review.store, review.form, path, "adjudicator")
    assert counts(review.store) == before


def test_a_study_no_longer_included_leaves_the_export(review: Review) -> None:
    from reviewflow.store.models import Resolution

    a = review.studies[0]
    set_consensus(review.store, review.form, "adjudicator", a.id, "country", "Austria")
    assert a.label in extraction_frame(review.store, review.form)["study"].tolist()
    with review.store.write() as s:  # the adjudicator excludes its report at full text after all
        s.add(Resolution(record_id=a.reports[0].record_id, stage="full-text", decision="exclude",
                         reason="Wrong study design", resolved_by="adjudicator"))  # fmt: skip
    assert a.label not in extraction_frame(review.store, review.form)["study"].tolist()
