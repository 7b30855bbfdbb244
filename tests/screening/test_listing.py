"""The record list (filters, sorts, sources) and its bulk decisions, on both backends, blinded:
the other reviewer's decisions never show and a bulk decision never touches them."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from sqlmodel import col, select

from reviewflow.errors import InputError
from reviewflow.screening import decisions as d
from reviewflow.screening import flow
from reviewflow.screening.listing import (
    ListFilter,
    decide_undecided,
    label_names,
    list_records,
    source_names,
    undo_bulk,
)
from reviewflow.screening.queue import ScreeningQueue
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, DuplicateLink, Resolution
from tests.screening.helpers import add_records, nsaids_records

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


def ids_of(store: Store, reviewer: str, f: ListFilter, stage: str = TA) -> list[int]:
    return [r.record_id for r in list_records(store, reviewer, stage, f).rows]


def test_rows_carry_my_decision_year_author_title_and_position(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    d.decide(store, "reviewer1", ids[3], TA, "include")
    d.decide(store, "reviewer1", ids[5], TA, "exclude")
    q = ScreeningQueue(store, "reviewer1", TA, rules)
    listing = list_records(store, "reviewer1", TA, rules=rules)
    assert listing.total == len(ids) == len(listing.rows)
    assert [r.record_id for r in listing.rows] == ids  # position order by default
    for row in listing.rows:
        view = q.record(row.record_id)
        assert row.position == q.position_of(row.record_id)
        assert (row.year, row.title) == (view.year, view.title)
        assert row.first_author == (view.authors[0] if view.authors else "")
        assert row.decision == (view.mine.decision if view.mine else None)
        assert row.sources == ("PubMed",)
    assert [r.decision for r in listing.rows[3:6]] == ["include", None, "exclude"]


def test_filters_by_my_decision_words_years_and_source(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    decided = ["include", "exclude", "maybe", "exclude", "include", "maybe"]
    for rid, dec in zip(ids[:6], decided, strict=True):
        d.decide(store, "reviewer1", rid, TA, dec)
    assert ids_of(store, "reviewer1", ListFilter(decision="exclude")) == [ids[1], ids[3]]
    assert ids_of(store, "reviewer1", ListFilter(decision="undecided")) == ids[6:]
    q = ScreeningQueue(store, "reviewer1", TA, rules)
    rows = {r.record_id: r for r in list_records(store, "reviewer1", TA).rows}
    assert ids_of(store, "reviewer1", ListFilter(words="pain nsaid")) == [
        h.record_id for h in q.search("pain nsaid")
    ]  # the same words-AND search as "/"
    years = sorted({r.year for r in rows.values() if r.year})
    low, high = years[1], years[-2]
    assert ids_of(store, "reviewer1", ListFilter(year_from=low, year_to=high)) == [
        rid for rid, r in rows.items() if r.year and low <= r.year <= high
    ]
    assert ids_of(store, "reviewer1", ListFilter(year_from=high)) == [
        rid for rid, r in rows.items() if r.year and r.year >= high
    ]
    both = ListFilter(decision="undecided", words="the", year_to=high)
    assert ids_of(store, "reviewer1", both) == [
        rid for rid in ids_of(store, "reviewer1", ListFilter(words="the"))
        if rows[rid].decision is None and rows[rid].year and rows[rid].year <= high
    ]  # fmt: skip
    # a second database: new records from Embase, one of them a duplicate of a PubMed record
    embase = add_records(store, nsaids_records(63)[60:], source="Embase")
    with store.write() as s:
        s.add(DuplicateLink(group_id=1, record_id=embase[0], kept_record_id=ids[7],
                            method="manual"))  # fmt: skip
    assert source_names(store) == ["Embase", "PubMed"]
    assert ids_of(store, "reviewer1", ListFilter(source="embase")) == [ids[7], *embase[1:]]
    assert len(ids_of(store, "reviewer1", ListFilter(source="PubMed"))) == len(ids)
    assert list_records(store, "reviewer1", TA).rows[7].sources == ("Embase", "PubMed")
    with pytest.raises(InputError, match="first is after the last"):
        list_records(store, "reviewer1", TA, ListFilter(year_from=2000, year_to=1990))


def test_sorts_by_year_title_author_and_decision(review: tuple[Store, list[int]]) -> None:
    store, ids = review
    d.decide(store, "reviewer1", ids[10], TA, "exclude")
    d.decide(store, "reviewer1", ids[11], TA, "include")
    rows = list_records(store, "reviewer1", TA).rows

    def order(sort: str, descending: bool = False) -> list[int]:
        f = ListFilter(sort=sort, descending=descending)
        return [r.record_id for r in list_records(store, "reviewer1", TA, f).rows]

    by_year = sorted(rows, key=lambda r: (r.year is None, r.year or 0, r.position))
    assert order("year") == [r.record_id for r in by_year]
    assert order("year", descending=True) == [r.record_id for r in reversed(by_year)]
    assert order("title") == [
        r.record_id for r in sorted(rows, key=lambda r: (r.title.casefold(), r.position))
    ]
    authors = [
        r.first_author for r in list_records(store, "reviewer1", TA, ListFilter(sort="author")).rows
    ]
    named = [a for a in authors if a]
    assert named == sorted(named, key=str.casefold) and authors[: len(named)] == named
    assert order("decision")[-2:] == [ids[11], ids[10]]  # undecided, include, maybe, exclude
    assert order("position") == ids


def test_the_other_reviewers_decisions_never_show_and_bulk_never_touches_them(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    for rid in ids[:40]:
        d.decide(store, "reviewer2", rid, TA, "include")
        d.set_note(store, "reviewer2", rid, TA, "SECRET")
    d.decide(store, "reviewer1", ids[0], TA, "maybe")
    listing = list_records(store, "reviewer1", TA)
    assert [r.decision for r in listing.rows] == ["maybe"] + [None] * (len(ids) - 1)
    assert "SECRET" not in repr([asdict(r) for r in listing.rows])
    assert ids_of(store, "reviewer1", ListFilter(decision="include")) == []
    theirs = d.my_decisions(store, "reviewer2", TA)
    undecided = ids_of(store, "reviewer1", ListFilter(decision="undecided", words="the"))
    calls: list[tuple[int, int]] = []
    asked = [ids[0], *undecided]
    result = decide_undecided(store, "reviewer1", TA, asked, "exclude", rules=rules,
                              progress=lambda n, of: calls.append((n, of)))  # fmt: skip
    assert len(asked) > 50 and calls == [(n, len(asked)) for n in range(50, len(asked), 50)]
    assert [c.record_id for c in result.changes] == undecided
    assert result.skipped == {"already decided by you": 1}  # my "maybe" is not revised
    assert d.my_decisions(store, "reviewer2", TA) == theirs  # untouched, notes and all
    mine = {m.record_id: m.decision for m in d.my_decisions(store, "reviewer1", TA)}
    assert mine == {ids[0]: "maybe", **{rid: "exclude" for rid in undecided}}


def test_bulk_decision_is_audited_per_record_and_undone_per_record(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    batch = ids[20:30]
    with store.write() as s:  # reconciled records are final: left alone
        s.add(Resolution(record_id=batch[0], stage=TA, decision="exclude"))
    result = decide_undecided(store, "reviewer1", TA, batch, "maybe", rules=rules)
    assert [c.record_id for c in result.changes] == batch[1:]
    assert result.skipped == {"already reconciled": 1}
    assert all(c.before is None and c.after and c.after.decision == "maybe" for c in result.changes)
    with store.read() as s:
        audit = s.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    assert [(e.action, e.actor, e.record_id) for e in audit] == [
        ("decision.set", "reviewer1", rid) for rid in batch[1:]
    ]
    assert d.last_changed(store, "reviewer1", TA) == batch[-1]  # u after a restart: the last one
    undone = undo_bulk(store, "reviewer1", TA, [c.record_id for c in result.changes])
    assert [c.record_id for c in undone] == batch[1:][::-1] and all(c.after is None for c in undone)
    assert d.my_decisions(store, "reviewer1", TA) == []
    with store.read() as s:
        actions = s.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert list(actions) == ["decision.set"] * 9 + ["decision.undo"] * 9


def test_full_text_bulk_needs_one_reason_and_skips_reports_not_retrieved(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    for rid in ids[:5]:
        for who in ("reviewer1", "reviewer2"):
            d.decide(store, who, rid, TA, "include")
    d.set_retrieval(store, "reviewer2", ids[1], retrieved=False)
    listing = list_records(store, "reviewer1", FT, rules=rules)
    assert [r.record_id for r in listing.rows] == ids[:5] and listing.total == 5
    assert [r.not_retrieved for r in listing.rows] == [False, True, False, False, False]
    with pytest.raises(InputError, match="needs a reason"):
        decide_undecided(store, "reviewer1", FT, ids[:5], "exclude", rules=rules)
    reason = rules.exclusion_reasons[0]
    result = decide_undecided(store, "reviewer1", FT, ids[:5], "exclude", reason, rules=rules)
    assert [c.record_id for c in result.changes] == [ids[0], *ids[2:5]]
    assert result.skipped == {"report not retrieved": 1}
    assert {m.record_id: m.reason for m in d.my_decisions(store, "reviewer1", FT)} == {
        rid: reason for rid in [ids[0], *ids[2:5]]
    }
    rows = list_records(store, "reviewer1", FT, ListFilter(decision="exclude"), rules).rows
    assert [r.reason for r in rows] == [reason] * 4
    assert decide_undecided(store, "reviewer1", FT, ids[5:7], "include", rules=rules).skipped == {
        "not in this stage": 2
    }


def test_positions_follow_the_relevance_order_the_screen_shows(
    review: tuple[Store, list[int]], rules: d.ScreeningRules
) -> None:
    store, ids = review
    order = ids[::-1]  # as a relevance order would give them: every record once
    q = ScreeningQueue(store, "reviewer1", TA, rules)
    q.set_order(order)
    rows = list_records(store, "reviewer1", TA, rules=rules, order=order).rows
    assert [r.record_id for r in rows] == order
    assert all(r.position == q.position_of(r.record_id) for r in rows)


def test_label_filter_reads_my_labels_only_and_title_abstract_reasons_are_optional(
    review: tuple[Store, list[int]],
) -> None:
    store, ids = review
    rules = d.ScreeningRules(title_abstract_reasons=("wrong population", "not a trial"))
    d.decide(store, "reviewer1", ids[3], TA, "exclude", "not a trial", rules=rules)
    d.set_labels(store, "reviewer1", ids[3], TA, ["Pediatric", "ask author"])
    d.set_labels(store, "reviewer1", ids[9], TA, ["pediatric"])  # waits for my decision
    d.decide(store, "reviewer2", ids[5], TA, "include")
    d.set_labels(store, "reviewer2", ids[5], TA, ["pediatric", "THEIRS"])
    mine = label_names(store, "reviewer1", TA)  # each label once, whatever its case
    assert [x.casefold() for x in mine] == ["ask author", "pediatric"]
    assert label_names(store, "reviewer2", TA) == ["pediatric", "THEIRS"]
    rows = list_records(store, "reviewer1", TA, ListFilter(label="PEDIATRIC"), rules).rows
    assert [(r.record_id, r.labels, r.reason) for r in rows] == [
        (ids[3], ("Pediatric", "ask author"), "not a trial"), (ids[9], ("pediatric",), ""),
    ]  # fmt: skip
    assert ids_of(store, "reviewer1", ListFilter(label="THEIRS")) == []
    with pytest.raises(InputError, match="title_abstract_exclusion_reasons"):
        decide_undecided(store, "reviewer1", TA, ids[10:12], "exclude", "made up", rules)
    done = decide_undecided(
        store, "reviewer1", TA, ids[10:14], "exclude", "wrong population", rules
    )
    assert {c.after.reason for c in done.changes if c.after} == {"wrong population"}
    other = d.other_reason("animal study")
    for rid in ids[:2]:
        for who in ("reviewer1", "reviewer2"):
            d.decide(store, who, rid, TA, "include")
    done = decide_undecided(store, "reviewer1", FT, ids[:2], "exclude", other, rules)
    assert [c.after.reason for c in done.changes if c.after] == [other, other]
