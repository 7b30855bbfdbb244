"""``reviewflow reconcile``: the conflicts of a stage, every reviewer's decision, reason, labels
and note side by side, and the final decision with its reason, by the adjudicator or both reviewers together.

Only records every required reviewer has decided reach this screen (the core lists conflicts
from :mod:`reviewflow.screening.flow`), so nothing here breaks the blinding of screening.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from reviewflow.errors import ReviewflowError, user_message
from reviewflow.screening import flow
from reviewflow.screening.conflicts import Conflict, conflicts, resolve
from reviewflow.screening.decisions import ScreeningRules, other_reason
from reviewflow.screening.queue import RecordView, record_view
from reviewflow.store.engine import Store
from reviewflow.tui.screen_app import DECISION_STYLE, OTHER_CHOICE, STAGE_NAMES, criteria_screen
from reviewflow.tui.widgets.dialogs import ChoicePrompt, HelpScreen, TextPrompt
from reviewflow.tui.widgets.record_panel import RecordPanel


@dataclass(frozen=True)
class ReconcileSetup:
    store: Store
    resolvers: tuple[str, ...]  # the adjudicator, or the reviewers together
    stage: str = flow.TITLE_ABSTRACT
    rules: ScreeningRules = field(default_factory=ScreeningRules)
    review_title: str = ""
    highlight_include: tuple[str, ...] = ()
    highlight_exclude: tuple[str, ...] = ()
    criteria: str = ""  # the question and eligibility criteria (ReviewConfig.criteria_text)


class ConflictsLoaded(Message):
    def __init__(self, items: list[Conflict], select: int | None, info: str = "") -> None:
        super().__init__()
        self.items, self.select, self.info = items, select, info


class ResolutionSaved(Message):
    """A resolution is committed (posted after the commit returned)."""

    def __init__(self, record_id: int, position: int, summary: str) -> None:
        super().__init__()
        self.record_id, self.position, self.summary = record_id, position, summary


class RecordShown(Message):
    def __init__(self, view: RecordView) -> None:
        super().__init__()
        self.view = view


def sides_table(conflict: Conflict) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False)
    for d in conflict.decisions:
        table.add_column(d.reviewer, ratio=1)
    cells = []
    for d in conflict.decisions:
        cell = Text(d.decision.upper(), style=DECISION_STYLE.get(d.decision, "bold"))
        if d.reason:
            cell.append(f"\n{d.reason}")
        if d.labels:
            cell.append("\nLabels: ", style="dim")
            cell.append(", ".join(d.labels), style="bold cyan")
        cell.append("\n" + (d.note or "(no note)"), style="italic" if d.note else "dim")
        cells.append(cell)
    table.add_row(*cells)
    if conflict.resolution:
        table.caption = (
            f"Resolved: {conflict.resolution.upper()} by {conflict.resolved_by} — "
            f"{conflict.resolution_reason}"
        )
    return table


class ReconcileScreen(Screen[None]):
    """The conflicts of one stage and their resolution (the adjudicator's)."""

    BINDINGS = [
        Binding("i", "resolve('include')", "Include"),
        Binding("e", "resolve('exclude')", "Exclude"),
        Binding("a", "toggle_resolved", "Show resolved"),
        Binding("question_mark", "help", "Help"),
        Binding("c", "criteria", "Criteria", show=False),
        Binding("q", "close", "Quit"),
    ]

    def __init__(self, setup: ReconcileSetup) -> None:
        super().__init__()
        self.setup = setup
        self.items: list[Conflict] = []
        self.current: Conflict | None = None
        self.show_resolved = False
        self.saving = False
        self.title = f"reviewflow · {setup.review_title}" if setup.review_title else "reviewflow"
        self.sub_title = f"reconciling {STAGE_NAMES[setup.stage]} · " + " + ".join(setup.resolvers)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="reconcile-status")
        with Horizontal():
            yield OptionList(id="conflicts")
            with Vertical(id="detail"):
                yield Static("", id="sides")
                yield RecordPanel(
                    self.setup.highlight_include, self.setup.highlight_exclude, id="record"
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conflicts", OptionList).focus()
        self.load_conflicts()

    # -- workers -----------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, exclusive=True, group="list")
    def load_conflicts(self, select: int | None = None, info: str = "") -> None:
        s = self.setup
        items = conflicts(s.store, s.stage, s.rules, include_resolved=self.show_resolved)
        self.post_message(ConflictsLoaded(items, select, info))

    @work(thread=True, exit_on_error=False, exclusive=True, group="record")
    def load_record(self, record_id: int) -> None:
        self.post_message(RecordShown(record_view(self.setup.store, record_id, self.setup.stage)))

    @work(thread=True, exit_on_error=False, group="save")
    def save(self, record_id: int, decision: str, reason: str, position: int) -> None:
        s = self.setup
        resolve(s.store, s.resolvers, record_id, s.stage, decision, reason, rules=s.rules)
        self.post_message(ResolutionSaved(record_id, position, f"{decision}d — {reason}"))

    # -- handlers ----------------------------------------------------------------------------
    def on_resolution_saved(self, message: ResolutionSaved) -> None:
        self.load_conflicts(message.position, f"record {message.record_id}: {message.summary}")

    def on_conflicts_loaded(self, message: ConflictsLoaded) -> None:
        self.saving = False
        self.items = message.items
        options = self.query_one("#conflicts", OptionList)
        options.clear_options()
        for c in self.items:
            mark = Text("✔ " if c.resolution else "• ", style="green" if c.resolution else "yellow")
            options.add_option(
                Option(mark + Text(f"{c.year or '----'} {c.title}"), id=str(c.record_id))
            )
        open_ = sum(1 for c in self.items if not c.resolution)
        self.query_one("#reconcile-status", Static).update(
            f"{open_:,} conflict{'' if open_ == 1 else 's'} to resolve" + (
                f" ({len(self.items) - open_:,} resolved shown)" if self.show_resolved else ""
            )
        )  # fmt: skip
        if self.items:
            index = min(message.select or 0, len(self.items) - 1)
            options.highlighted = index
            self.show_conflict(index)
        else:
            self.current = None
            self.query_one("#sides", Static).update("")
            self.query_one(RecordPanel).show(None, "No conflicts at this stage.")
        if message.info:
            self.notify(message.info, timeout=3)
        self.refresh_bindings()

    @on(OptionList.OptionHighlighted, "#conflicts")
    def highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index is not None and event.option_index < len(self.items):
            self.show_conflict(event.option_index)

    def show_conflict(self, index: int) -> None:
        conflict = self.items[index]
        if self.current == conflict:
            return
        self.current = conflict
        self.query_one("#sides", Static).update(sides_table(conflict))
        self.load_record(conflict.record_id)
        self.refresh_bindings()

    def on_record_shown(self, message: RecordShown) -> None:
        if self.current is not None and message.view.record_id == self.current.record_id:
            self.query_one(RecordPanel).show(message.view)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.saving = False
            self.notify(user_message(event.worker.error), severity="error", timeout=8)
            self.refresh_bindings()

    # -- actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "resolve" and (self.current is None or self.saving):
            return None
        return True

    def action_resolve(self, decision: str) -> None:
        # the highlighted line, not the last one shown: a key may arrive before the highlight
        # message that would have updated ``current``
        position = self.query_one("#conflicts", OptionList).highlighted
        if position is None or position >= len(self.items) or self.saving:
            return
        conflict = self.items[position]
        self.show_conflict(position)

        def with_reason(reason: str | None) -> None:
            if reason and reason.strip():
                self.saving = True
                self.refresh_bindings()
                self.save(conflict.record_id, decision, reason.strip(), position)
            elif reason is not None:
                self.notify("a resolution needs a reason", severity="warning")

        def picked(reason: str | None) -> None:
            if reason != OTHER_CHOICE:
                return with_reason(reason)

            def written(text: str | None) -> None:
                try:
                    with_reason(None if text is None else other_reason(text))
                except ReviewflowError as exc:
                    self.notify(user_message(exc), severity="warning")

            self.app.push_screen(TextPrompt("Other reason: why is this report excluded?"), written)

        if decision == "exclude" and self.setup.stage == flow.FULL_TEXT:
            choices = [*self.setup.rules.exclusion_reasons, OTHER_CHOICE]
            self.app.push_screen(ChoicePrompt("Why is this report excluded?", choices), picked)
        else:
            self.app.push_screen(
                TextPrompt(
                    f"Why {decision} record {conflict.record_id}?", conflict.resolution_reason
                ),
                with_reason,
            )

    def action_toggle_resolved(self) -> None:
        self.show_resolved = not self.show_resolved
        self.load_conflicts()

    def action_criteria(self) -> None:
        self.app.push_screen(criteria_screen(self.setup.criteria))

    def action_help(self) -> None:
        rows = [
            ("↑ ↓", "move through the conflicts", True),
            ("i", "final decision: include (asks why)", bool(self.check_action("resolve", ()))),
            ("e", "final decision: exclude (asks why)", bool(self.check_action("resolve", ()))),
            ("a", "show / hide conflicts already resolved (to revise them)", True),
            ("c", "the question and eligibility criteria (c again closes)", True),
            ("?", "this help", True),
            ("q", "quit (every resolution is already saved)", True),
        ]
        self.app.push_screen(HelpScreen("Reconciliation keys", rows))

    def action_close(self) -> None:
        """Leave once the resolution in flight (if any) is committed."""
        if self.saving:
            self.set_timer(0.05, self.action_close)
            return
        self.dismiss()


class ReconcileApp(App[None]):
    """``reviewflow reconcile``: the reconciliation screen on its own."""

    CSS_PATH = Path(__file__).parent / "app.tcss"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, setup: ReconcileSetup) -> None:
        super().__init__()
        self.reconciling = ReconcileScreen(setup)
        self.title = self.reconciling.title or "reviewflow"

    def on_mount(self) -> None:
        self.push_screen(self.reconciling, lambda _: self.exit())
