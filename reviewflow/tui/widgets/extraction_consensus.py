"""The discrepancy/consensus screen of ``reviewflow extract --consensus``.

On opening, every field where all reviewers gave the same value becomes a consensus value
(source ``agreed``; the status line says how many). The table lists every field where the
reviewers differ, their values side by side, and the consensus once set. ``1``/``2``/… take
that reviewer's value, ``e`` (or Enter) types another; each is committed and audited
(``consensus.set``) by the adjudicator, or by both reviewers together (``a+b``).

Only studies every reviewer has finished are compared; the status line says how many included
studies are still waiting for reviewers to finish (never who, nor their values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from reviewflow.errors import ReviewflowError
from reviewflow.extraction.consensus import (
    Comparison,
    accept_agreements,
    compare,
    set_consensus,
)
from reviewflow.extraction.studies import list_studies
from reviewflow.extraction.validate import check_value
from reviewflow.text import plural
from reviewflow.tui.widgets.extraction_dialogs import ExtractionHelp, ValuePrompt

if TYPE_CHECKING:
    from reviewflow.tui.extract_app import Extraction

HELP_TEXT = (
    "Every field where the reviewers' values differ (or one left it empty) is listed with both "
    "values. Take one reviewer's value with its number, or type the right value with e. Fields "
    "where the reviewers agree became consensus values when this screen opened (source "
    "'agreed'). Every consensus value is saved at once and written to the audit log. Only "
    "studies that every reviewer has finished are compared; the others are counted as waiting."
)


class DiscrepanciesLoaded(Message):
    def __init__(
        self, items: list[Comparison], agreed: int, error: str = "", waiting: int = 0
    ) -> None:
        super().__init__()
        self.items, self.agreed, self.error, self.waiting = items, agreed, error, waiting


class ConsensusSet(Message):
    def __init__(self, index: int, value: str, error: str = "") -> None:
        super().__init__()
        self.index, self.value, self.error = index, value, error


class ConsensusScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "take(1)", "Take 1st"),
        Binding("2", "take(2)", "Take 2nd"),
        Binding("3", "take(3)", "Take 3rd", show=False),
        Binding("e", "edit", "Type value"),
        Binding("u", "only_open", "Unsettled only"),
        Binding("r", "reload", "Refresh"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("q", "close", "Quit"),
    ]

    def __init__(self, extraction: Extraction) -> None:
        super().__init__()
        self.extraction = extraction
        self.items: list[Comparison] = []
        self.shown: list[int] = []
        self.only_open = False
        self.agreed_note = ""
        self.waiting = 0

    async def action_close(self) -> None:
        await self.extraction.wait_for_saves(self.app)
        self.dismiss()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Comparing the reviewers' extractions…", id="consensus-status")
        yield DataTable(id="discrepancies", cursor_type="row", zebra_stripes=True)
        yield Static(id="consensus-detail")
        yield Footer()

    DEFAULT_CSS = """
    ConsensusScreen #consensus-status { height: 1; padding: 0 2; background: $boost; }
    ConsensusScreen #discrepancies { height: 1fr; }
    ConsensusScreen #consensus-detail { height: auto; max-height: 10; padding: 0 2; background: $boost; }
    """

    def on_mount(self) -> None:
        self.load(first=True)

    @work(thread=True, exit_on_error=False, group="load")
    def load(self, first: bool = False) -> None:
        app = self.extraction
        by = app.consensus_by or app.reviewer
        try:
            ids = [s.id for s in list_studies(app.store, app.reviewers_per_record)]
            per = app.reviewers_per_record
            agreed = accept_agreements(app.store, app.form, by, ids, per) if first else -1
            found = compare(app.store, app.form, ids, per)
        except ReviewflowError as exc:
            self.post_message(DiscrepanciesLoaded([], 0, exc.message))
            return
        items = [c for sc in found for c in sc.discrepancies]
        waiting = sum(1 for sc in found if sc.waiting)
        self.post_message(DiscrepanciesLoaded(items, agreed, waiting=waiting))

    def action_reload(self) -> None:
        self.load()

    @on(DiscrepanciesLoaded)
    def loaded(self, message: DiscrepanciesLoaded) -> None:
        if message.error:
            self.notify(message.error, severity="error")
            return
        if message.agreed >= 0:
            self.agreed_note = (
                f"{plural(message.agreed, 'field')} where the reviewers agree became consensus "
                "values (agreed)"
            )
        self.items, self.waiting = message.items, message.waiting
        self.render_table()

    def render_table(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear(columns=True)
        width = max((len(c.values) for c in self.items), default=2)
        table.add_column("Study", width=22)
        table.add_column("Field", width=36)
        for i in range(width):
            table.add_column(f"{i + 1}", width=22)
        table.add_column("Consensus", width=18)
        self.shown = [
            i for i, c in enumerate(self.items) if not (self.only_open and c.consensus is not None)
        ]
        for i in self.shown:
            c = self.items[i]
            cells: list[str | Text] = [c.study, c.key]
            for who, value in c.values.items():
                shown = Text(f"{who}: ", style="dim")
                valid = not check_value(self.extraction.form.get(c.key), value).problem
                shown.append(value or "—", style="" if valid else "red")
                cells.append(shown)
            cells.extend([""] * (width - len(c.values)))
            cells.append(Text(c.consensus, style="bold green") if c.consensus is not None else "")
            table.add_row(*cells, key=str(i))
        if self.shown:
            table.move_cursor(row=min(max(keep, 0), len(self.shown) - 1))
        settled = sum(1 for c in self.items if c.consensus is not None)
        status = f"{plural(len(self.items), 'discrepancy', 'discrepancies')}, {settled} settled"
        if self.waiting:
            status += (
                f" · {plural(self.waiting, 'study', 'studies')} waiting for reviewers to finish"
            )
        if self.agreed_note:
            status += f" · {self.agreed_note}"
        self.query_one("#consensus-status", Static).update(status)
        self.show_detail()
        self.refresh_bindings()

    def current(self) -> int | None:
        if not self.shown:
            return None
        row = self.query_one(DataTable).cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    @on(DataTable.RowHighlighted)
    def highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def selected(self, _event: DataTable.RowSelected) -> None:
        self.action_edit()

    def show_detail(self) -> None:
        index = self.current()
        detail = self.query_one("#consensus-detail", Static)
        if index is None:
            detail.update("No discrepancies." if not self.items else "Nothing unsettled.")
            return
        c = self.items[index]
        spec = self.extraction.form.get(c.key)
        text = Text(f"{c.study}: {c.label}", style="bold")
        if spec.help:
            text.append(f"\n{spec.help}", style="dim")
        for n, (who, value) in enumerate(c.values.items(), 1):
            problem = check_value(spec, value).problem
            text.append(f"\n{n}. {who}: {value or '(empty)'}")
            if problem:
                text.append(f"  ✗ {problem}", style="red")
        if c.consensus is not None:
            text.append(
                f"\nconsensus: {c.consensus or '(empty)'} ({c.consensus_source})", style="green"
            )
        detail.update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("take", "edit"):
            index = self.current()
            if index is None:
                return None
            if action == "take" and int(str(parameters[0])) > len(self.items[index].values):
                return None
        return True

    def action_take(self, n: int) -> None:
        index = self.current()
        if index is None or n > len(self.items[index].values):
            return
        self.save(index, list(self.items[index].values.values())[n - 1])

    def action_edit(self) -> None:
        index = self.current()
        if index is None:
            return
        c = self.items[index]
        spec = self.extraction.form.get(c.key)
        start = c.consensus if c.consensus is not None else ""

        def done(value: str | None) -> None:
            if value is not None:
                self.save(index, value)

        self.app.push_screen(ValuePrompt(f"{c.study}: {c.label}", spec, start), done)

    def action_only_open(self) -> None:
        self.only_open = not self.only_open
        self.render_table()

    def action_help(self) -> None:
        self.app.push_screen(ExtractionHelp(self, HELP_TEXT))

    @work(thread=True, exit_on_error=False, group="consensus")
    def save(self, index: int, value: str) -> None:
        app = self.extraction
        c = self.items[index]
        try:
            stored = set_consensus(app.store, app.form, app.consensus_by or app.reviewer,
                                   c.study_id, c.key, value)  # fmt: skip
        except ReviewflowError as exc:
            self.post_message(ConsensusSet(index, value, exc.message))
            return
        self.post_message(ConsensusSet(index, stored))

    @on(ConsensusSet)
    def consensus_set(self, message: ConsensusSet) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
            return
        old = self.items[message.index]
        from dataclasses import replace

        self.items[message.index] = replace(
            old, consensus=message.value, consensus_source="adjudicated"
        )
        self.render_table()
        table = self.query_one(DataTable)
        if table.cursor_row < len(self.shown) - 1 and not self.only_open:
            table.move_cursor(row=table.cursor_row + 1)
