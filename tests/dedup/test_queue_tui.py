"""The manual queue pane: side by side, differing fields marked, decisions on the keypress."""

from __future__ import annotations

from rich.text import Text
from sqlmodel import col, select
from textual.widgets import Static

from reviewflow.acquire.importer import start_run, store_records
from reviewflow.dedup import review
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.models import AuditEntry, DuplicateCandidate, Reviewer
from reviewflow.tui.dedup_queue import DIFFERS, DedupQueueApp, field_rows
from tests.dedup.helpers import labelled


def _queued_store(store: Store, name: str = "special_cases") -> None:
    with store.write() as s:
        s.add(Reviewer(name="alice"))  # as review.toml's reviewers are mirrored
        run = start_run(s, kind="import", source="special", file_name="records_pre_merged.csv")
        store_records(s, run, labelled(name))
    review.run(store)


def status(app: DedupQueueApp) -> str:
    return str(app.query_one("#status", Static).render())


def test_field_rows_mark_differences() -> None:
    a = RecordData(title="Stroke care", year=2021, doi="10.1/a")
    b = RecordData(title="Stroke Care.", year=2022, doi="10.1/a")
    rows = {name: differs for name, _x, _y, differs in field_rows(a, b)}
    assert rows["Title"] is False and rows["Year"] is True and rows["DOI"] is False


async def test_keypress_commits_decision(store: Store) -> None:
    _queued_store(store)
    app = DedupQueueApp(store, "alice")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert "Pair 1 of 1" in str(app.query_one("#status").render())
        await pilot.press("n")
        await pilot.pause()
        with store.read() as s:
            candidate = s.exec(select(DuplicateCandidate)).one()
            assert (candidate.status, candidate.decided_by) == ("distinct", "alice")
        await pilot.press("u")  # reopen
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
    with store.read() as s:
        assert s.exec(select(DuplicateCandidate)).one().status == "duplicate"
        assert review.duplicates_removed(s) == 4
        actions = s.exec(
            select(AuditEntry.action)
            .where(AuditEntry.actor == "alice")
            .order_by(col(AuditEntry.id))
        ).all()
        assert actions == ["dedup.distinct", "dedup.maybe", "dedup.merge", "dedup.duplicate"]


# haematology's records id_0000245 and id_0000246 (tests/data/dedup): two trials whose titles
# differ only in their 15th word, past the first 100 characters
SENSITIVE = "An open-label, multi-centre controlled clinical trial of eculizumab in adult patients with plasma therapy-sensitive atypical hemolytic uremic syndrome (AHUS)"  # fmt: skip


def test_word_diff_marks_the_words_that_differ() -> None:
    resistant = SENSITIVE.replace("sensitive atypical hemolytic uremic syndrome",
                                  "resistant Atypical Hemolytic Uremic Syndrome")  # fmt: skip
    x, y = review.word_diff(resistant, SENSITIVE)
    assert [w for w, differs in x if differs] == ["resistant "]  # case does not count
    assert [w for w, differs in y if differs] == ["sensitive "]
    assert "".join(w for w, _ in x) == resistant
    cut = review.around_differences(x, context=3)
    # 3 words of context before; the 5 words after are too few to cut
    assert cut == [("… with plasma therapy-", False), ("resistant ", True),
                   ("Atypical Hemolytic Uremic Syndrome (AHUS)", False)]  # fmt: skip


async def test_long_fields_wrap_and_the_differing_words_are_marked(store: Store) -> None:
    _queued_store(store, "haematology")
    app = DedupQueueApp(store, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [(i.record_a.title, i.record_b.title) for i in app.items]
        app.position = next(i for i, pair in enumerate(titles) if SENSITIVE in pair)
        app.show()
        await pilot.pause()
        row = app.query_one("#field-title")
        a, b = (row.query_one(side, Static) for side in (".a", ".b"))
        shown = {str(a.render()), str(b.render())}
        assert SENSITIVE in shown  # whole, not cut at the column's width
        assert a.size.height >= 4 and a.size.width < 40  # wrapped into its column
        texts = [side.content for side in (a, b)]
        assert all(isinstance(t, Text) for t in texts)
        marked = {t.plain[span.start : span.end] for t in texts for span in t.spans  # type: ignore[union-attr]
                  if span.style == DIFFERS}  # fmt: skip
        assert marked == {"resistant", "sensitive"}
        assert row.has_class("-differs")
        assert not app.query_one("#field-year").has_class("-differs")


async def test_a_skipped_pair_is_counted_and_offered_again(store: Store) -> None:
    _queued_store(store)  # one pair
    app = DedupQueueApp(store, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert "No pairs left" not in status(app)
        assert "1 skipped pair still open: s to go back to it" in status(app)
        await pilot.press("s")
        await pilot.pause()
        assert "Pair 1 of 1" in status(app)
        await pilot.press("n")
        await pilot.pause()
        assert "No pairs left to decide (1 decided now)" in status(app)
    with store.read() as s:
        assert s.exec(select(DuplicateCandidate.status)).one() == "distinct"


async def test_a_name_that_is_not_a_reviewer_is_refused(store: Store) -> None:
    _queued_store(store)
    app = DedupQueueApp(store, "mallory")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Refused: review.toml: no reviewer named 'mallory'" in status(app)
        await pilot.press("d", "n")
        await pilot.pause()
    with store.read() as s:
        assert s.exec(select(DuplicateCandidate.status)).one() == "maybe"
        assert not s.exec(select(AuditEntry).where(AuditEntry.actor == "mallory")).all()
