"""The record list, opened from the screening screen (``L``): every record of the stage with my
own decision, filtered and sorted; Enter opens one in the screening screen; ``b`` decides every
UNDECIDED record of the filtered list at once (asked for, with the count, before anything is
saved). Only the core is called (:mod:`reviewflow.screening.listing`): it lists this reviewer's
own decisions and nothing of anyone else's, and a bulk decision is one audited ``decide()`` per
record. The screen returns what it changed, so the screening screen can undo a batch with ``u``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from reviewflow.errors import ReviewflowError, user_message
from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening import listing as lst
from reviewflow.store.engine import Store
from reviewflow.text import plural
from reviewflow.tui.screen_app import NO_REASON_CHOICE, OTHER_CHOICE
from reviewflow.tui.widgets.dialogs import ChoicePrompt, TextPrompt

DECISION_STYLE = {"include": "bold green", "exclude": "bold red", "maybe": "bold yellow"}
ANY_SOURCE, ANY_LABEL = "(any source)", "(any label)"
PAGE = 200  # rows in the table at a time: Textual measures every cell it is given


@dataclass
class ListResult:
    """What the list did: the record to open (or None), every change it committed in order
    (bulk decisions and their undos), and the batches still standing (for ``u``)."""

    open_id: int | None = None
    filter: lst.ListFilter = field(default_factory=lst.ListFilter)  # for the next time
    changes: list[core.Change] = field(default_factory=list)
    batches: list[tuple[int, ...]] = field(default_factory=list)


def parse_years(text: str) -> tuple[int | None, int | None]:
    """``2005``, ``1990-2000``, ``2005-`` or ``-1999`` (empty: any year). ValueError else."""
    text = text.strip().replace("–", "-")
    if not text:
        return None, None
    low, dash, high = text.partition("-")
    if not dash:
        return int(low), int(low)
    return (int(low) if low.strip() else None), (int(high) if high.strip() else None)


class RecordListScreen(Screen[ListResult]):
    """One reviewer's records at one stage, as a table."""

    DEFAULT_CSS = """
    RecordListScreen #filters { height: auto; padding: 0 1; background: $boost; }
    RecordListScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("d", "cycle_decision", "Mine"),
        Binding("slash", "words", "Words", key_display="/"),
        Binding("y", "years", "Year"),
        Binding("f", "source", "Source"),
        Binding("t", "label", "Label"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("x", "clear", "Clear", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", key_display="]", show=False),
        Binding("left_square_bracket", "page(-1)", "Previous page", key_display="[", show=False),
        Binding("b", "bulk", "Bulk"),
        Binding("u", "undo", "Undo"),
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(
        self,
        store: Store,
        reviewer: str,
        stage: str,
        rules: core.ScreeningRules,
        order: list[int] | None = None,
        bulk_refusal: str = "",
        start: lst.ListFilter | None = None,
        at: int | None = None,
    ) -> None:
        super().__init__()
        self.store, self.reviewer, self.stage, self.rules = store, reviewer, stage, rules
        self.order, self.bulk_refusal = order, bulk_refusal
        self.filter = start or lst.ListFilter()
        self.at = at  # the record to put the cursor on first (the one being screened)
        self.listing: lst.Listing | None = None
        self.page = 0
        self.result = ListResult()
        self.busy = False
        self.sources: list[str] = []
        self.labels: list[str] = []
        self.title = "reviewflow · record list"
        self.sub_title = (
            f"{reviewer} · {'full text' if stage == flow.FULL_TEXT else 'title/abstract'}"
        )

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="filters")
        yield DataTable(id="records", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload(self.at)

    def on_resize(self) -> None:
        if self.listing is not None:
            self.show_listing(self.listing)

    # -- workers -----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="list")
    def reload(self, keep: int | None = None) -> None:
        if not self.sources:
            self.sources = lst.source_names(self.store)
        self.labels = lst.label_names(self.store, self.reviewer, self.stage)  # new ones since
        f = self.filter
        listing = lst.list_records(self.store, self.reviewer, self.stage, f, self.rules, self.order)
        if not get_current_worker().is_cancelled:  # a newer filter's listing is on its way
            self.app.call_from_thread(self.listed, listing, f, keep)

    def listed(self, listing: lst.Listing, f: lst.ListFilter, keep: int | None) -> None:
        if (f.sort, f.descending) != (self.filter.sort, self.filter.descending):  # sorted since
            listing = lst.Listing(lst.sort_rows(listing.rows, self.filter), listing.total)
        self.show_listing(listing, keep)

    @work(thread=True, exit_on_error=False, group="bulk")
    def run_bulk(self, ids: list[int], decision: str, reason: str) -> None:
        def saved(n: int, of: int) -> None:
            self.app.call_from_thread(self.saving, n, of)

        done = lst.decide_undecided(self.store, self.reviewer, self.stage, ids, decision, reason,
                                    self.rules, saved)  # fmt: skip
        self.app.call_from_thread(self.bulk_done, done, decision)

    @work(thread=True, exit_on_error=False, group="bulk")
    def run_undo(self, batch: tuple[int, ...]) -> None:
        undone = lst.undo_bulk(self.store, self.reviewer, self.stage, list(batch))
        self.app.call_from_thread(self.undo_done, undone)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.busy = False
            self.notify(user_message(event.worker.error), severity="error", timeout=8)

    # -- showing -----------------------------------------------------------------------------
    def show_listing(self, listing: lst.Listing, keep: int | None = None) -> None:
        """Show the page of the listing that holds ``keep`` (or the record under the cursor),
        else the first page; a table of 20,000 rows takes Textual seconds to lay out."""
        self.listing = listing
        table = self.query_one(DataTable)
        if keep is None and table.row_count and table.cursor_row < table.row_count:
            keep = int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        at = next((i for i, r in enumerate(listing.rows) if r.record_id == keep), None)
        self.page = 0 if at is None else at // PAGE
        self.fill(keep if at is not None else None)

    def fill(self, keep: int | None = None) -> None:
        assert self.listing is not None
        table = self.query_one(DataTable)
        table.clear(columns=True)
        rows = self.listing.rows[self.page * PAGE : (self.page + 1) * PAGE]
        # a reason column where reasons are given; labels where there is room for them
        reasons = self.stage == flow.FULL_TEXT or bool(self.rules.title_abstract_reasons)
        reasons = reasons or any(r.reason for r in rows)
        # fixed columns; the title takes the rest (each column has a cell padding of 1 a side)
        wide = self.size.width >= 120
        widths = {"#": 6, "Mine": 7, "Year": 4, "First author": 16 if wide else 12,
                  "Sources": max(8, min(40, (self.size.width - 80) // 3))}  # fmt: skip
        if reasons:
            widths["Reason"] = 14
        if wide:
            widths["Labels"] = 20
        title_width = max(20, self.size.width - sum(widths.values()) - 2 * (len(widths) + 1) - 2)
        for name in ("#", "Mine", "Year", "First author", "Title", "Sources", "Reason", "Labels"):
            if name in widths or name == "Title":
                table.add_column(name, key=name, width=widths.get(name, title_width))
        for row in rows:
            mine = Text(row.decision or "—", style=DECISION_STYLE.get(row.decision or "", "dim"))
            if row.not_retrieved:
                mine = Text("not retr.", style="magenta")
            cells: list[object] = [
                Text(f"{row.position + 1:,}", justify="right"), mine, str(row.year or ""), _cut(row.first_author),
                _cut(row.title), _cut(_sources(row.sources, wide)),
            ]  # fmt: skip
            if reasons:
                cells.append(_cut(row.reason))
            if wide:
                cells.append(_cut(", ".join(row.labels)))
            table.add_row(*cells, key=str(row.record_id))
        # the cursor stays on its record when that is still listed, else goes to the top
        kept = keep is not None and str(keep) in table.rows
        table.move_cursor(row=table.get_row_index(str(keep)) if kept else 0)
        self.show_filters()

    def action_page(self, step: int) -> None:
        if self.listing is None or self.busy:
            return
        pages = max(1, -(-len(self.listing.rows) // PAGE))
        if 0 <= self.page + step < pages:
            self.page += step
            self.fill()

    def show_filters(self) -> None:
        f, listing = self.filter, self.listing
        parts = [f"mine: {f.decision or 'any'}"]
        if f.words:
            parts.append(f"words: {f.words!r}")
        if f.year_from is not None or f.year_to is not None:
            low, high = f.year_from, f.year_to
            parts.append(f"year: {low}" if low == high else f"year: {low or ''}–{high or ''}")
        if f.source:
            parts.append(f"source: {f.source}")
        if f.label:
            parts.append(f"label: {f.label}")
        parts.append(f"sort: {f.sort}{' ↓' if f.descending else ''}")
        line = Text(" · ".join(parts))
        if listing is not None:
            undecided = sum(1 for r in listing.rows if r.decision is None and not r.not_retrieved)
            line.append(f"\n{len(listing.rows):,} of {plural(listing.total, 'record')} listed, "
                        f"{undecided:,} undecided by you", style="bold")  # fmt: skip
            if len(listing.rows) > PAGE:
                first = self.page * PAGE
                last = min(first + PAGE, len(listing.rows))
                line.append(f" · rows {first + 1:,}-{last:,} ([ ] pages)")
        line.append("\nEnter opens · r reverses the sort · x clears the filters", style="dim")
        self.query_one("#filters", Static).update(line)

    # -- filters and sorting -----------------------------------------------------------------
    def _set(self, **changes: object) -> None:
        self.filter = replace(self.filter, **changes)  # type: ignore[arg-type]
        self.query_one("#filters", Static).update("Listing…")
        self.reload()

    def action_cycle_decision(self) -> None:
        choices = ["", *lst.SHOWN]
        self._set(decision=choices[(choices.index(self.filter.decision) + 1) % len(choices)])

    def _sort(self, sort: str, descending: bool) -> None:
        """Sort the rows listed (no new query); the cursor stays on its record."""
        self.filter = replace(self.filter, sort=sort, descending=descending)
        if self.listing is not None and not self.busy:
            rows = lst.sort_rows(self.listing.rows, self.filter)
            self.show_listing(lst.Listing(rows, self.listing.total))

    def action_cycle_sort(self) -> None:
        sorts = lst.SORTS
        self._sort(sorts[(sorts.index(self.filter.sort) + 1) % len(sorts)], False)

    def action_reverse(self) -> None:
        self._sort(self.filter.sort, not self.filter.descending)

    def action_clear(self) -> None:
        self._set(decision="", words="", year_from=None, year_to=None, source="", label="")

    def action_words(self) -> None:
        def got(text: str | None) -> None:
            if text is not None:
                self._set(words=text.strip())

        hint = "every word in title or abstract (any order), or a PMID, DOI, record id"
        self.app.push_screen(TextPrompt("Filter by words", self.filter.words, hint=hint), got)

    def action_years(self) -> None:
        f = self.filter
        now = "" if f.year_from is None and f.year_to is None else (
            str(f.year_from) if f.year_from == f.year_to else f"{f.year_from or ''}-{f.year_to or ''}"
        )  # fmt: skip

        def got(text: str | None) -> None:
            if text is None:
                return
            try:
                low, high = parse_years(text)
            except ValueError:
                self.notify("type a year (2005) or a range (1990-2000, 2005-, -1999)",
                            severity="warning")  # fmt: skip
                return
            if low is not None and high is not None and low > high:
                self.notify(f"{low}-{high}: the first year is after the last", severity="warning")
                return
            self._set(year_from=low, year_to=high)

        hint = "2005, 1990-2000, 2005- or -1999; empty for any year"
        self.app.push_screen(TextPrompt("Filter by year", now, hint=hint), got)

    def action_label(self) -> None:
        if not self.labels:
            self.notify("you have put no labels on records at this stage (t in the screening "
                        "screen)", severity="warning")  # fmt: skip
            return

        def got(choice: str | None) -> None:
            if choice is not None:
                self._set(label="" if choice == ANY_LABEL else choice)

        self.app.push_screen(ChoicePrompt("Records with my label", [ANY_LABEL, *self.labels]), got)

    def action_source(self) -> None:
        if not self.sources:
            self.notify("no search or import runs name a source", severity="warning")
            return

        def got(choice: str | None) -> None:
            if choice is not None:
                self._set(source="" if choice == ANY_SOURCE else choice)

        choices = [ANY_SOURCE, *self.sources]
        self.app.push_screen(ChoicePrompt("Records found by", choices), got)

    # -- open, bulk, undo, back ----------------------------------------------------------------
    @on(DataTable.RowSelected)
    def selected(self, event: DataTable.RowSelected) -> None:
        self.open_record(int(str(event.row_key.value)))

    def open_record(self, record_id: int) -> None:
        if not self.busy:
            self.result.open_id = record_id
            self.action_close()

    def action_bulk(self) -> None:
        if self.busy or self.listing is None:
            return
        if self.bulk_refusal:
            self.notify(self.bulk_refusal, severity="warning", timeout=8)
            return
        ids = [r.record_id for r in self.listing.rows if r.decision is None and not r.not_retrieved]
        if not ids:
            self.notify("no record in this list is undecided by you", severity="warning")
            return
        n = plural(len(ids), "undecided record")
        decisions = ["include", "exclude", "maybe"]

        def chosen(decision: str | None) -> None:
            if decision is None:
                return
            full_text = self.stage == flow.FULL_TEXT
            choices = (  # what ``e`` offers in the screening screen
                [*self.rules.exclusion_reasons, OTHER_CHOICE]
                if full_text
                else [*self.rules.title_abstract_reasons, NO_REASON_CHOICE]
                if self.rules.title_abstract_reasons
                else []
            )  # fmt: skip
            if decision != "exclude" or not choices:
                confirm(decision, "")
                return

            def with_reason(reason: str | None) -> None:
                if reason == OTHER_CHOICE:
                    self.app.push_screen(
                        TextPrompt(f"Other reason: why are the {n} excluded?"), written
                    )
                elif reason is not None:
                    confirm(decision, "" if reason == NO_REASON_CHOICE else reason)

            def written(text: str | None) -> None:
                if text is not None:
                    try:
                        confirm(decision, core.other_reason(text))
                    except ReviewflowError as exc:
                        self.notify(user_message(exc), severity="warning")

            optional = "" if full_text else ", optional"
            question = f"Why are the {n} excluded? (one reason for all{optional})"
            self.app.push_screen(ChoicePrompt(question, choices), with_reason)

        def confirm(decision: str, reason: str) -> None:
            yes = f"Yes: {decision} all {len(ids):,}" + (f" ({reason})" if reason else "")
            question = f"{decision.capitalize()} the {n} listed?"  # short: 80 columns

            def answered(answer: str | None) -> None:
                if answer == yes:
                    self.start_bulk(ids, decision, reason)

            self.app.push_screen(ChoicePrompt(question, [yes, "No, cancel"]), answered)

        self.app.push_screen(
            ChoicePrompt(f"Decide the {n} listed:", decisions),
            chosen,
        )

    def start_bulk(self, ids: list[int], decision: str, reason: str) -> None:
        self.busy = True
        self.query_one("#filters", Static).update(f"Saving {plural(len(ids), 'decision')}…")
        self.run_bulk(ids, decision, reason)

    def saving(self, n: int, of: int) -> None:
        self.query_one("#filters", Static).update(f"Saving: {n:,} of {plural(of, 'record')}…")

    def bulk_done(self, done: lst.BulkResult, decision: str) -> None:
        self.busy = False
        self.result.changes.extend(done.changes)
        if done.changes:
            self.result.batches.append(tuple(c.record_id for c in done.changes))
        text = f"{plural(len(done.changes), 'record')} marked {decision}"
        if done.skipped:
            text += "; left alone: " + ", ".join(f"{n:,} {why}" for why, n in done.skipped.items())
        self.notify(text + " (u undoes the batch)", timeout=6)
        self.reload()

    def action_undo(self) -> None:
        if self.busy:
            return
        if not self.result.batches:
            self.notify("no bulk decision of this list to undo (q, then u, for single ones)",
                        timeout=4)  # fmt: skip
            return
        self.busy = True
        self.run_undo(self.result.batches.pop())

    def undo_done(self, undone: list[core.Change]) -> None:
        self.busy = False
        self.result.changes.extend(undone)
        self.notify(f"bulk decision undone on {plural(len(undone), 'record')}", timeout=4)
        self.reload()

    def action_close(self) -> None:
        if self.busy:
            self.set_timer(0.05, self.action_close)
            return
        self.result.filter = self.filter
        self.dismiss(self.result)


def _sources(names: tuple[str, ...], wide: bool) -> str:
    """``Embase, PubMed``; ``Embase +1`` in a narrow table."""
    if wide or len(names) < 2:
        return ", ".join(names)
    return f"{names[0]} +{len(names) - 1}"


def _cut(text: str) -> Text:
    return Text(text, no_wrap=True, overflow="ellipsis", end="")
