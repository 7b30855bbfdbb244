"""Risk-of-bias assessments: each reviewer's own answers (blinded), discrepancies, consensus.

Blinding lives here, as in extraction: :func:`set_answer` and :func:`my_assessment` act for one
named reviewer (``require_self``) and read only that reviewer's rows; comparing reviewers
(:func:`discrepancies`, :func:`agree`, :func:`set_consensus`) is for the adjudicator
(``require_lead``). Only complete assessments (every domain and the overall judgement known)
are compared. The consensus judgement of a study is the tool's rule applied to the consensus
answers (:func:`consensus`).

Audit rows: entity ``rob_answer``, actions ``rob.set`` / ``rob.clear``; entity
``rob_consensus``, action ``rob.consensus``; ``before``/``after`` =
``{"study_id", "tool", "item", "value", "reason"}``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from reviewflow.access.guard import require_lead, require_self
from reviewflow.errors import InputError
from reviewflow.extraction.values import reviewer_row
from reviewflow.rob.tools import Evaluation, Tool, check_answer, evaluate, get_tool
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import Reviewer, RobAnswer, RobConsensus, Study, utcnow

ENTITY, CONSENSUS_ENTITY = "rob_answer", "rob_consensus"


@dataclass(frozen=True)
class Assessment:
    study_id: int
    study: str
    tool: Tool
    answers: dict[str, str]
    reasons: dict[str, str]

    @property
    def evaluation(self) -> Evaluation:
        return evaluate(self.tool, self.answers, self.reasons)


@dataclass(frozen=True)
class Discrepancy:
    study_id: int
    study: str
    item: str
    values: dict[str, str]  # reviewer → answer ("" not answered)
    consensus: str | None


def _study(s: Session, study_id: int) -> Study:
    study = s.get(Study, study_id)
    if study is None:
        raise InputError(f"no study with id {study_id}")
    return study


def _row(s: Session, study_id: int, reviewer_id: int, tool: str, item: str) -> RobAnswer | None:
    return s.exec(
        select(RobAnswer).where(
            RobAnswer.study_id == study_id,
            RobAnswer.reviewer_id == reviewer_id,
            RobAnswer.tool == tool,
            RobAnswer.item == item,
        )
    ).first()


def _state(study_id: int, tool: str, item: str, value: str, reason: str) -> dict[str, object]:
    return {"study_id": study_id, "tool": tool, "item": item, "value": value, "reason": reason}


def set_answer(
    store: Store, reviewer: str, study_id: int, tool_key: str, item: str, value: str,
    reason: str = "",
) -> Evaluation:  # fmt: skip
    """Save (or with ``value=""`` clear) one of the reviewer's answers; returns the
    reviewer's judgements after it. An override of a published rule needs a reason."""
    set_answers(
        store, reviewer, study_id, tool_key, {item: value}, {item: reason} if reason else None
    )
    return my_assessment(store, reviewer, study_id, tool_key).evaluation


