"""Deduplication on the review's database: links, the manual queue, undo, PRISMA's count.

Nothing is deleted. A duplicate is a :class:`DuplicateLink` from a record to the record kept
for its group; a pair dedup is unsure of is a :class:`DuplicateCandidate` (status ``maybe``)
until a person decides it (``duplicate`` or ``distinct``). Every link made or undone and every
decision writes an audit row in the same transaction.

Runs are incremental: existing links are kept, new records join an existing group or form new
ones, a pair a person called distinct (or a group someone undid) is never merged again, and a
pair a person confirmed is always merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewflow.dedup.classify import DedupSettings
from reviewflow.dedup.merge import choose_kept
from reviewflow.dedup.normalise import fold
from reviewflow.dedup.pipeline import deduplicate
from reviewflow.errors import ReviewflowError
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.audit import audit
from reviewflow.store.models import DuplicateCandidate, DuplicateLink, Record, utcnow

RECORD_FIELDS = (
    "title", "abstract", "authors", "year", "journal", "journal_abbrev", "volume", "issue",
    "pages", "doi", "pmid", "pmcid", "issn", "language", "publication_types", "mesh_terms",
    "keywords", "vernacular_title", "comments_corrections", "record_type", "url",
)  # fmt: skip


@dataclass(frozen=True)
class RunSummary:
    records: int
    pairs_scored: int
    links_added: int
    groups_added: int
    maybe_added: int
    maybe_open: int
    duplicates_removed: int


@dataclass(frozen=True)
class QueueItem:
    """A pair in the manual queue, with both records as plain values."""

    candidate_id: int
    score: float
    scores: dict[str, Any]
    status: str
    record_a: RecordData
    record_b: RecordData


_WORD = re.compile(r"[^\W_]+[\W_]*|[\W_]+")  # a word with the spaces and punctuation after it

Marked = list[tuple[str, bool]]  # a text in pieces, each marked True where it differs


def word_diff(x: str, y: str) -> tuple[Marked, Marked]:
    """Two values of a field in words, each marked where it is not in the other value
    (compared folded, as dedup compares: case, accents and punctuation do not count)."""
    wx, wy = _WORD.findall(x), _WORD.findall(y)
    same_x, same_y = [False] * len(wx), [False] * len(wy)
    matcher = SequenceMatcher(None, [fold(w) for w in wx], [fold(w) for w in wy], autojunk=False)
    for a, b, n in matcher.get_matching_blocks():
        same_x[a : a + n] = [True] * n
        same_y[b : b + n] = [True] * n
    return (
        [(w, not same) for w, same in zip(wx, same_x, strict=True)],
        [(w, not same) for w, same in zip(wy, same_y, strict=True)],
    )


def around_differences(marked: Marked, context: int = 8) -> Marked:
    """Long runs of words both values share cut to ``context`` words either side of a
    difference ("… " in between), so the differing part of a long field shows."""
    out: Marked = []
    run: list[str] = []

    def flush(first: bool, last: bool) -> None:
        keep_head = 0 if first else context
        keep_tail = 0 if last else context
        if len(run) > keep_head + keep_tail + 3:
            out.append(
                ("".join(run[:keep_head]) + "… " + "".join(run[len(run) - keep_tail :]), False)
            )
        elif run:
            out.append(("".join(run), False))
        run.clear()

    first = True
    for word, differs in marked:
        if differs:
            flush(first, False)
            first = False
            out.append((word, True))
        else:
            run.append(word)
    if first:  # no difference at all
        return marked
    flush(False, True)
    return out


def record_data(row: Record) -> RecordData:
    data = RecordData(**{name: getattr(row, name) for name in RECORD_FIELDS})
    data.source_key = str(row.id)
    return data


def _all_records(session: Session) -> tuple[list[int], list[RecordData]]:
    """Every record as a plain value, read as columns (no ORM objects: fast on 100k rows)."""
    columns = [getattr(Record, name) for name in RECORD_FIELDS]
    ids: list[int] = []
    records: list[RecordData] = []
    for row in session.execute(select(Record.id, *columns).order_by(col(Record.id))):
        record = RecordData(**dict(zip(RECORD_FIELDS, row[1:], strict=True)))
        record.source_key = str(row[0])
        ids.append(row[0])
        records.append(record)
    return ids, records


def active_links(session: Session) -> list[DuplicateLink]:
    return list(session.exec(select(DuplicateLink).where(col(DuplicateLink.undone_at).is_(None))))


def duplicates_removed(session: Session) -> int:
    """PRISMA's "duplicate records removed": automatic plus confirmed merges still in force."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(DuplicateLink)
            .where(col(DuplicateLink.undone_at).is_(None))
        )
        or 0
    )


