"""Two reviewers at once on one database, and a screening process killed with SIGKILL:
nothing committed is lost, nothing is duplicated. Both on SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlmodel import select

from reviewflow.screening import flow
from reviewflow.store import open_store
from reviewflow.store.models import AuditEntry, Decision, Reviewer
from reviewflow.store.reviewers import sync_reviewers
from reviewflow.workspace import ReviewConfig, ReviewerConfig
from tests.screening.drivers import expected
from tests.screening.helpers import add_records, nsaids_records

ROOT = Path(__file__).parents[2]
TA = flow.TITLE_ABSTRACT
PEOPLE = [ReviewerConfig("reviewer1"), ReviewerConfig("reviewer2")]


def prepared(db_url: str, copies: int) -> list[int]:
    store = open_store(db_url, create=True)
    sync_reviewers(store, ReviewConfig("Concurrency", reviewers=PEOPLE))
    ids: list[int] = []
    for _ in range(copies):  # the real NSAIDs records, imported again as another source's
        ids += add_records(store, nsaids_records())
    store.dispose()
    return ids


def driver(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.screening.drivers", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def decisions_by(db_url: str) -> dict[str, dict[int, str]]:
    store = open_store(db_url)
    with store.read() as s:
        names = {i: n for i, n in s.execute(select(Reviewer.id, Reviewer.name)).all()}
        out: dict[str, dict[int, str]] = {n: {} for n in names.values()}
        for d in s.exec(select(Decision)).all():
            assert d.record_id not in out[names[d.reviewer_id]]  # one row per reviewer
            out[names[d.reviewer_id]][d.record_id] = d.decision
    store.dispose()
    return out


def test_two_reviewers_deciding_thousands_at_once_lose_nothing(db_url: str, tmp_path: Path) -> None:
    ids = prepared(db_url, copies=3)
    go = tmp_path / "go"
    procs = [driver("core", db_url, who, str(go)) for who in ("reviewer1", "reviewer2")]
    while not all((tmp_path / f"ready-{who}").exists() for who in ("reviewer1", "reviewer2")):
        assert all(p.poll() is None for p in procs), procs[0].communicate()
        time.sleep(0.05)
    go.touch()
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    confirmed = [out.splitlines() for out, _err in outputs]
    changes = len(ids) + len(range(0, len(ids), 4))
    assert [len(c) for c in confirmed] == [changes, changes] and changes > 1400
    final = {i: expected(n, n % 4 == 0) for n, i in enumerate(ids)}
    found = decisions_by(db_url)
    assert found["reviewer1"] == final and found["reviewer2"] == final
    store = open_store(db_url)
    with store.read() as s:
        log = s.exec(select(AuditEntry.actor, AuditEntry.id)).all()
    store.dispose()
    assert Counter(actor for actor, _ in log) == {"reviewer1": changes, "reviewer2": changes}
    # the two processes really wrote at the same time: their audit rows interleave
    spans = {who: [i for actor, i in log if actor == who] for who in ("reviewer1", "reviewer2")}
    assert max(min(v) for v in spans.values()) < min(max(v) for v in spans.values())


def test_killed_screening_app_keeps_every_confirmed_decision(db_url: str) -> None:
    prepared(db_url, copies=1)
    proc = driver("app", db_url, "reviewer1")
    assert proc.stdout is not None
    confirmed: dict[int, str] = {}
    for line in proc.stdout:
        record_id, decision = line.split()
        confirmed[int(record_id)] = decision
        if len(confirmed) == 40:
            break
    os.kill(proc.pid, signal.SIGKILL)  # mid-way: the app is pressing keys and saving
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    found = decisions_by(db_url)["reviewer1"]
    assert all(found.get(r) == d for r, d in confirmed.items())
    assert len(confirmed) >= 40 and len(found) in (len(confirmed), len(confirmed) + 1)
    assert set(found.values()) <= {"include", "exclude", "maybe"}
    store = open_store(db_url)
    with store.read() as s:
        audited = s.exec(select(AuditEntry.record_id).where(AuditEntry.action == "decision.set"))
        assert set(audited.all()) == set(found)  # every stored decision has its audit row
        if store.is_sqlite:
            assert s.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    store.dispose()