def set_answers(
    store: Store, reviewer: str, study_id: int, tool_key: str, answers: dict[str, str],
    reasons: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """Save several of the reviewer's answers in one transaction (all checked first: a bad
    one saves none); ``""`` clears an answer."""
    require_self(store, reviewer, "risk-of-bias assessment")
    tool = get_tool(tool_key)
    reasons = reasons or {}
    for item, value in answers.items():
        if value:
            check_answer(tool, item, value, reasons.get(item, ""), f"{tool.key} {item}")
    with store.write() as s:
        _study(s, study_id)
        rid = reviewer_row(s, reviewer).id
        assert rid is not None
        for item, value in answers.items():
            _put_answer(s, reviewer, rid, study_id, tool, item, value, reasons.get(item, ""))


def _put_answer(
    s: Session, reviewer: str, rid: int, study_id: int, tool: Tool, item: str, value: str,
    reason: str,
) -> None:  # fmt: skip
    row = _row(s, study_id, rid, tool.key, item)
    before = None if row is None else _state(study_id, tool.key, item, row.value, row.reason)
    if not value:
        if row is not None:
            s.delete(row)
            audit(s, reviewer, "rob.clear", ENTITY, row.id, before, None)
    elif row is None or (row.value, row.reason) != (value, reason):
        row = row or RobAnswer(study_id=study_id, reviewer_id=rid, tool=tool.key, item=item,
                               value=value)  # fmt: skip
        row.value, row.reason, row.updated_at = value, reason, utcnow()
        s.add(row)
        s.flush()
        audit(s, reviewer, "rob.set", ENTITY, row.id, before,
              _state(study_id, tool.key, item, value, reason))  # fmt: skip


def my_assessment(store: Store, reviewer: str, study_id: int, tool_key: str) -> Assessment:
    """The reviewer's own answers for one study (nobody else's)."""
    require_self(store, reviewer, "risk-of-bias assessment")
    tool = get_tool(tool_key)
    with store.read() as s:
        study = _study(s, study_id)
        rid = reviewer_row(s, reviewer).id
        rows = s.exec(
            select(RobAnswer).where(
                RobAnswer.study_id == study_id,
                RobAnswer.reviewer_id == rid,
                RobAnswer.tool == tool.key,
            )
        ).all()
        return Assessment(study_id, study.label, tool, {r.item: r.value for r in rows},
                          {r.item: r.reason for r in rows if r.reason})  # fmt: skip


def _all_assessments(s: Session, tool: Tool) -> dict[int, dict[str, Assessment]]:
    """study id → reviewer → assessment (every reviewer's rows: for lead views only)."""
    rows = s.execute(
        select(RobAnswer, Reviewer.name, Study.label)
        .join(Reviewer, col(Reviewer.id) == col(RobAnswer.reviewer_id))
        .join(Study, col(Study.id) == col(RobAnswer.study_id))
        .where(RobAnswer.tool == tool.key)
    ).all()
    answers: dict[tuple[int, str, str], tuple[dict[str, str], dict[str, str]]] = {}
    for row, name, label in rows:
        a, r = answers.setdefault((row.study_id, name, label), ({}, {}))
        a[row.item] = row.value
        if row.reason:
            r[row.item] = row.reason
    out: dict[int, dict[str, Assessment]] = defaultdict(dict)
    for (study_id, name, label), (a, r) in sorted(answers.items()):
        out[study_id][name] = Assessment(study_id, label, tool, a, r)
    return out


def _consensus_rows(s: Session, tool: Tool) -> dict[int, dict[str, RobConsensus]]:
    out: dict[int, dict[str, RobConsensus]] = defaultdict(dict)
    for row in s.exec(select(RobConsensus).where(RobConsensus.tool == tool.key)).all():
        out[row.study_id][row.item] = row
    return out


def _compared(by_reviewer: dict[str, Assessment]) -> dict[str, Assessment]:
    return {name: a for name, a in by_reviewer.items() if a.evaluation.complete}


def discrepancies(store: Store, tool_key: str) -> list[Discrepancy]:
    """Every item where complete assessments of a study differ, with the consensus so far."""
    require_lead(store, "risk-of-bias discrepancies", "it shows every reviewer's answers")
    tool = get_tool(tool_key)
    out = []
    with store.read() as s:
        consensus = _consensus_rows(s, tool)
        for study_id, by_reviewer in _all_assessments(s, tool).items():
            done = _compared(by_reviewer)
            if len(done) < 2:
                continue
            label = next(iter(done.values())).study
            for item in tool.items:
                values = {name: a.answers.get(item, "") for name, a in done.items()}
                if len(set(values.values())) > 1:
                    agreed = consensus[study_id].get(item)
                    out.append(Discrepancy(study_id, label, item, values,
                                           None if agreed is None else agreed.value))  # fmt: skip
    return out


def _put_consensus(
    s: Session, actor: str, study_id: int, tool: Tool, item: str, value: str, reason: str,
    source: str,
) -> None:  # fmt: skip
    row = s.exec(
        select(RobConsensus).where(
            RobConsensus.study_id == study_id,
            RobConsensus.tool == tool.key,
            RobConsensus.item == item,
        )  # fmt: skip
    ).first()
    before = None if row is None else _state(study_id, tool.key, item, row.value, row.reason)
    if not value:
        if row is not None:
            s.delete(row)
            audit(s, actor, "rob.consensus", CONSENSUS_ENTITY, row.id, before, None)
        return
    if row is not None and (row.value, row.reason) == (value, reason):
        return
    row = row or RobConsensus(study_id=study_id, tool=tool.key, item=item, value=value)
    row.value, row.reason, row.source = value, reason, source
    row.decided_by, row.decided_at = actor, utcnow()
    s.add(row)
    s.flush()
    audit(s, actor, "rob.consensus", CONSENSUS_ENTITY, row.id, before,
          _state(study_id, tool.key, item, value, reason))  # fmt: skip


def agree(store: Store, actor: str, tool_key: str) -> int:
    """Items on which every complete assessment of a study agrees become consensus (where no
    consensus is set yet); returns how many were set."""
    require_lead(store, "risk-of-bias consensus", "it compares every reviewer's answers")
    tool = get_tool(tool_key)
    n = 0
    with store.write() as s:
        consensus = _consensus_rows(s, tool)
        for study_id, by_reviewer in _all_assessments(s, tool).items():
            done = list(_compared(by_reviewer).values())
            if len(done) < 2:
                continue
            for item in tool.items:
                values = {a.answers.get(item, "") for a in done}
                if len(values) == 1 and "" not in values and item not in consensus[study_id]:
                    reason = next((a.reasons[item] for a in done if item in a.reasons), "")
                    _put_consensus(s, actor, study_id, tool, item, values.pop(), reason, "agreed")
                    n += 1
    return n


def set_consensus(
    store: Store, actor: str, study_id: int, tool_key: str, item: str, value: str,
    reason: str = "",
) -> Evaluation:  # fmt: skip
    """The adjudicator's consensus answer to one item (``""`` clears it); returns the
    study's consensus judgements after it."""
    require_lead(store, "risk-of-bias consensus", "it compares every reviewer's answers")
    tool = get_tool(tool_key)
    if value:
        check_answer(tool, item, value, reason, f"{tool.key} {item}")
    with store.write() as s:
        _study(s, study_id)
        _put_consensus(s, actor, study_id, tool, item, value, reason, "adjudicated")
    return consensus(store, tool.key)[study_id].evaluation


def consensus(store: Store, tool_key: str | None = None) -> dict[int, Assessment]:
    """study id → its consensus assessment (the agreed answers), for every study that has one;
    one tool, or every tool (a study assessed with two tools keeps the last)."""
    from reviewflow.rob.tools import TOOLS

    tools = [get_tool(tool_key)] if tool_key else list(TOOLS.values())
    out: dict[int, Assessment] = {}
    with store.read() as s:
        labels = dict(s.execute(select(Study.id, Study.label)).all())
        for tool in tools:
            for study_id, rows in _consensus_rows(s, tool).items():
                out[study_id] = Assessment(
                    study_id, labels.get(study_id, ""), tool,
                    {i: r.value for i, r in rows.items()},
                    {i: r.reason for i, r in rows.items() if r.reason},
                )  # fmt: skip
    return out


def my_progress(
    store: Store, reviewer: str, study_ids: list[int], tool_key: str
) -> list[Assessment]:
    """The reviewer's own assessment of each of ``study_ids`` (empty where not started)."""
    require_self(store, reviewer, "risk-of-bias assessment")
    return [my_assessment(store, reviewer, sid, tool_key) for sid in study_ids]
