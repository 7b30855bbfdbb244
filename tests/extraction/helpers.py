"""Building a review whose full-text screening is done, from real PubMed records.

The records are the first NSAIDs records of Cohen (2006) (tests/data/screening); the numbers
entered into forms are metadat's dat.pritz1997 counts (tests/data/extraction/SOURCES.md): real
published counts used as realistic input, not the data of those records' studies.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import select

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.store import Store
from reviewflow.store.models import Decision, Reviewer
from tests.real_data import nsaids_records

DATA = Path(__file__).parents[1] / "data"
PRITZ = DATA / "extraction" / "pritz1997.csv"
VASOSPASM_FORM = DATA / "extraction" / "vasospasm.toml"


def pritz_counts() -> list[tuple[str, int, int]]:
    """(authors, improved, treated) of the 14 studies of dat.pritz1997."""
    with PRITZ.open(encoding="utf-8") as fh:
        return [
            (r["study"], int(r["outcome.improvement.events"]), int(r["outcome.improvement.total"]))
            for r in csv.DictReader(fh)
        ]


def build_screened_review(store: Store, n: int = 8, included: int = 5) -> list[int]:
    """``n`` real records; reviewer1 and reviewer2 both include the first ``included`` at title/
    abstract and full text, include record ``included+1`` at title/abstract but exclude it at
    full text, and exclude the rest at title/abstract. Returns the record ids in order."""
    with store.write() as s:
        run = start_run(s, kind="import", source="PubMed", file_name="nsaids.csv", count=n)
        store_records(s, run, nsaids_records(n))
    with store.write() as s:
        from reviewflow.store.models import Record

        ids = [r for r in s.execute(select(Record.id).order_by(Record.id)).scalars()]  # type: ignore[arg-type]
        reviewers = [
            r.id
            for r in s.exec(select(Reviewer).where(Reviewer.role == "reviewer")).all()
            if r.id is not None
        ]
        for i, rid in enumerate(ids):
            for who in reviewers:
                ta = "include" if i <= included else "exclude"
                s.add(Decision(record_id=rid, reviewer_id=who, stage="title-abstract", decision=ta))
                if i < included:
                    s.add(
                        Decision(
                            record_id=rid, reviewer_id=who, stage="full-text", decision="include"
                        )
                    )
                elif i == included:
                    s.add(Decision(record_id=rid, reviewer_id=who, stage="full-text",
                                   decision="exclude", reason="Wrong study design"))  # fmt: skip
    return ids


def extract_many(url: str, reviewer: str, rounds: int) -> None:
    """Save ``rounds`` values per study field (integer fields of the reference form) as
    ``reviewer``, printing each one once ``save_value`` has returned (used by the concurrency
    and kill tests, in a subprocess)."""
    from reviewflow.extraction.forms import shipped_form
    from reviewflow.extraction.studies import list_studies
    from reviewflow.extraction.values import save_value
    from reviewflow.store import open_store

    store = open_store(url)
    form = shipped_form()
    keys = [f.key for f in form.fields if f.type == "integer"]
    studies = list_studies(store, 2)
    n = 0
    for r in range(rounds):
        for st in studies:
            for key in keys:
                n += 1
                value = str(r * 1000 + n)
                save_value(store, reviewer, form, st.id, key, value)
                print(f"{st.id} {key} {value}", flush=True)
    store.dispose()
