"""Comparing the reviewers' extractions, and the consensus values.

A study is compared once as many people as review.toml's reviewers_per_record (reviewers, and
the adjudicator when they extracted too, as the lead of a small team does) have marked it finished
(:func:`reviewflow.extraction.values.mark_finished`); until then it is "waiting for N
reviewer(s)", without values or names, so fields a reviewer has not reached yet are never
reported as differences. The finished reviewers' current values of each field are compared on
the normal form (``"Yes"`` = ``"yes"``, ``"12.0"`` = ``"12"``):

- ``agree``: every reviewer gave the same valid value;
- ``differ``: the values differ, or one reviewer left the field empty, or a value is invalid
  (a discrepancy: the adjudicator, or both reviewers together, set the consensus);
- fields every reviewer left empty are not listed.

:func:`accept_agreements` turns the fields where all reviewers agree into consensus values
(source ``agreed``); :func:`set_consensus` sets one by decision (source ``adjudicated``).
Audit rows: entity ``consensus_value``, actions ``consensus.agreed`` and ``consensus.set``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from reviewflow.access.guard import require_lead
from reviewflow.errors import InputError
from reviewflow.extraction.forms import Form
from reviewflow.extraction.validate import check_study, check_value, normal_value
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import (
    ConsensusValue,
    ExtractionStatus,
    ExtractionValue,
    Reviewer,
    Study,
    utcnow,
)

ENTITY = "consensus_value"
AGREED, ADJUDICATED, IMPORTED = "agreed", "adjudicated", "imported"
AGREE, DIFFER = "agree", "differ"


@dataclass(frozen=True)
class Comparison:
    """One field of one study, every extracting reviewer's value side by side."""

    study_id: int
    study: str
    key: str
    label: str
    values: dict[str, str]  # reviewer → text as entered ("" = left empty)
    status: str  # agree | differ
    consensus: str | None = None
    consensus_source: str = ""


@dataclass
class StudyComparison:
    study_id: int
    study: str
    extractors: list[str] = field(default_factory=list)
    fields: list[Comparison] = field(default_factory=list)
    waiting: int = 0  # how many more reviewers must finish the study before it is compared

    @property
    def discrepancies(self) -> list[Comparison]:
        return [c for c in self.fields if c.status == DIFFER]


def _consensus_rows(
    s: Session, study_ids: list[int] | None
) -> dict[int, dict[str, ConsensusValue]]:
    q = select(ConsensusValue)
    if study_ids is not None:
        q = q.where(col(ConsensusValue.study_id).in_(study_ids))
    out: dict[int, dict[str, ConsensusValue]] = defaultdict(dict)
    for row in s.exec(q).all():
        out[row.study_id][row.field] = row
    return out


