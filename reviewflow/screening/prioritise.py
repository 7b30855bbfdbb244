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

from reviewflow.screening import flow
from reviewflow.screening.decisions import MyDecision, my_decisions
from reviewflow.screening.ranking import Ranker, RankerSettings, record_text
from reviewflow.screening.stopping import StoppingSettings, StopState, evaluate, sampling_start
from reviewflow.store.engine import Store
from reviewflow.store.models import Record


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
        """The rule's state: the decisions up to the first run of ``patience`` excludes were
        made in relevance order, the ones after it on the random sample."""
        start = sampling_start(sequence, self.stopping.patience)
        if start is None:
            return evaluate(sequence, [], len(self.ids), self.stopping)
        return evaluate(sequence[:start], sequence[start:], len(self.ids), self.stopping)
