"""A reviewer's relevance order learns from that reviewer's decisions only (blinding), puts
their decided records first and the most relevant undecided one next, and switches to the
stopping rule's random sample after a run of excludes. On 60 real NSAIDs records (both backends)."""

from __future__ import annotations

import random

import pytest

from reviewflow.screening import flow
from reviewflow.screening.decisions import decide
from reviewflow.screening.prioritise import RelevanceOrder
from reviewflow.screening.queue import ScreeningQueue
from reviewflow.screening.stopping import StoppingSettings
from reviewflow.store import Store
from tests.real_data import nsaids_records
from tests.screening.spy import record_fits

TA = flow.TITLE_ABSTRACT


def labelled(ids: list[int]) -> dict[int, bool]:
    """The NSAIDs records' true labels by record id (the first two ids are other records)."""
    records = nsaids_records(60)
    return {rid: r.extra["label_included"] == "1" for rid, r in zip(ids[2:], records, strict=True)}


@pytest.fixture
def given(monkeypatch: pytest.MonkeyPatch) -> list[dict[int, bool]]:
    """Every label set the ranking model is trained on (record index -> include)."""
    return record_fits(monkeypatch)


def test_the_model_never_sees_the_other_reviewers_decisions(
    review: tuple[Store, list[int]], given: list[dict[int, bool]]
) -> None:
    store, ids = review
    truth = labelled(ids)
    includes = [r for r, v in truth.items() if v]
    excludes = [r for r, v in truth.items() if not v]
    mine = {includes[0]: "include", excludes[0]: "exclude", excludes[1]: "exclude"}
    theirs = {includes[1]: "include", includes[2]: "include", excludes[2]: "maybe"}
    theirs[excludes[0]] = "include"  # a record we both decided, differently
    for rid, d in mine.items():
        decide(store, "reviewer1", rid, TA, d)
    order = RelevanceOrder(store, "reviewer1", seed=1)
    before = order.rank()
    for rid, d in theirs.items():
        decide(store, "reviewer2", rid, TA, d)
    after = order.rank()
    assert len(given) == 2
    for labels in given:
        trained = {order.ids[i]: v for i, v in labels.items()}
        assert trained == {rid: d == "include" for rid, d in mine.items()}
    assert after.order == before.order  # the other reviewer's decisions change nothing
    assert after.order[:3] == list(mine) and after.screened == 3 and after.includes_found == 1
    assert sorted(after.order) == sorted(ids)


def test_the_queue_shows_my_decided_records_then_the_most_relevant(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    truth = labelled(ids)
    first_in = next(r for r, v in truth.items() if v)
    first_out = next(r for r, v in truth.items() if not v)
    decide(store, "reviewer1", first_in, TA, "include")
    decide(store, "reviewer1", first_out, TA, "exclude")
    order = RelevanceOrder(store, "reviewer1", seed=1)
    ranking = order.rank()
    queue = ScreeningQueue(store, "reviewer1", TA)
    queue.set_order(ranking.order)
    assert len(queue) == len(ids)
    assert [queue.entry(i).record_id for i in range(2)] == [first_in, first_out]  # type: ignore[union-attr]
    assert queue.next_undecided() == queue.next_undecided(30) == 2  # wherever I am
    top = queue.entry(2)
    assert top is not None and top.decision is None
    # the model's own most relevant undecided record
    undecided = [i for i, rid in enumerate(order.ids) if rid not in (first_in, first_out)]
    assert top.record_id == order.ids[order.ranker.order(undecided)[0]]
    queue.apply(decide(store, "reviewer1", top.record_id, TA, "exclude"))
    assert queue.next_undecided(2) == 3  # the keypress goes on in the last order
    assert queue.position_of(top.record_id) == 2
    queue.set_order(None)
    assert queue.entry(0).record_id == min(ids)  # type: ignore[union-attr]


def test_after_a_run_of_excludes_the_rest_comes_as_a_random_sample(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    truth = labelled(ids)
    inc = next(r for r, v in truth.items() if v)
    outs = [r for r, v in truth.items() if not v][:4]
    for rid, d in [(inc, "include")] + [(r, "exclude") for r in outs]:
        decide(store, "reviewer1", rid, TA, d)
    order = RelevanceOrder(store, "reviewer1", seed=7, stopping=StoppingSettings(patience=3))
    ranking = order.rank()
    s = ranking.stopping
    assert s.sampling and s.ranked_screened == 4 and s.sampled == 1 and s.sample_includes == 0
    assert s.pool == len(ids) - 4 and s.p_value is not None and not s.stop
    rest = [i for i, rid in enumerate(order.ids) if rid not in (inc, *outs)]
    random.Random(7).shuffle(rest)
    assert ranking.order[5:] == [order.ids[i] for i in rest]