def compare(
    store: Store, form: Form, study_ids: list[int] | None = None, required: int = 2
) -> list[StudyComparison]:
    """The comparison of every study (or the given ones) that ``required`` reviewers (review.toml's
    reviewers_per_record; 2 for dual extraction) have finished. A study fewer have finished is
    listed with ``waiting`` = how many more must finish, and no values or names. Without
    ``study_ids``: the studies any reviewer has begun (values entered or finished). With
    ``required=1`` a single reviewer's valid values are agreed values once they finish."""
    require_lead(store, "extraction discrepancies")
    need = max(required, 1)
    with store.read() as s:
        q = select(ExtractionValue, Reviewer.name).join(
            Reviewer, col(Reviewer.id) == col(ExtractionValue.reviewer_id)
        )
        fq = (
            select(ExtractionStatus.study_id, Reviewer.name)
            .join(Reviewer, col(Reviewer.id) == col(ExtractionStatus.reviewer_id))
            .where(col(ExtractionStatus.finished_at).is_not(None))
        )
        if study_ids is not None:
            q = q.where(col(ExtractionValue.study_id).in_(study_ids))
            fq = fq.where(col(ExtractionStatus.study_id).in_(study_ids))
        values: dict[int, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
        for ev, name in s.execute(q).all():
            values[ev.study_id][name][ev.field] = ev.value
        finished: dict[int, set[str]] = defaultdict(set)
        for sid, name in s.execute(fq).all():
            finished[sid].add(name)
        wanted = set(study_ids) if study_ids is not None else set(values) | set(finished)
        labels: dict[int, str] = {
            sid: label
            for sid, label in s.execute(
                select(Study.id, Study.label).where(col(Study.id).in_(wanted))
            ).all()
        }
        consensus = _consensus_rows(s, study_ids)
    out = []
    for sid in sorted(labels, key=lambda k: (labels[k], k)):
        names = sorted(finished.get(sid, ()))
        if len(names) < need:  # blinded: neither who has finished nor what they entered
            out.append(StudyComparison(sid, labels[sid], waiting=need - len(names)))
            continue
        by_reviewer = values.get(sid, {})
        sc = StudyComparison(sid, labels[sid], names)
        for ff in form.fields:
            texts = {n: by_reviewer.get(n, {}).get(ff.key, "") for n in names}
            if not any(t.strip() for t in texts.values()):
                continue
            normals = {normal_value(ff, t) for t in texts.values()}
            agree = len(normals) == 1 and None not in normals and "" not in normals
            row = consensus.get(sid, {}).get(ff.key)
            sc.fields.append(
                Comparison(
                    sid,
                    labels[sid],
                    ff.key,
                    ff.label,
                    texts,
                    AGREE if agree else DIFFER,
                    row.value if row else None,
                    row.source if row else "",
                )  # fmt: skip
            )
        out.append(sc)
    return out


def waiting_text(n: int) -> str:
    """``waiting for 1 reviewer`` / ``waiting for 2 reviewers`` (never who)."""
    return f"waiting for {n} reviewer{'s' * (n != 1)}"


def discrepancies(
    store: Store, form: Form, study_ids: list[int] | None = None, required: int = 2
) -> list[Comparison]:
    """Every field where the reviewers differ, study by study, in form order."""
    return [c for sc in compare(store, form, study_ids, required) for c in sc.discrepancies]


def _put(
    s: Session, actor: str, study_id: int, key: str, value: str, source: str, action: str
) -> bool:
    row = s.exec(
        select(ConsensusValue).where(
            ConsensusValue.study_id == study_id, ConsensusValue.field == key
        )
    ).first()
    if row is not None and row.value == value and row.source == source:
        return False
    before = None if row is None else {"study_id": study_id, "field": key, "value": row.value,
                                       "source": row.source, "decided_by": row.decided_by}  # fmt: skip
    if row is None:
        row = ConsensusValue(
            study_id=study_id, field=key, value=value, source=source, decided_by=actor
        )
    else:
        row.value, row.source, row.decided_by, row.decided_at = value, source, actor, utcnow()
    s.add(row)
    s.flush()
    audit(s, actor, action, ENTITY, row.id, before,
          {"study_id": study_id, "field": key, "value": value, "source": source, "decided_by": actor})  # fmt: skip
    return True


def accept_agreements(
    store: Store, form: Form, actor: str, study_ids: list[int] | None = None, required: int = 2
) -> int:
    """Make every field where all reviewers agree (and no consensus exists yet) a consensus
    value with source ``agreed``; returns how many were added. One transaction."""
    todo = [
        c for sc in compare(store, form, study_ids, required) for c in sc.fields
        if c.status == AGREE and c.consensus is None
    ]  # fmt: skip
    if not todo:
        return 0
    added = 0
    with store.write() as s:
        for c in todo:
            value = normal_value(form.get(c.key), next(iter(c.values.values())))
            assert value
            exists = s.exec(
                select(ConsensusValue.id).where(
                    ConsensusValue.study_id == c.study_id, ConsensusValue.field == c.key
                )
            ).first()
            if exists is None:
                added += _put(s, actor, c.study_id, c.key, value, AGREED, "consensus.agreed")
    return added


def consensus_of(session: Session, study_id: int) -> dict[str, str]:
    rows = session.exec(select(ConsensusValue).where(ConsensusValue.study_id == study_id)).all()
    return {r.field: r.value for r in rows}


def set_consensus(
    store: Store, form: Form, actor: str, study_id: int, key: str, text: str,
    source: str = ADJUDICATED,
) -> str:  # fmt: skip
    """Set (or clear, with an empty text) the consensus value of one field; returns the stored
    normal value. The value must be valid, and the study's consensus must stay consistent
    (events ≤ total)."""
    require_lead(store, "extraction consensus")
    f = form.get(key)
    checked = check_value(f, text)
    if checked.problem:
        raise InputError(checked.problem)
    with store.write() as s:
        if s.get(Study, study_id) is None:
            raise InputError(f"study {study_id}: no such study")
        current = consensus_of(s, study_id)
        current[key] = checked.normal
        for p in check_study(form, current):
            raise InputError(p.message)
        _put(s, actor, study_id, key, checked.normal, source, "consensus.set")
    return checked.normal


def consensus_values(
    store: Store, study_ids: list[int] | None = None
) -> dict[int, dict[str, ConsensusValue]]:
    """Every consensus value (study → field → row, detached)."""
    with store.read() as s:
        return dict(_consensus_rows(s, study_ids))


def adjudicator_label(store: Store, reviewer: str, partner: str | None) -> str:
    """Who sets consensus: an adjudicator alone, or two reviewers together ("a+b")."""
    with store.read() as s:
        me = s.exec(select(Reviewer).where(Reviewer.name == reviewer)).first()
        if me is None:
            raise InputError(f"review.toml: no reviewer named {reviewer!r}")
        if partner:
            other = s.exec(select(Reviewer).where(Reviewer.name == partner)).first()
            if other is None:
                raise InputError(f"review.toml: no reviewer named {partner!r}")
            if other.name == me.name:
                raise InputError("--with names the same reviewer twice")
            return "+".join(sorted((me.name, other.name)))
        if me.role != "adjudicator":
            raise InputError(
                f"{reviewer!r} is not an adjudicator in review.toml: the consensus is set by the "
                "adjudicator, or by both reviewers together (--with OTHER)"
            )
        return me.name
