"""Two reviewers extracting at the same time lose nothing, and a killed extraction keeps every
value it confirmed (two processes; SQLite in WAL mode and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from reviewflow.store.models import AuditEntry, ExtractionValue, Reviewer
from tests.extraction.conftest import Review

ROOT = Path(__file__).parents[2]


def worker(url: str, reviewer: str, rounds: int) -> subprocess.Popen[str]:
    code = (
        "from tests.extraction.helpers import extract_many; "
        f"extract_many({url!r}, {reviewer!r}, {rounds})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def stored(review: Review) -> dict[tuple[str, int, str], str]:
    with review.store.read() as s:
        rows = s.execute(
            select(Reviewer.name, ExtractionValue).join(
                Reviewer, Reviewer.id == ExtractionValue.reviewer_id
            )  # type: ignore[arg-type]
        ).all()
    return {(name, ev.study_id, ev.field): ev.value for name, ev in rows}


def test_two_reviewers_at_once_lose_nothing(review: Review) -> None:
    url = review.workspace.database_url()
    procs = {who: worker(url, who, 2) for who in ("reviewer1", "reviewer2")}
    expected: dict[tuple[str, int, str], str] = {}
    for who, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        for line in out.splitlines():
            sid, key, value = line.split()
            expected[(who, int(sid), key)] = value  # the last save of a field wins
    # 5 studies x 10 integer fields, twice, by each reviewer
    assert len(expected) == 2 * 5 * 10
    assert stored(review) == expected
    with review.store.read() as s:
        audits = s.exec(select(AuditEntry).where(AuditEntry.action == "extraction.set")).all()
    assert len(audits) == 2 * 2 * 5 * 10


def test_killed_extraction_keeps_every_confirmed_value(review: Review) -> None:
    proc = worker(review.workspace.database_url(), "reviewer1", 5)
    assert proc.stdout is not None
    confirmed: dict[tuple[str, int, str], str] = {}
    for line in proc.stdout:
        sid, key, value = line.split()
        confirmed[("reviewer1", int(sid), key)] = value
        if len(confirmed) >= 30 and int(value) > 1000:  # into the second round: values revised
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    found = stored(review)
    # every confirmed value is there; a field revised after the last confirmation may be newer
    for key, value in confirmed.items():
        assert key in found
        assert int(found[key]) >= int(value)
