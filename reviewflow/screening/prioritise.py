"""One reviewer's relevance order at title/abstract: the ranking model trained on THIS
reviewer's decisions only.

Learning from the other reviewer's decisions would leak them into the order and break the
blinding, so the only labels the model is given come from :func:`decisions.my_decisions` (which
reads this reviewer's rows and no one else's). The order is this reviewer's decided records, in
the order they were decided, then the undecided ones, most relevant first; once the stopping
rule (:mod:`reviewflow.screening.stopping`) has seen ``patience`` excludes in a row, the
undecided ones come in a random order instead (its sample), and the rule's state says when the
recall target is reached. "Maybe" counts as include: the model learns it as relevant and the
rule counts it as found.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from sqlmodel import col, select

from reviewflow.access.guard import require_lead
from reviewflow.errors import ReviewflowError
from reviewflow.screening import flow
from reviewflow.screening.decisions import MyDecision, my_decisions
from reviewflow.screening.ranking import Ranker, RankerSettings, record_text
from reviewflow.screening.stopping import StoppingSettings, StopState, evaluate, sampling_start
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import Decision, PrescreenRemoval, Record


@dataclass(frozen=True)
class Ranking:
    order: list[int]  # record ids: mine decided (in the order decided), then the rest
    screened: int
    includes_found: int
    stopping: StopState
    trained_on: int  # how many of my decisions the model learnt from


def decision_sequence(decided: list[MyDecision]) -> list[MyDecision]:
    """My decisions in the order I made them."""
    return sorted(decided, key=lambda d: (d.decided_at is None, d.decided_at, d.record_id))


class RelevanceOrder:
    """The stage's texts, read once (the TF-IDF is fitted on them, no label involved), and the
    order for one reviewer, recomputed from their own decisions by :meth:`rank`."""

    def __init__(
        self,
        store: Store,
        reviewer: str,
        seed: int = 0,
        settings: RankerSettings | None = None,
        stopping: StoppingSettings | None = None,
    ) -> None:
        self.store, self.reviewer, self.seed = store, reviewer, seed
        self.stopping = stopping or StoppingSettings()
        my_decisions(store, reviewer, flow.TITLE_ABSTRACT)  # the access check, before any read
        with store.read() as s:
            rows = s.execute(
                select(Record.id, Record.title, Record.abstract)
                .where(flow.in_title_abstract())
                .order_by(col(Record.id))
            ).all()
        self.ids = [int(r[0]) for r in rows]
        self.index = {rid: i for i, rid in enumerate(self.ids)}
        self.ranker = Ranker([record_text(r[1], r[2]) for r in rows], settings, seed=seed)

    def rank(self) -> Ranking:
        """Refit on my decisions as they are now and return the order."""
        mine = [
            d
            for d in decision_sequence(my_decisions(self.store, self.reviewer, flow.TITLE_ABSTRACT))
            if d.record_id in self.index
        ]
        labels = {self.index[d.record_id]: d.decision != "exclude" for d in mine}
        trained = self.ranker.fit(labels)
        sequence = [d.decision != "exclude" for d in mine]
        state = self._stopping(sequence)
        unseen = np.ones(len(self.ids), dtype=bool)
        unseen[list(labels)] = False
        rest = [int(i) for i in np.flatnonzero(unseen)]
        if state.sampling:
            random.Random(self.seed).shuffle(rest)
        elif self.ranker.scores is not None:  # until one include and one exclude: record order
            rest = self.ranker.order(rest)
        return Ranking(
            order=[d.record_id for d in mine] + [self.ids[i] for i in rest],
            screened=len(mine),
            includes_found=sum(sequence),
            stopping=state,
            trained_on=len(labels) if trained else 0,
        )

    def _stopping(self, sequence: list[bool]) -> StopState:
        return rule_state(sequence, len(self.ids), self.stopping)


def rule_state(sequence: list[bool], total: int, settings: StoppingSettings) -> StopState:
    """The stopping rule after these decisions (include = True, in the order made) on a stage of
    ``total`` records: those up to the first run of ``patience`` excludes were made in relevance
    order, the ones after it on the random sample."""
    start = sampling_start(sequence, settings.run_needed(total))
    if start is None:
        return evaluate(sequence, [], total, settings)
    return evaluate(sequence[:start], sequence[start:], total, settings)


# -- stopping -----------------------------------------------------------------------------------
STOP_ACTION = "screening.stop"


@dataclass(frozen=True)
class StopRecord:
    """What a decision to stop left unscreened, and why (for PRISMA and the methods text)."""

    reviewer: str  # whose relevance order and sample the rule was applied to
    state: StopState
    removed: int  # records no reviewer had screened: marked ineligible by automation
    kept: int  # records screened by at least one reviewer: every reviewer still screens them
    note: str


def reviewer_stop_state(
    store: Store, reviewer: str, stopping: StoppingSettings | None = None
) -> StopState:
    """The stopping rule on ``reviewer``'s own decisions (in the order made), over the records
    of the title/abstract stage."""
    settings = stopping or StoppingSettings()
    sequence = [
        d.decision != "exclude"
        for d in decision_sequence(my_decisions(store, reviewer, flow.TITLE_ABSTRACT))
    ]
    with store.read() as s:
        total = len(flow.title_abstract_ids(s))
    return rule_state(sequence, total, settings)


def methods_sentence(reviewer: str, st: StopState, removed: int) -> str:
    p = "" if st.p_value is None else f", p = {st.p_value:.3g}"
    unseen = st.estimated_includes_unseen
    return (
        f"Title/abstract screening was stopped by {st.rule} (recall target "
        f"{st.recall_target:.0%}, confidence {st.confidence:.0%}): {reviewer} screened "
        f"{st.ranked_screened:,} records in relevance order, then {st.sampled:,} drawn at "
        f"random from the {st.pool or 0:,} left, {st.sample_includes} of them included{p}"
        + ("" if unseen is None else f"; estimated includes not screened {unseen:.1f}")
        + f". {removed:,} records no reviewer had screened were marked as ineligible by "
        "automation tools; records already screened by one reviewer stayed in the others' queues."
    )


def stop_screening(
    store: Store, by: str, reviewer: str, stopping: StoppingSettings | None = None
) -> StopRecord:
    """Stop title/abstract screening where ``reviewer``'s stopping rule says the recall target
    is reached: the records no reviewer has screened are marked ineligible by automation (PRISMA
    2020's box), with the rule, its parameters and the estimate in their note and the audit
    log. Records that any reviewer has screened stay in every reviewer's queue."""
    require_lead(store, "stopping screening")  # it reads which records anyone has screened
    state = reviewer_stop_state(store, reviewer, stopping)
    if not state.stop:
        why = "random sampling has not begun" if not state.sampling else f"p = {state.p_value:.3g}"
        raise ReviewflowError(
            f"the stopping rule has not reached {state.recall_target:.0%} recall with "
            f"{state.confidence:.0%} confidence for {reviewer} ({why}): keep screening"
        )
    with store.write() as s:
        members = flow.title_abstract_ids(s)
        screened = set(
            s.execute(
                select(Decision.record_id).where(Decision.stage == flow.TITLE_ABSTRACT)
            ).scalars()
        )
        left = [r for r in members if r not in screened]
        note = methods_sentence(reviewer, state, len(left))
        for rid in left:
            s.add(
                PrescreenRemoval(record_id=rid, reason_kind="automation", note=note, removed_by=by)
            )
        audit(s, by, STOP_ACTION, "prescreen_removal", None, None,
              {"reviewer": reviewer, "removed": len(left), **state.as_dict()})  # fmt: skip
    return StopRecord(reviewer, state, len(left), len(members) - len(left), note)


STOP_UNDO_ACTION = "screening.stop.undo"
STOP_NOTE = "Title/abstract screening was stopped"  # how methods_sentence begins


def _stopped(note: str) -> bool:
    return note.startswith(STOP_NOTE)


def undo_stop(store: Store, by: str) -> int:
    """Put the records a decision to stop screening left unscreened back into every reviewer's
    queue (the adjudicator; audited with what was removed). Returns how many."""
    require_lead(store, "undoing a stop of screening")
    with store.write() as s:
        rows = [
            r
            for r in s.execute(
                select(PrescreenRemoval).where(PrescreenRemoval.reason_kind == "automation")
            ).scalars()
            if _stopped(r.note)
        ]
        if not rows:
            raise ReviewflowError("screening has not been stopped: nothing to undo")
        before = {
            "record_ids": sorted(r.record_id for r in rows),
            "notes": sorted({r.note for r in rows}),
        }
        for r in rows:
            s.delete(r)
        audit(s, by, STOP_UNDO_ACTION, "prescreen_removal", None, before, {"restored": len(rows)})
    return len(rows)


def stop_notes(store: Store) -> list[str]:
    """The methods sentences of the decisions to stop screening (for the report)."""
    with store.read() as s:
        rows = s.execute(
            select(PrescreenRemoval.note)
            .where(PrescreenRemoval.reason_kind == "automation", col(PrescreenRemoval.note) != "")
            .distinct()
        ).scalars()
        return [n for n in rows if _stopped(n)]
