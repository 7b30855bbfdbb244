"""The reviewer's queue (paged from SQL) and blinding: nothing another reviewer does shows up
in any read path until both have decided a record and reconciliation starts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from reviewflow.screening import decisions as d
from reviewflow.screening import flow
from reviewflow.screening.conflicts import conflicts
from reviewflow.screening.queue import ScreeningQueue, abstract_sections
from reviewflow.store import Store
from reviewflow.store.models import PrescreenRemoval

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


def everything_visible_to(store: Store, reviewer: str, stage: str, rules: Any) -> dict[str, Any]:
    """Every read path of the screening layer, as ``reviewer`` sees it."""
    q = ScreeningQueue(store, reviewer, stage, rules, page_size=7)
    entries = [q.entry(i) for i in range(len(q) + 1)]
    ids = [e.record_id for e in entries if e is not None]
    return {
        "length": len(q),
        "progress": q.progress(),
        "entries": entries,
        "positions": [q.position_of(i) for i in ids],
        "next_undecided": [q.next_undecided(p) for p in range(-1, len(q))],
        "records": [asdict(q.record(i)) for i in ids],
        "search": q.search("pain") + q.search("NSAID") + q.search(str(ids[0]) if ids else "x"),
        "my_decisions": d.my_decisions(store, reviewer, stage),
        "my_decision": [d.my_decision(store, reviewer, i, stage) for i in ids],
    }


def test_queue_pages_in_record_order_with_my_decisions_only(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    with store.write() as s:
        s.add(PrescreenRemoval(record_id=ids[2], reason_kind="automation"))
    d.decide(store, "reviewer1", ids[0], TA, "include")
    d.decide(store, "reviewer2", ids[1], TA, "exclude")
    q = ScreeningQueue(store, "reviewer1", TA, rules, page_size=5)
    wanted = [i for i in ids if i != ids[2]]
    with store.read() as s:
        assert wanted == flow.title_abstract_ids(s)  # the SQL rule equals flow's rule
    assert len(q) == len(wanted)
    assert [q.entry(p).record_id for p in range(len(q))] == wanted  # type: ignore[union-attr]
    assert q.entry(len(q)) is None
    assert q.entry(0).decision == "include" and q.entry(1).decision is None  # type: ignore[union-attr]
    assert q.progress() == (q.progress().__class__(1, len(wanted)))
    assert q.next_undecided() == 1  # reviewer2's decision on ids[1] does not count for me
    assert q.position_of(ids[2]) is None and q.position_of(wanted[-1]) == len(wanted) - 1
    change = d.decide(store, "reviewer1", ids[1], TA, "maybe")
    q.apply(change)
    assert q.progress().decided == 2 and q.next_undecided() == 2
    for p in range(2, len(q)):  # decide all but the one before last, then wrap round
        if p != len(q) - 2:
            q.apply(d.decide(store, "reviewer1", q.entry(p).record_id, TA, "exclude"))  # type: ignore[union-attr]
    assert q.next_undecided(len(q) - 1) == len(q) - 2
    fresh = ScreeningQueue(store, "reviewer1", TA, rules)
    assert fresh.progress() == q.progress() and fresh.next_undecided(len(q) - 1) == len(q) - 2


def test_record_view_shows_structured_abstract_and_search_finds_pmid(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    q = ScreeningQueue(store, "reviewer1", TA, rules)
    view = q.record(ids[0])
    assert view.title == "SAFETY OF LONG-TERM PROTON PUMP INHIBITORS: FACTS AND MYTHS."
    assert [label for label, _ in view.abstract_sections] == [
        "BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS", "CONCLUSION",
    ]  # fmt: skip
    assert "Meta-Analysis" in view.publication_types and view.mesh_terms
    hits = q.search(view.pmid)
    assert [h.record_id for h in hits] == [ids[0]]
    assert all("ulcer" in (q.record(h.record_id).title + q.record(h.record_id).abstract).lower()
               for h in q.search("ULCER"))  # fmt: skip


def test_search_wants_every_word_anywhere_and_counts_every_match(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    q = ScreeningQueue(store, "reviewer1", TA, rules)
    texts = {rid: (q.record(rid).title + " " + q.record(rid).abstract).lower() for rid in ids}

    def expected(*words: str) -> list[int]:  # the reference: plain Python over every record
        return [rid for rid in ids if all(w in texts[rid] for w in words)]

    found = [h.record_id for h in q.search("pain nsaid")]
    assert found == expected("pain", "nsaid") and len(found) >= 2
    assert any("pain nsaid" not in texts[rid] for rid in found)  # not a phrase search
    assert q.count_matches("pain nsaid") == len(found)
    many = expected("the")
    assert len(many) > 10 and [h.record_id for h in q.search("THE", limit=10)] == many[:10]
    assert q.count_matches("the") == len(many)
    assert q.count_matches("e_s") == len(expected("e_s"))  # _ and % are not wildcards


def test_sections_found_in_plain_abstract_text() -> None:
    text = "BACKGROUND: Pain is common. METHODS: We pooled 3 trials. RESULTS: Less pain."
    assert abstract_sections(text, {}) == [
        ("Background", "Pain is common."), ("Methods", "We pooled 3 trials."),
        ("Results", "Less pain."),
    ]  # fmt: skip
    assert abstract_sections("NSAIDs: a review of pain.", {}) == [("", "NSAIDs: a review of pain.")]


def test_nothing_reviewer1_does_is_visible_to_reviewer2_before_both_decided(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    d.decide(store, "reviewer2", ids[4], TA, "include")  # reviewer2's own work
    before = everything_visible_to(store, "reviewer2", TA, rules)
    for i, rid in enumerate(ids[:30]):
        if rid != ids[4]:
            d.decide(store, "reviewer1", rid, TA, ("include", "exclude", "maybe")[i % 3])
            d.set_note(store, "reviewer1", rid, TA, "reviewer1's private note")
    d.undo(store, "reviewer1", ids[5], TA)
    after = everything_visible_to(store, "reviewer2", TA, rules)
    assert after == before
    assert "reviewer1's private note" not in repr(after)
    assert conflicts(store, TA, rules) == []  # no record has both decisions yet
    # once both have decided ids[4] and disagree, reconciliation may show both decisions
    d.decide(store, "reviewer1", ids[4], TA, "exclude")
    assert [c.record_id for c in conflicts(store, TA, rules)] == [ids[4]]
    assert everything_visible_to(store, "reviewer2", TA, rules) == before


def test_full_text_queue_takes_title_abstract_includes_after_resolution(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    from reviewflow.screening.conflicts import resolve

    store, ids = review
    for rid, (a, b) in zip(ids[:4], [("include", "include"), ("include", "exclude"),
                                      ("maybe", "maybe"), ("exclude", "exclude")], strict=True):  # fmt: skip
        d.decide(store, "reviewer1", rid, TA, a)
        d.decide(store, "reviewer2", rid, TA, b)
    resolve(store, "adjudicator", ids[2], TA, "include", reason="population matches")
    q = ScreeningQueue(store, "reviewer1", FT, rules)
    assert [q.entry(p).record_id for p in range(len(q))] == [ids[0], ids[2]]  # type: ignore[union-attr]
    d.set_retrieval(store, "reviewer2", ids[2], retrieved=False)
    q.refresh()
    assert len(q) == 2 and q.progress().total == 1 and q.next_undecided() == 0
    assert q.record(ids[2]).not_retrieved
    q.apply(d.decide(store, "reviewer1", ids[0], FT, "include", rules=rules))
    assert q.next_undecided() is None and q.progress() == q.progress().__class__(1, 1)
