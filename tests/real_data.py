"""Real records for tests: the PubMed records of Cohen et al.'s (2006) NSAIDs review
(tests/data/screening/SOURCES.md), as the plain RecordData every stage takes."""

from __future__ import annotations

import csv
from pathlib import Path

from reviewflow.records import RecordData

NSAIDS = Path(__file__).parent / "data" / "screening" / "Cohen2006_NSAIDS.csv"


def nsaids_records(n: int | None = None) -> list[RecordData]:
    """The first ``n`` (default: all 393) real PubMed records of the review (title, authors,
    abstract, year, PMID), with the original review's final label in ``extra``."""
    return cohen_records(NSAIDS, n)


def cohen_records(path: Path, n: int | None = None) -> list[RecordData]:
    """The first ``n`` records of one of Cohen et al.'s (2006) CSV files, read as above."""
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:n]
    return [
        RecordData(
            title=r["title"],
            abstract=r["abstract"],
            authors=[a.strip() for a in r["authors"].split(";") if a.strip()],  # "; " in the file
            year=int(float(r["year"])) if r["year"] else None,
            pmid=r["pubmedID"],
            source_key=r["record_id"],
            extra={"label_included": r["label_included"]},
        )
        for r in rows
    ]
