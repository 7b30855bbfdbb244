"""Studies and their reports (PRISMA 2020: a study may have several reports).

The reports are the records included at full text (:mod:`reviewflow.screening.flow`).
:func:`sync_studies` gives every included report that belongs to no study a study of its own,
labelled "FirstAuthor Year" ("Chang 2018", then "Chang 2018b" …); :func:`merge_studies` links
the reports of several studies to one, and :func:`split_report` gives a report its own study
again. Extraction is per study. Every change writes an audit row (entity ``study``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from reviewflow.errors import InputError
from reviewflow.screening import flow
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import (
    ConsensusValue,
    ExtractionStatus,
    ExtractionValue,
    Record,
    Study,
    StudyReport,
)

_INITIALS = re.compile(r"^[A-Z]{1,3}\.?$|^([A-Z]\.)+$")


@dataclass(frozen=True)
class Report:
    record_id: int
    title: str
    abstract: str
    authors: tuple[str, ...]
    year: int | None
    journal: str
    pmid: str
    doi: str
    is_primary: bool = False

    @property
    def citation(self) -> str:
        who = self.authors[0] if self.authors else ""
        if who and len(self.authors) > 1:
            who += " et al."
        parts = [p for p in (who, self.journal, str(self.year or "")) if p]
        if self.pmid:
            parts.append(f"PMID {self.pmid}")
        return ". ".join(p.rstrip(".") for p in parts) or f"record {self.record_id}"


@dataclass(frozen=True)
class StudyInfo:
    id: int
    label: str
    notes: str
    reports: tuple[Report, ...]

    @property
    def primary(self) -> Report | None:
        for r in self.reports:
            if r.is_primary:
                return r
        return self.reports[0] if self.reports else None


def first_author_surname(authors: list[str] | tuple[str, ...]) -> str:
    """ "Smith JA" → Smith; "J A Smith" → Smith; a collective name stays whole."""
    if not authors:
        return "Anonymous"
    name = authors[0].strip()
    if "," in name:
        return name.split(",", 1)[0].strip() or "Anonymous"
    tokens = name.split()
    if len(tokens) > 4:
        return name  # a group author
    words = [t for t in tokens if not _INITIALS.match(t)]
    if not words:
        return tokens[0] if tokens else "Anonymous"
    # "Smith JA": the surname first; "J A Smith": initials first, surname last
    return words[0] if not _INITIALS.match(tokens[0]) else words[-1]


def default_label(
    authors: list[str] | tuple[str, ...], year: int | None, taken: set[str], fallback: str = ""
) -> str:
    """ "Surname Year", made unique with b, c, …; ``fallback`` (e.g. "PMID 123") when the
    record names no author."""
    name = first_author_surname(authors) if authors or not fallback else fallback
    base = f"{name} {year}" if year else name
    if base not in taken:
        return base
    for suffix in "bcdefghijklmnopqrstuvwxyz":
        if f"{base}{suffix}" not in taken:
            return f"{base}{suffix}"
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def _fallback(rec: Record) -> str:
    return f"PMID {rec.pmid}" if rec.pmid else f"Record {rec.id}"


def included_report_ids(session: Session, reviewers_per_record: int) -> list[int]:
    """The records included at full text (after reconciliation), in record order."""
    f = flow.review_flow(session, reviewers_per_record)
    return sorted(f.full_text.ids(flow.INCLUDE))


def _report(r: Record, primary: bool) -> Report:
    assert r.id is not None
    return Report(r.id, r.title, r.abstract, tuple(r.authors), r.year, r.journal,
                  r.pmid, r.doi, primary)  # fmt: skip


def sync_studies(store: Store, reviewers_per_record: int, actor: str = "system") -> list[str]:
    """Give each included report without a study a study of its own; returns the new labels."""
    with store.write() as s:
        included = included_report_ids(s, reviewers_per_record)
        linked = set(s.execute(select(StudyReport.record_id)).scalars())
        todo = [r for r in included if r not in linked]
        if not todo:
            return []
        taken = set(s.execute(select(Study.label)).scalars())
        created = []
        for rid in todo:
            rec = s.get(Record, rid)
            assert rec is not None
            label = default_label(rec.authors, rec.year, taken, _fallback(rec))
            taken.add(label)
            study = Study(label=label)
            s.add(study)
            s.flush()
            assert study.id is not None
            s.add(StudyReport(study_id=study.id, record_id=rid, is_primary=True))
            audit(s, actor, "study.create", "study", study.id, None,
                  {"label": label, "reports": [rid]}, record_id=rid)  # fmt: skip
            created.append(label)
        return created


def _studies(s: Session, study_ids: set[int] | None, included: set[int] | None) -> list[StudyInfo]:
    links = s.execute(select(StudyReport)).scalars().all()
    by_study: dict[int, list[StudyReport]] = defaultdict(list)
    for link in links:
        if included is None or link.record_id in included:
            by_study[link.study_id].append(link)
    wanted = set(by_study) if study_ids is None else study_ids
    if not wanted:
        return []
    records = {
        r.id: r
        for r in s.execute(
            select(Record).where(
                col(Record.id).in_([x.record_id for k in wanted for x in by_study.get(k, [])])
            )
        ).scalars()
    }
    out = []
    for st in s.execute(
        select(Study).where(col(Study.id).in_(wanted)).order_by(col(Study.label))
    ).scalars():
        assert st.id is not None
        reports = tuple(
            _report(records[x.record_id], x.is_primary)
            for x in sorted(by_study.get(st.id, []), key=lambda x: (not x.is_primary, x.record_id))
        )
        out.append(StudyInfo(st.id, st.label, st.notes, reports))
    return out


def list_studies(store: Store, reviewers_per_record: int) -> list[StudyInfo]:
    """The included studies: those with at least one report included at full text, by label.
    Only their included reports are listed."""
    with store.read() as s:
        included = set(included_report_ids(s, reviewers_per_record))
        return _studies(s, None, included)


def reports_without_study(store: Store, reviewers_per_record: int) -> list[Report]:
    """Reports included at full text that are not in a study yet (read only: extraction and
    the study commands give each one a study of its own)."""
    with store.read() as s:
        included = included_report_ids(s, reviewers_per_record)
        linked = set(s.execute(select(StudyReport.record_id)).scalars())
        todo = [r for r in included if r not in linked]
        rows = s.execute(select(Record).where(col(Record.id).in_(todo))).scalars().all()
        return [_report(r, True) for r in sorted(rows, key=lambda r: r.id or 0)]


def studies_with_consensus(store: Store) -> list[StudyInfo]:
    """Studies that have consensus values (e.g. imported from a sheet), with all their reports."""
    with store.read() as s:
        ids = set(s.execute(select(ConsensusValue.study_id).distinct()).scalars())
        return _studies(s, ids, None)


def find_study(session: Session, ref: str) -> Study:
    """A study by label, or by id written as ``#12``/``12``."""
    ref = ref.strip()
    row = session.exec(select(Study).where(Study.label == ref)).first()
    if row is None and ref.lstrip("#").isdigit():
        row = session.get(Study, int(ref.lstrip("#")))
    if row is None:
        raise InputError(f"no study {ref!r} (see 'reviewflow studies list')")
    return row


