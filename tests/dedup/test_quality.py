"""Accuracy on the labelled sets (bib-dedupe's hand-corrected groups)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from reviewflow.acquire.readers import read_file
from reviewflow.dedup.evaluate import pairwise
from reviewflow.dedup.pipeline import deduplicate
from tests.dedup.helpers import DATA, evaluate

CORPUS_SCRIPT = Path(__file__).parents[2] / "benchmarks" / "make_dedup_corpus.py"


@pytest.mark.parametrize("name", ["cytology_screening", "haematology", "special_cases"])
def test_no_false_merges(name: str) -> None:
    _records, _result, metrics = evaluate(name)
    assert metrics.merged_pairs > 0
    assert metrics.precision >= 0.999, f"{metrics.false_merges} false merges"


@pytest.mark.parametrize(
    ("name", "reached"), [("cytology_screening", 0.992), ("special_cases", 1.0)]
)
def test_sensitivity(name: str, reached: float) -> None:
    """Issue 4 asks for 0.95; these pin the level reached so a regression shows. Cytology
    misses 7 of 909 pairs: 3 with the same title in one volume at different (touching) pages
    (Cleve Clin J Med 69:945 vs 948, J Clin Virol 51:246 vs 250: different pages in the same
    volume are never merged, a person decides), 3 with "p6INK4a" against "p16(INK4a)" (a
    different number in the title) and 1 with another title ("atypical repair" vs "atrophy")
    and other co-authors: all queued as maybe pairs."""
    _records, _result, metrics = evaluate(name)
    assert metrics.sensitivity >= max(0.95, reached), (
        f"{metrics.missed} of {metrics.true_pairs} pairs missed"
    )


def test_haematology_sensitivity() -> None:
    """The haematology labels group more than one paper per study; reviewflow refuses those
    merges by rule (issue 4). 136 of 163 pairs are merged (0.834); the 27 missed:

    - 10 erratum against its article (NEJM 360:542 and the correction at 2487; PNAS 104:240
      and its erratum; Am J Hematol 85:553 and the erratum at 911): vetoed.
    - 7 trial registrations of four different trials (adults vs adolescents,
      plasma-therapy-sensitive vs -resistant): different titles, never merged.
    - 5 the same title three times in one volume at different pages (Am J Transplant 9:1223,
      2205, 2647, reprints or corrections without a notice word): different pages in the same
      volume, queued as maybe.
    - 3 meeting abstract against the article at other pages (Pediatr Nephrol 25:1875 vs 2539,
      22:1514 vs 2129; Pediatr Transplant 15:22 vs 52): vetoed or queued.
    - 1 the same abstract at two meetings in two journals (Br J Haematol 145 vs Haematologica
      94): queued.
    - 1 a NEJM letter under two titles ("Eculizumab in…" vs "Complement blockade in…"), one
      without volume or pages: different titles.

    The letter (Pediatr Nephrol 19:943-944) and its reply (945) are one group since issue 15:
    Embase's "(multiple letters)" record holds both, with every author of both.
    bib-dedupe 0.11 reaches 0.828 on this set, with 2 false merges."""
    _records, _result, metrics = evaluate("haematology")
    assert metrics.sensitivity >= 0.834, f"{metrics.missed} of {metrics.true_pairs} pairs missed"


def test_special_cases_maybe_pairs_are_not_merged_but_queued() -> None:
    records, result, _metrics = evaluate("special_cases")
    ids = [r.source_key for r in records]
    queued = {frozenset((ids[p.a], ids[p.b])) for p in result.maybe}
    with (DATA / "special_cases" / "maybe_pairs.csv").open(encoding="utf-8") as fh:
        wanted = {frozenset(row["case"].split(";")) for row in csv.DictReader(fh)}
    assert wanted
    for pair in wanted:
        a, b = sorted(pair)
        assert result.group_of[ids.index(a)] != result.group_of[ids.index(b)]
        assert pair in queued


def test_every_record_in_exactly_one_group() -> None:
    records, result, _metrics = evaluate("cytology_screening")
    members = sorted(i for group in result.groups for i in group)
    assert members == list(range(len(records)))
    assert result.duplicates_removed == len(records) - len(result.groups)


def test_generated_export_noise_keeps_precision(tmp_path: Path) -> None:
    """3,000 records made from the labelled sets by benchmarks/make_dedup_corpus.py with the
    export faults of issue 15 on 30% of the duplicates (as bench_dedup.py measures on 5,000),
    read back from its CSV: no false merge, and the level reached (912 of 960 pairs, 0.950)
    pinned so a regression shows."""
    spec = importlib.util.spec_from_file_location("make_dedup_corpus", CORPUS_SCRIPT)
    assert spec is not None and spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    rows, truth = corpus.generate(3000, seed=15, export=0.3)
    path = tmp_path / "records.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=corpus.COLUMNS)
        writer.writeheader()
        writer.writerows({k: r.get(k, "") for k in corpus.COLUMNS} for r in rows)
    records = read_file(path, mapping={"source_key": "ID"})
    result = deduplicate(records)
    ids = [r.source_key for r in records]
    metrics = pairwise([[ids[i] for i in g] for g in result.groups if len(g) > 1], truth)
    assert metrics.true_pairs > 500
    assert metrics.precision >= 0.999, f"{metrics.false_merges} false merges"
    assert metrics.sensitivity >= 0.95, f"{metrics.missed} of {metrics.true_pairs} missed"