def run(store: Store, actor: str = "system", settings: DedupSettings | None = None) -> RunSummary:
    """Deduplicate every record of the review.

    The records are read and compared outside any write lock (screeners keep working); the
    links and queued pairs are then written in one short transaction that re-reads what a
    person may have decided meanwhile and never overrides it.
    """
    with store.read() as session:
        ids, records = _all_records(session)
        decided = list(
            session.execute(
                select(
                    DuplicateCandidate.record_a_id,
                    DuplicateCandidate.record_b_id,
                    DuplicateCandidate.status,
                ).where(DuplicateCandidate.status != "maybe")
            )
        )
    position = {rid: i for i, rid in enumerate(ids)}
    distinct = [(position[a], position[b]) for a, b, status in decided if status == "distinct"]
    confirmed = [(position[a], position[b]) for a, b, status in decided if status == "duplicate"]
    result = deduplicate(records, settings, known_distinct=distinct, known_duplicate=confirmed)
    with store.write() as session:
        candidates = list(session.exec(select(DuplicateCandidate)))
        kept_apart = {(c.record_a_id, c.record_b_id) for c in candidates if c.status == "distinct"}
        links = active_links(session)
        kept_of = {link.record_id: link.kept_record_id for link in links}
        group_of_kept = {link.kept_record_id: link.group_id for link in links}
        next_group = (session.scalar(select(func.max(DuplicateLink.group_id))) or 0) + 1
        method_of = {ids[link.record]: (link.method, link.score) for link in result.links}
        groups_added = 0
        new_links: list[DuplicateLink] = []
        joins: list[tuple[int, int]] = []
        for group in result.groups:
            if len(group) < 2:
                continue
            members = [ids[i] for i in group]
            kept_records = {
                kept_of.get(m, m) for m in members if m in kept_of or m in group_of_kept
            }
            if len(kept_records) > 1:
                # it would join groups that exist already: a person decides
                first, *others = sorted(kept_records)
                joins.extend((first, other) for other in others)
                continue
            if kept_records:
                kept = kept_records.pop()
                group_id = group_of_kept[kept]
            else:
                kept = ids[choose_kept(records, group)]
                group_id = next_group
                next_group += 1
                groups_added += 1
            for member in members:
                if member == kept or member in kept_of:
                    continue
                if (min(member, kept), max(member, kept)) in kept_apart:
                    continue  # a person kept them apart while this run was comparing
                method, score = method_of.get(member, ("auto", 0.0))
                new_links.append(
                    DuplicateLink(
                        group_id=group_id, record_id=member, kept_record_id=kept,
                        method=method, score=score, created_by=actor,
                    )
                )  # fmt: skip
                kept_of[member] = kept
                group_of_kept[kept] = group_id
        session.add_all(new_links)
        session.flush()
        for link in new_links:
            audit(
                session, actor, "dedup.merge", "duplicate_link", link.id, None,
                {"group": link.group_id, "kept": link.kept_record_id, "method": link.method,
                 "score": link.score},
                record_id=link.record_id,
            )  # fmt: skip
        links_added = len(new_links)
        known = {(c.record_a_id, c.record_b_id) for c in candidates}
        maybe_added = 0
        queue_pairs = [
            (ids[p.a], ids[p.b], p.score, {**p.scores, "reason": p.reason}) for p in result.maybe
        ]
        queue_pairs += [
            (a, b, 1.0, {"reason": "dedup would join two existing groups"}) for a, b in joins
        ]
        for x, y, score, scores in queue_pairs:
            a, b = sorted((x, y))
            if (a, b) in known or kept_of.get(a, a) == kept_of.get(b, b):
                continue
            session.add(
                DuplicateCandidate(record_a_id=a, record_b_id=b, score=score, scores=scores)
            )
            known.add((a, b))
            maybe_added += 1
        session.flush()
        maybe_open = _count_maybe(session)
        removed = duplicates_removed(session)
    return RunSummary(
        len(records), result.pairs_scored, links_added, groups_added, maybe_added,
        maybe_open, removed,
    )  # fmt: skip


def _count_maybe(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(DuplicateCandidate)
            .where(DuplicateCandidate.status == "maybe")
        )
        or 0
    )


def undo_group(store: Store, group_id: int, actor: str = "system") -> int:
    """Split group ``group_id`` again: its links are marked undone (kept, not deleted) and its
    pairs recorded as distinct so a later run does not merge them again. Returns the number
    of records released."""
    with store.write() as session:
        links = list(
            session.exec(
                select(DuplicateLink).where(
                    DuplicateLink.group_id == group_id, col(DuplicateLink.undone_at).is_(None)
                )
            )
        )
        if not links:
            raise ReviewflowError(f"no duplicate group {group_id} (or it was undone already)")
        now = utcnow()
        members = sorted({links[0].kept_record_id, *(link.record_id for link in links)})
        for link in links:
            link.undone_at = now
            link.undone_by = actor
            session.add(link)
            audit(
                session, actor, "dedup.undo", "duplicate_link", link.id,
                {"group": group_id, "kept": link.kept_record_id, "method": link.method},
                {"undone": True}, record_id=link.record_id,
            )  # fmt: skip
        existing = {
            (c.record_a_id, c.record_b_id): c
            for c in session.exec(
                select(DuplicateCandidate).where(col(DuplicateCandidate.record_a_id).in_(members))
            )
        }
        for x, a in enumerate(members):
            for b in members[x + 1 :]:
                candidate = existing.get((a, b)) or DuplicateCandidate(record_a_id=a, record_b_id=b)
                candidate.status = "distinct"
                candidate.decided_by = actor
                candidate.decided_at = now
                session.add(candidate)
    return len(links)