def _has_extraction(s: Session, study_id: int) -> bool:
    q1 = select(ExtractionValue.id).where(ExtractionValue.study_id == study_id)
    q2 = select(ConsensusValue.id).where(ConsensusValue.study_id == study_id)
    q3 = select(ExtractionStatus.id).where(ExtractionStatus.study_id == study_id)
    return any(s.exec(q).first() is not None for q in (q1, q2, q3))


def merge_studies(store: Store, actor: str, into: str, others: list[str]) -> StudyInfo:
    """Link the reports of ``others`` to the study ``into`` (its primary report stays primary).
    A study that already has extracted values cannot be merged away (its values would be lost
    from view): merge before extracting."""
    with store.write() as s:
        target = find_study(s, into)
        assert target.id is not None
        moved: list[int] = []
        for ref in others:
            other = find_study(s, ref)
            assert other.id is not None
            if other.id == target.id:
                raise InputError(f"study {other.label!r}: cannot merge a study into itself")
            if _has_extraction(s, other.id):
                raise InputError(
                    f"study {other.label!r} already has extracted values; merge studies before "
                    "extracting, or merge the other way round"
                )
            for link in s.exec(select(StudyReport).where(StudyReport.study_id == other.id)).all():
                link.study_id, link.is_primary = target.id, False
                s.add(link)
                moved.append(link.record_id)
            audit(s, actor, "study.merge", "study", target.id, {"study": other.label},
                  {"into": target.label, "reports": moved})  # fmt: skip
        s.flush()
        return _studies(s, {target.id}, None)[0]


