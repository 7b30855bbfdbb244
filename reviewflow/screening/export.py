"""``reviewflow export decisions``: every reviewer's current decision, one row each, then the
resolutions of conflicts (``kind`` = ``resolution``, ``reviewer`` = who resolved it); every row
has the record's ``final_status`` at that stage (include, exclude, conflict, pending, or
not-retrieved at full text). ``reason`` is the exclusion reason (optional at title/abstract;
"Other: …" when the reviewer wrote their own at full text); ``labels`` are the reviewer's own
labels, separated by "; ".

This is a team report, not a reviewer's view: it shows everyone's decisions (like the agreement
statistics), so it is for the review lead, not for screening.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from sqlmodel import col, select

from reviewflow.access.guard import require_lead
from reviewflow.cells import safe_row
from reviewflow.errors import InputError
from reviewflow.screening import flow
from reviewflow.store.engine import Store
from reviewflow.store.models import STAGES, Decision, Resolution, Reviewer

COLUMNS = ("record_id", "reviewer", "stage", "decision", "reason", "labels", "note", "decided_at",
           "kind", "final_status")  # fmt: skip
LABEL_SEPARATOR = "; "  # a label never holds ";" (decisions.clean_labels)


def decision_rows(store: Store, required: int = 2) -> list[dict[str, str]]:
    """The rows of the export; ``required`` is review.toml's reviewers_per_record."""
    require_lead(store, "the decisions export")
    order = {stage: i for i, stage in enumerate(STAGES)}
    with store.read() as s:
        rows = s.execute(
            select(Decision, Reviewer.name)
            .join(Reviewer, col(Reviewer.id) == col(Decision.reviewer_id))
            .order_by(col(Decision.record_id), col(Reviewer.name))
        ).all()
        resolutions = s.execute(select(Resolution)).scalars().all()
        f = flow.review_flow(s, required)
    final = {flow.TITLE_ABSTRACT: f.title_abstract.outcome, flow.FULL_TEXT: f.full_text.outcome}
    for rid in f.not_retrieved:
        final[flow.FULL_TEXT][rid] = flow.NOT_RETRIEVED
    out = [
        {
            "record_id": str(d.record_id),
            "reviewer": name,
            "stage": d.stage,
            "decision": d.decision,
            "reason": d.reason,
            "labels": LABEL_SEPARATOR.join(d.labels),
            "note": d.note,
            "decided_at": d.decided_at.isoformat(),
            "kind": "decision",
        }
        for d, name in rows
    ]
    out += [
        {
            "record_id": str(r.record_id),
            "reviewer": r.resolved_by,
            "stage": r.stage,
            "decision": r.decision,
            "reason": r.reason,
            "labels": "",
            "note": r.note,
            "decided_at": r.resolved_at.isoformat(),
            "kind": "resolution",
        }
        for r in resolutions
    ]
    for row in out:
        row["final_status"] = final[row["stage"]].get(int(row["record_id"]), "")
    out.sort(
        key=lambda r: (order.get(r["stage"], 9), int(r["record_id"]), r["kind"], r["reviewer"])
    )
    return out


def export_decisions(store: Store, out: Path, required: int = 2) -> int:
    """Write the decisions CSV (UTF-8, header row); written whole or not at all."""
    rows = decision_rows(store, required)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{out}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".decisions-", suffix=".csv", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(safe_row(r) for r in rows)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)