def queue(store: Store, status: str = "maybe") -> list[QueueItem]:
    """The manual queue: pairs with ``status``, most similar first."""
    with store.read() as session:
        candidates = list(
            session.exec(
                select(DuplicateCandidate)
                .where(DuplicateCandidate.status == status)
                .order_by(col(DuplicateCandidate.score).desc(), col(DuplicateCandidate.id))
            )
        )
        ids = {c.record_a_id for c in candidates} | {c.record_b_id for c in candidates}
        rows = {r.id: r for r in session.exec(select(Record).where(col(Record.id).in_(ids)))}
        return [
            QueueItem(
                c.id or 0,
                c.score,
                dict(c.scores),
                c.status,
                record_data(rows[c.record_a_id]),
                record_data(rows[c.record_b_id]),
            )  # fmt: skip
            for c in candidates
        ]


def decide(store: Store, candidate_id: int, status: str, actor: str) -> None:
    """A person's decision on a queued pair, committed at once: ``duplicate`` links the
    records (into the group one of them is in already), ``distinct`` keeps them apart."""
    if status not in ("duplicate", "distinct", "maybe"):
        raise ReviewflowError(f"unknown decision {status!r}: duplicate, distinct or maybe")
    with store.write() as session:
        candidate = session.get(DuplicateCandidate, candidate_id)
        if candidate is None:
            raise ReviewflowError(f"no candidate pair {candidate_id}")
        before = {"status": candidate.status, "decided_by": candidate.decided_by}
        if candidate.status == "duplicate" and status != "duplicate":
            _unlink_manual(session, candidate, actor)
        if status == "duplicate" and candidate.status != "duplicate":
            _link_manual(session, candidate, actor)
        candidate.status = status
        candidate.decided_by = actor
        candidate.decided_at = utcnow()
        session.add(candidate)
        audit(
            session, actor, f"dedup.{status}", "duplicate_candidate", candidate.id, before,
            {"status": status, "record_a": candidate.record_a_id, "record_b": candidate.record_b_id},
            record_id=candidate.record_b_id,
        )  # fmt: skip


def _kept_of(session: Session, record_id: int) -> tuple[int, int | None]:
    link = session.exec(
        select(DuplicateLink).where(
            DuplicateLink.record_id == record_id, col(DuplicateLink.undone_at).is_(None)
        )
    ).first()
    if link is not None:
        return link.kept_record_id, link.group_id
    kept = session.exec(
        select(DuplicateLink).where(
            DuplicateLink.kept_record_id == record_id, col(DuplicateLink.undone_at).is_(None)
        )
    ).first()
    return record_id, (kept.group_id if kept is not None else None)


def _link_manual(session: Session, candidate: DuplicateCandidate, actor: str) -> None:
    kept_a, group_a = _kept_of(session, candidate.record_a_id)
    kept_b, group_b = _kept_of(session, candidate.record_b_id)
    if kept_a == kept_b:
        return
    if group_a is not None and group_b is not None:
        raise ReviewflowError(
            f"records {candidate.record_a_id} and {candidate.record_b_id} are in groups "
            f"{group_a} and {group_b} already; undo one of them first"
        )
    group: int
    if group_b is not None:  # join a's record to b's group
        kept, group, record = kept_b, group_b, candidate.record_a_id
    else:
        kept, record = kept_a, candidate.record_b_id
        if group_a is not None:
            group = group_a
        else:
            group = (session.scalar(select(func.max(DuplicateLink.group_id))) or 0) + 1
    link = DuplicateLink(
        group_id=group, record_id=record, kept_record_id=kept, method="manual",
        score=candidate.score, created_by=actor,
    )  # fmt: skip
    session.add(link)
    session.flush()
    audit(
        session, actor, "dedup.merge", "duplicate_link", link.id, None,
        {"group": group, "kept": kept, "method": "manual", "candidate": candidate.id},
        record_id=record,
    )  # fmt: skip


def _unlink_manual(session: Session, candidate: DuplicateCandidate, actor: str) -> None:
    pair = (candidate.record_a_id, candidate.record_b_id)
    links = session.exec(
        select(DuplicateLink).where(
            DuplicateLink.method == "manual",
            col(DuplicateLink.undone_at).is_(None),
            col(DuplicateLink.record_id).in_(pair),
        )
    )
    for link in links:
        link.undone_at = utcnow()
        link.undone_by = actor
        session.add(link)
        audit(
            session, actor, "dedup.undo", "duplicate_link", link.id,
            {"group": link.group_id, "kept": link.kept_record_id}, {"undone": True},
            record_id=link.record_id,
        )  # fmt: skip