def split_report(store: Store, actor: str, record_id: int, label: str | None = None) -> StudyInfo:
    """Give a report its own study again (label "FirstAuthor Year" unless given)."""
    with store.write() as s:
        link = s.exec(select(StudyReport).where(StudyReport.record_id == record_id)).first()
        if link is None:
            raise InputError(f"record {record_id}: not linked to any study")
        siblings = s.exec(select(StudyReport).where(StudyReport.study_id == link.study_id)).all()
        if len(siblings) == 1:
            raise InputError(f"record {record_id}: already the only report of its study")
        old = s.get(Study, link.study_id)
        assert old is not None
        rec = s.get(Record, record_id)
        assert rec is not None
        taken = set(s.execute(select(Study.label)).scalars())
        if label is not None and label in taken:
            raise InputError(f"a study is already labelled {label!r}")
        new = Study(label=label or default_label(rec.authors, rec.year, taken, _fallback(rec)))
        s.add(new)
        s.flush()
        was_primary = link.is_primary
        link.study_id, link.is_primary = new.id, True  # type: ignore[assignment]
        s.add(link)
        if was_primary:
            rest = sorted(
                (x for x in siblings if x.record_id != record_id), key=lambda x: x.record_id
            )
            rest[0].is_primary = True
            s.add(rest[0])
        audit(s, actor, "study.split", "study", new.id, {"study": old.label},
              {"label": new.label, "reports": [record_id]}, record_id=record_id)  # fmt: skip
        s.flush()
        assert new.id is not None
        return _studies(s, {new.id}, None)[0]


def rename_study(store: Store, actor: str, ref: str, label: str) -> None:
    label = label.strip()
    if not label:
        raise InputError("a study label cannot be empty")
    with store.write() as s:
        study = find_study(s, ref)
        if s.exec(select(Study).where(Study.label == label, Study.id != study.id)).first():
            raise InputError(f"a study is already labelled {label!r}")
        before = study.label
        study.label = label
        s.add(study)
        audit(s, actor, "study.rename", "study", study.id, {"label": before}, {"label": label})


def set_study_notes(store: Store, actor: str, study_id: int, notes: str) -> None:
    with store.write() as s:
        study = s.get(Study, study_id)
        if study is None:
            raise InputError(f"study {study_id}: no such study")
        if study.notes == notes:
            return
        before = study.notes
        study.notes = notes
        s.add(study)
        audit(s, actor, "study.notes", "study", study_id, {"notes": before}, {"notes": notes})


def create_study(session: Session, actor: str, label: str) -> Study:
    """A study without reports (for sheets of reviews that started elsewhere); in the caller's
    transaction."""
    study = Study(label=label)
    session.add(study)
    session.flush()
    audit(session, actor, "study.create", "study", study.id, None, {"label": label, "reports": []})
    return study
