"""``reviewflow screen``: one record at a time, single keys, every decision committed on the key.

The app only calls the screening core. Database work runs in thread workers that report back by
message; the handlers own the UI state. A decision is saved by a plain (never exclusive) worker
and the screen moves on only when the commit has returned, so a later keypress cannot cancel
it and a killed process loses nothing it showed as saved.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from reviewflow.errors import ReviewflowError, user_message
from reviewflow.screening import decisions as core
from reviewflow.screening import flow
from reviewflow.screening.queue import Progress, RecordView, ScreeningQueue, SearchHit
from reviewflow.store.engine import Store
from reviewflow.tui.widgets.dialogs import (
    ChoicePrompt,
    CommaSuggester,
    HelpScreen,
    SearchPrompt,
    TextPrompt,
)
from reviewflow.tui.widgets.pdf import open_fulltext
from reviewflow.tui.widgets.record_panel import RecordPanel
from reviewflow.tui.widgets.text_screen import TextScreen

if TYPE_CHECKING:  # numpy and scipy load only when the relevance order is asked for
    from reviewflow.screening.listing import ListFilter
    from reviewflow.screening.prioritise import Ranking, RelevanceOrder

DECISION_STYLE = {"include": "bold green", "exclude": "bold red", "maybe": "bold yellow"}
STAGE_NAMES = {flow.TITLE_ABSTRACT: "title/abstract", flow.FULL_TEXT: "full text"}
# the extra choices of the exclusion reason picker
NO_REASON_CHOICE = "No reason (skip)"  # title/abstract: a reason is optional
OTHER_CHOICE = "Other… (your own words)"  # full text: a reason not in review.toml's list


@dataclass(frozen=True)
class ScreeningSetup:
    """What the app needs to know about the review (from review.toml) and the reviewer."""

    store: Store
    reviewer: str
    stage: str = flow.TITLE_ABSTRACT
    rules: core.ScreeningRules = field(default_factory=core.ScreeningRules)
    review_title: str = ""
    highlight_include: tuple[str, ...] = ()
    highlight_exclude: tuple[str, ...] = ()
    order: str = "import"  # or "relevance" (title/abstract): my own decisions train a model
    criteria: str = ""  # the question and eligibility criteria (ReviewConfig.criteria_text)
    review_dir: Path | None = None  # the review folder: where attached full texts are


@dataclass(frozen=True)
class Shown:
    """Where the reviewer is: a record (or none when the queue is empty) and the counts."""

    position: int | None
    view: RecordView | None
    progress: Progress
    length: int


class RecordLoaded(Message):
    def __init__(self, shown: Shown, info: str = "") -> None:
        super().__init__()
        self.shown, self.info = shown, info


class DecisionSaved(Message):
    """A change is committed to the database (posted after the commit returned)."""

    def __init__(self, change: core.Change, action: str) -> None:
        super().__init__()
        self.change, self.action = change, action


class RankingReady(Message):
    """A model trained on this reviewer's decisions has reordered the queue."""

    def __init__(self, ranking: Ranking) -> None:
        super().__init__()
        self.ranking = ranking


class ScreeningScreen(Screen[None]):
    """One reviewer screening one stage. ``q`` closes it once every save has returned."""

    BINDINGS = [
        Binding("i", "decide('include')", "Include"),
        Binding("e", "decide('exclude')", "Exclude"),
        Binding("m", "decide('maybe')", "Maybe"),
        Binding("r", "not_retrieved", "Not found"),
        Binding("u", "undo", "Undo"),
        Binding("u", "nothing_to_undo", show=False),  # while Undo is greyed: say why
        Binding("n", "note", "Note"),
        Binding("t", "labels", "Labels", show=False),  # in the ? help: the footer is full
        Binding("p", "open_pdf", "PDF", show=False),  # the record says "p opens it"
        Binding("right,l", "next", "Next", key_display="→", show=False),
        Binding("left,h", "previous", "Prev", key_display="←", show=False),
        Binding("space", "next_undecided", "Next to do", show=False),
        # ← → g / are in the ? help: the footer has to fit 80 columns with ? and q in it
        Binding("g", "jump", "Go to", show=False),
        Binding("slash", "search", "Search", key_display="/", show=False),
        Binding("o", "toggle_order", "Order", show=False),
        Binding("L", "record_list", "List", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("c", "criteria", "Criteria", show=False),
        Binding("q", "close", "Quit"),
    ]
    KEY_HELP = [
        ("i", "include the record", "decide"),
        ("e", "exclude (asks why: full text; T/A if listed)", "decide"),
        ("m", "maybe (discuss at reconciliation)", "decide"),
        ("r", "report not retrieved / retrieved again (full text)", "not_retrieved"),
        ("u", "undo my last change (also from before a restart)", "undo"),
        ("n", "write a note (before deciding too: it waits for the decision)", "note"),
        ("t", "labels on my decision (mine only; → completes)", "labels"),
        ("p", "open the attached PDF (full text)", "open_pdf"),
        ("→ / l", "next record", "next"),
        ("← / h", "previous record", "previous"),
        ("space", "next record I have not decided", "next_undecided"),
        ("g", "go to record number…", "jump"),
        ("/", "search: all the words in title/abstract; PMID, DOI", "search"),
        (
            "o",
            "order: most relevant first (learnt from your decisions) / import order",
            "toggle_order",
        ),
        (
            "L",
            "the list of records: filter, sort, open one; decide the undecided in bulk",
            "record_list",
        ),  # fmt: skip
        ("↑ ↓ PgUp PgDn", "scroll the abstract", ""),
        ("c", "the question and eligibility criteria (c again closes)", "criteria"),
        ("?", "this help", "help"),
        ("q", "quit (every decision is already saved)", "close"),
    ]

    def __init__(self, setup: ScreeningSetup) -> None:
        super().__init__()
        self.setup = setup
        self.queue: ScreeningQueue | None = None
        self.queue_lock = threading.Lock()  # the queue's cache is used from one worker at a time
        self.shown: Shown | None = None
        self.saving = False
        # records I changed in this session, for undo; a tuple is a bulk decision's batch
        self.history: list[int | tuple[int, ...]] = []
        self.saved: list[core.Change] = []  # every change committed in this session
        self.rendered_at = 0.0
        self.order = setup.order if setup.stage == flow.TITLE_ABSTRACT else "import"
        self.relevance: RelevanceOrder | None = None
        self.ranking: Ranking | None = None
        self.ranking_busy = self.rank_again = False
        self.jump_to_top = True  # the first order (at start, after `o`) shows its top record
        self._footer_state: tuple[bool | None, ...] = ()
        self.list_filter: ListFilter | None = None  # the record list's, kept between visits
        self.title = f"reviewflow · {setup.review_title}" if setup.review_title else "reviewflow"
        self.sub_title = f"{setup.reviewer} · {STAGE_NAMES[setup.stage]}"

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="status"):
            yield Static("", id="where")
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static("", id="counts")
        yield RecordPanel(self.setup.highlight_include, self.setup.highlight_exclude,
                          links=self.setup.stage == flow.FULL_TEXT, id="record")  # fmt: skip
        yield Static("", id="mine")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RecordPanel).focus()
        self.load(start=True)
        if self.order == "relevance":
            self.start_ranking()

    # -- workers -----------------------------------------------------------------------------
    def _queue(self) -> ScreeningQueue:
        if self.queue is None:
            s = self.setup
            self.queue = ScreeningQueue(s.store, s.reviewer, s.stage, s.rules)
        return self.queue

    def _shown(self, q: ScreeningQueue, position: int | None) -> Shown:
        entry = q.entry(position) if position is not None else None
        if entry is None:
            position = None
        view = q.record(entry.record_id) if entry is not None else None
        return Shown(position, view, q.progress(), len(q))

    @work(thread=True, exit_on_error=False, exclusive=True, group="load")
    def load(
        self,
        position: int | None = None,
        record_id: int | None = None,
        start: bool = False,
        refresh: bool = False,
        info: str = "",
    ) -> None:
        with self.queue_lock:
            q = self._queue()
            if refresh:
                q.refresh()
            if record_id is not None:
                position = q.position_of(record_id)
                if position is None:
                    info = f"record {record_id} is not in this queue"
                    position = self.shown.position if self.shown else None
            if start and position is None:  # resume after my last change at this stage
                last = core.last_changed(self.setup.store, self.setup.reviewer, self.setup.stage)
                position = None if last is None else q.position_of(last)
            if start:
                after = -1 if position is None else position
                position = q.next_undecided(after)
                if position is None:
                    position = max(after, 0)
                    info = "you have decided every record of this stage"
            shown = self._shown(q, position)
        if not get_current_worker().is_cancelled:
            self.post_message(RecordLoaded(shown, info))

    @work(thread=True, exit_on_error=False, group="save")
    def save(self, record_id: int, position: int, decision: str, reason: str = "") -> None:
        s = self.setup
        with self.queue_lock:
            change = core.decide(s.store, s.reviewer, record_id, s.stage, decision, reason,
                                 rules=s.rules)  # fmt: skip
            q = self._queue()
            q.apply(change)
            self.post_message(DecisionSaved(change, decision))
            following = q.next_undecided(position)
            shown = self._shown(q, following if following is not None else position)
        info = "" if following is not None else "you have decided every record of this stage"
        self.post_message(RecordLoaded(shown, info))

    @work(thread=True, exit_on_error=False, group="save")
    def change_other(self, what: str, record_id: int, position: int, text: str = "") -> None:
        """Undo, note or retrieval: commit, then show the record concerned again."""
        s = self.setup
        with self.queue_lock:
            q = self._queue()
            change: core.Change | None = None
            info = ""
            if what == "undo-last":  # nothing undone in this session yet: my last change
                last = core.last_changed(s.store, s.reviewer, s.stage)
                record_id = record_id if last is None else last
                what = "undo"
                if last is None:
                    what, info = "", "nothing of yours to undo at this stage"
            if what == "undo":
                change = core.undo(s.store, s.reviewer, record_id, s.stage)
                info = f"record {record_id}: undone" if change else "nothing to undo on this record"
            elif what == "note":
                change = core.set_note(s.store, s.reviewer, record_id, s.stage, text)
                draft = "draft" in change.extra
                info = "note kept; it is saved with your decision" if draft else "note saved"
                change = None if draft else change
            elif what == "labels":
                change = core.set_labels(s.store, s.reviewer, record_id, s.stage, text.split(","))
                draft = "draft" in change.extra
                info = "labels kept; they are saved with your decision" if draft else "labels saved"
                change = None if draft or change.before == change.after else change
            elif what in ("not-retrieved", "retrieved"):
                core.set_retrieval(s.store, s.reviewer, record_id, what == "retrieved")
                q.refresh()
                info = f"report marked {what.replace('-', ' ')}"
            if change is not None:
                q.apply(change)
                self.post_message(DecisionSaved(change, what))
            at = q.position_of(record_id)
            shown = self._shown(q, position if at is None else at)
        self.post_message(RecordLoaded(shown, info))

    def start_ranking(self) -> None:
        """Retrain in the background; the keys go on with the last finished order meanwhile."""
        if self.ranking_busy:
            self.rank_again = True
            return
        self.ranking_busy, self.rank_again = True, False
        self.rank()

    @work(thread=True, exit_on_error=False, group="rank")
    def rank(self) -> None:
        from reviewflow.screening.prioritise import RelevanceOrder

        s = self.setup
        if self.relevance is None:
            self.relevance = RelevanceOrder(s.store, s.reviewer)
        ranking = self.relevance.rank()  # this reviewer's decisions only
        with self.queue_lock:
            if self.order == "relevance":
                self._queue().set_order(ranking.order)
        self.post_message(RankingReady(ranking))

    # -- message handlers (own the UI state) -------------------------------------------------
    def on_ranking_ready(self, message: RankingReady) -> None:
        self.ranking_busy = False
        if self.order != "relevance":
            return
        self.ranking = message.ranking
        if self.rank_again:
            self.start_ranking()
        if self.saving:
            return
        view = self.shown.view if self.shown else None
        if self.jump_to_top or view is None:
            self.jump_to_top = False
            self.load(start=True)
        else:
            self.load(record_id=view.record_id)  # the record stays; its place is the new one

    def on_decision_saved(self, message: DecisionSaved) -> None:
        self.saved.append(message.change)
        if self.order == "relevance":
            self.start_ranking()
        if message.action != "undo":
            self.history.append(message.change.record_id)

    def on_record_loaded(self, message: RecordLoaded) -> None:
        self.saving = False
        self.shown = message.shown
        self.render_shown()
        if message.info:
            self.notify(message.info, timeout=3)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.saving = False
            if event.worker.group == "rank":
                self.ranking_busy = False
            self.notify(user_message(event.worker.error), severity="error", timeout=8)
            self.refresh_bindings()

    def render_shown(self) -> None:
        shown = self.shown
        if shown is None:
            return
        panel = self.query_one(RecordPanel)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=max(shown.progress.total, 1), progress=shown.progress.decided)
        self.query_one("#counts", Static).update(
            ("  " if self.order == "relevance" else "")  # the line is long: keep off the bar
            + f"{shown.progress.decided:,} / {shown.progress.total:,} decided"
            + (self.ranking_line() if self.order == "relevance" else "")
        )
        where = self.query_one("#where", Static)
        if shown.view is None or shown.position is None:
            panel.show(None, "No records to screen at this stage.")
            where.update("")
            self.query_one("#mine", Static).update("")
        else:
            panel.show(shown.view)
            where.update(f"Record {shown.position + 1:,} of {shown.length:,}")
            self.query_one("#mine", Static).update(self.mine_line(shown.view))
        self.update_footer()
        self.call_after_refresh(self._mark_rendered)

    def ranking_line(self) -> str:
        """Progress a reviewer can act on, from the last model and the stopping rule."""
        r = self.ranking
        if r is None:
            return " · relevance order: learning…"
        st = r.stopping
        line = f" · {r.includes_found:,} includes found"
        if st.estimated_includes_unseen is None:
            line += " · includes unseen: estimated once random sampling begins"
        else:
            line += f" · about {st.estimated_includes_unseen:,.0f} includes unseen"
        if st.stop:
            line += (
                f" · recall ≥ {st.recall_target:.0%} reached ({st.confidence:.0%} confidence):"
                " you may stop"
            )
        elif st.sampling:
            line += f" · random sample: {st.sampled:,} screened"
        return line

    def update_footer(self) -> None:
        """Grey out or restore keys, only when that changes (the footer redraws every key)."""
        actions = [b.action for b in self.BINDINGS if isinstance(b, Binding)]
        state = tuple(self.check_action(a.split("(")[0], ()) for a in actions)
        if state != self._footer_state:
            self._footer_state = state
            self.refresh_bindings()

    def _mark_rendered(self) -> None:
        """When the record last reached the screen (the benchmark reads it)."""
        self.rendered_at = time.perf_counter()

    def mine_line(self, view: RecordView) -> Text:
        line = Text()
        if view.not_retrieved:
            line.append("Report NOT RETRIEVED", style="bold magenta")
            by = view.not_retrieved_by
            line.append(f" (marked by {'you' if by == self.setup.reviewer else by or '?'} for "
                        "the whole team; r: retrieved again)", style="dim")  # fmt: skip
            return line
        mine = view.mine
        if mine is None:
            line.append("Not decided yet", style="dim")
        else:
            line.append("Your decision: ")
            line.append(mine.decision.upper(), style=DECISION_STYLE[mine.decision])
            if mine.reason:
                line.append(f" — {mine.reason}")
        labels = mine.labels if mine else view.draft_labels
        if labels:
            line.append("   Labels: ", style="dim")
            line.append(", ".join(labels), style="bold cyan")
        note = mine.note if mine else view.draft_note
        if note:
            line.append("   Note: ", style="dim")
            line.append(note, style="italic")
        if mine is None and (note or labels):
            line.append(" (saved with your decision)", style="italic")
        return line

    # -- actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self.shown.view if self.shown else None
        position = self.shown.position if self.shown else None
        if action in ("not_retrieved", "open_pdf") and self.setup.stage != flow.FULL_TEXT:
            return False  # not part of title/abstract screening: hidden
        if action == "toggle_order" and self.setup.stage != flow.TITLE_ABSTRACT:
            return False  # relevance order is for title/abstract screening
        if action in ("decide", "not_retrieved", "undo", "note", "labels") and (
            self.saving or view is None
        ):
            return None
        if action in ("decide", "note", "labels") and view is not None and view.not_retrieved:
            return None
        nothing = not self.history and self.shown is not None and not self.shown.progress.decided
        if action == "undo" and nothing:
            return None  # nothing of mine at this stage to undo
        if action == "nothing_to_undo":
            return nothing and not self.saving
        if action == "previous" and not position:
            return None
        if action == "next" and (
            position is None or self.shown is None or position + 1 >= self.shown.length
        ):
            return None
        return True

    def _current(self) -> tuple[int, int] | None:
        if self.shown is None or self.shown.view is None or self.shown.position is None:
            return None
        return self.shown.view.record_id, self.shown.position

    def off_sample(self, position: int) -> bool:
        """Whether deciding the record at ``position`` would spoil the stopping rule's random
        sample: once sampling has begun, only the sample's next record may be decided (a record
        picked by the reviewer is no random draw, and a revised decision would move in the
        order of decisions the rule reads). Said in one line when so."""
        ranking = self.ranking
        if self.order != "relevance" or ranking is None or not ranking.stopping.sampling:
            return False
        with self.queue_lock:
            next_up = self._queue().next_undecided()
        if position == next_up:
            return False
        self.notify(
            "random sampling for the stopping rule has begun: decide the records in the "
            "sample's order (space goes to the next one)",
            severity="warning",
        )
        return True

    def action_decide(self, decision: str) -> None:
        current = self._current()
        if current is None or self.saving:
            return
        record_id, position = current
        if self.off_sample(position):
            return
        if decision == "exclude" and self.reason_choices():
            self.ask_reason(record_id, position)
            return
        self._start_save(record_id, position, decision)

    def reason_choices(self) -> list[str]:
        """What ``e`` offers: at full text review.toml's reasons and Other…; at title/abstract
        its optional reasons and No reason (nothing to pick when it lists none)."""
        rules = self.setup.rules
        if self.setup.stage == flow.FULL_TEXT:
            return [*rules.exclusion_reasons, OTHER_CHOICE]
        return (
            [*rules.title_abstract_reasons, NO_REASON_CHOICE]
            if rules.title_abstract_reasons
            else []
        )

    def ask_reason(self, record_id: int, position: int) -> None:
        """Exclude with the reason picked (Escape: no decision)."""

        def chosen(reason: str | None) -> None:
            if reason == OTHER_CHOICE:
                self.ask_other_reason(record_id, position)
            elif reason is not None:
                reason = "" if reason == NO_REASON_CHOICE else reason
                self._start_save(record_id, position, "exclude", reason)

        title = (
            "Why is this report excluded?"
            if self.setup.stage == flow.FULL_TEXT
            else "Why is this record excluded? (optional)"
        )
        self.app.push_screen(ChoicePrompt(title, self.reason_choices()), chosen)

    def ask_other_reason(self, record_id: int, position: int) -> None:
        """A full-text exclusion reason in the reviewer's own words (saved as "Other: …")."""

        def written(text: str | None) -> None:
            if text is None:
                return
            try:
                reason = core.other_reason(text)
            except ReviewflowError as exc:
                self.notify(user_message(exc), severity="warning")
                return
            self._start_save(record_id, position, "exclude", reason)

        longest = core.MAX_REASON - len(core.OTHER_PREFIX)
        self.app.push_screen(
            TextPrompt("Other reason: why is this report excluded?",
                       hint=f"your own words, up to {longest} characters; Enter saves, "
                       "Escape cancels"),
            written,
        )  # fmt: skip

    def _start_save(self, record_id: int, position: int, decision: str, reason: str = "") -> None:
        self.saving = True  # the decision keys wait for this save (see check_action)
        self.save(record_id, position, decision, reason)

    def action_not_retrieved(self) -> None:
        current = self._current()
        if current is None or self.saving or self.shown is None or self.shown.view is None:
            return
        what = "retrieved" if self.shown.view.not_retrieved else "not-retrieved"
        self.saving = True
        self.change_other(what, *current)

    def action_open_pdf(self) -> None:
        view = self.shown.view if self.shown else None
        if view is not None:
            open_fulltext(self.app, self.setup.review_dir, view.fulltext, view.record_id)

    def action_nothing_to_undo(self) -> None:
        self.notify("nothing of yours to undo at this stage", timeout=3)

    def action_undo(self) -> None:
        current = self._current()
        if current is None or self.saving:
            return
        self.saving = True
        if self.history:
            last = self.history.pop()
            if isinstance(last, tuple):
                self.from_list(list(last), position=current[1])
            else:
                self.change_other("undo", last, current[1])
        else:  # e.g. after a restart: my last change at this stage, wherever it is
            self.change_other("undo-last", current[0], current[1])

    def action_note(self) -> None:
        current = self._current()
        if current is None or self.shown is None or self.shown.view is None:
            return
        view = self.shown.view
        record_id, position = current
        old = view.mine.note if view.mine else view.draft_note

        def save_note(text: str | None) -> None:
            if text is not None:
                self.saving = True
                self.change_other("note", record_id, position, text)

        self.app.push_screen(TextPrompt(f"Note on record {record_id}", old), save_note)

    def action_labels(self) -> None:
        current = self._current()
        if current is None or self.saving or self.shown is None or self.shown.view is None:
            return
        view = self.shown.view
        self.ask_labels(*current, view.mine.labels if view.mine else view.draft_labels)

    @work(thread=True, exit_on_error=False, group="labels")
    def ask_labels(self, record_id: int, position: int, labels: tuple[str, ...]) -> None:
        """Offer my own labels so far and review.toml's, then save what is typed."""
        s = self.setup
        used = core.labels_used(s.store, s.reviewer)  # mine only
        known = {u.casefold() for u in used}
        words = used + [x for x in s.rules.suggested_labels if x.casefold() not in known]

        def save_labels(text: str | None) -> None:
            if text is not None:
                self.saving = True
                self.change_other("labels", record_id, position, text)

        hint = "Separate labels with commas; → completes one; Enter saves, Escape cancels"
        if words:
            hint += "\nSuggested: " + ", ".join(words[:12]) + (" …" if len(words) > 12 else "")
        prompt = TextPrompt(f"Labels on record {record_id} (yours only)",
                            ", ".join(labels), hint=hint, suggester=CommaSuggester(words))  # fmt: skip
        self.app.call_from_thread(self.app.push_screen, prompt, save_labels)

    def action_next(self) -> None:
        if self.shown and self.shown.position is not None:
            self.load(position=self.shown.position + 1)

    def action_previous(self) -> None:
        if self.shown and self.shown.position:
            self.load(position=self.shown.position - 1)

    def action_next_undecided(self) -> None:
        self.load(position=self.shown.position if self.shown else None, start=True)

    def action_toggle_order(self) -> None:
        if self.setup.stage != flow.TITLE_ABSTRACT:
            return
        if self.ranking is not None and self.ranking.stopping.sampling:
            self.notify(
                "random sampling for the stopping rule has begun: the order stays the sample's",
                severity="warning",
            )
            return
        self.order = "import" if self.order == "relevance" else "relevance"
        if self.order == "relevance":
            self.notify("most relevant first, learnt from your own decisions", timeout=3)
            self.jump_to_top = True
            self.start_ranking()
            return
        self.ranking = None
        self.switch_to_import()

    @work(thread=True, exit_on_error=False, exclusive=True, group="load")
    def switch_to_import(self) -> None:
        with self.queue_lock:
            self._queue().set_order(None)
        view = self.shown.view if self.shown else None
        if view is None:
            self.app.call_from_thread(self.load, start=True)
        else:
            self.app.call_from_thread(self.load, record_id=view.record_id)

    def action_jump(self) -> None:
        length = self.shown.length if self.shown else 0

        def go(text: str | None) -> None:
            if text is None:
                return
            if not text.strip().isdigit() or not 1 <= int(text) <= length:
                self.notify(f"type a number from 1 to {length:,}", severity="warning")
                return
            self.load(position=int(text) - 1)

        self.app.push_screen(TextPrompt("Go to record number", hint=f"1 to {length:,}"), go)

    def action_search(self) -> None:
        def search(text: str) -> tuple[list[SearchHit], int]:
            with self.queue_lock:
                return self._queue().search(text), self._queue().count_matches(text)

        def go(record_id: int | None) -> None:
            if record_id is not None:
                self.load(record_id=record_id)

        self.app.push_screen(SearchPrompt(search), go)

    def action_record_list(self) -> None:
        from reviewflow.tui.record_list import ListResult, RecordListScreen

        if self.saving:
            return
        s, ranking = self.setup, self.ranking if self.order == "relevance" else None
        refusal = "" if self.order != "relevance" else (
            "no bulk decisions in the relevance order: the stopping rule reads your decisions "
            "in the order made (o switches to import order)"
        )  # fmt: skip

        def back(result: ListResult | None) -> None:
            if result is None:
                return
            self.list_filter = result.filter
            self.history.extend(result.batches)
            if result.changes:
                self.saving = True
                position = self.shown.position if self.shown else None
                self.from_list([], result.changes, result.open_id, position)
            elif result.open_id is not None:
                self.load(record_id=result.open_id)

        order = ranking.order if ranking else None
        at = self.shown.view.record_id if self.shown and self.shown.view else None
        self.app.push_screen(RecordListScreen(s.store, s.reviewer, s.stage, s.rules, order,
                                              refusal, self.list_filter, at), back)  # fmt: skip

    @work(thread=True, exit_on_error=False, group="save")
    def from_list(
        self,
        undo: list[int],
        changes: list[core.Change] | None = None,
        record_id: int | None = None,
        position: int | None = None,
    ) -> None:
        """After the record list: take in the changes it made, or undo a batch of it (``u``),
        then show the record opened (or the current one again)."""
        from reviewflow.screening.listing import undo_bulk

        s = self.setup
        info = ""
        if undo:
            changes = undo_bulk(s.store, s.reviewer, s.stage, undo)
            info = f"bulk decision undone on {len(changes):,} records"
        with self.queue_lock:
            q = self._queue()
            for change in changes or []:
                q.apply(change)
            q.refresh()
            current = self.shown.view.record_id if self.shown and self.shown.view else None
            at = q.position_of(record_id or current or -1)
            shown = self._shown(q, at if at is not None else position)
        if changes and self.order == "relevance":
            self.app.call_from_thread(self.start_ranking)
        self.post_message(RecordLoaded(shown, info))

    def action_help(self) -> None:
        rows = [
            (key, text, action == "" or bool(self.check_action(action, ())))
            for key, text, action in self.KEY_HELP
            if action not in ("not_retrieved", "open_pdf") or self.setup.stage == flow.FULL_TEXT
        ]
        notes = (
            "Your decisions are saved the moment you press the key. You see only your own "
            "decisions; the other reviewer's appear at reconciliation."
        )
        self.app.push_screen(HelpScreen("Screening keys", rows, notes))

    def action_criteria(self) -> None:
        self.app.push_screen(criteria_screen(self.setup.criteria))

    def action_close(self) -> None:
        """Leave once the save in flight (if any) has returned: nothing pressed is lost."""
        if self.saving:
            self.set_timer(0.05, self.action_close)
            return
        self.dismiss()


def criteria_screen(criteria: str) -> TextScreen:
    """The question and eligibility criteria over the current screen (``c``/Esc closes)."""
    return TextScreen("Question and eligibility criteria", criteria or "(not given)")


class ScreenApp(App[None]):
    """``reviewflow screen``: the screening screen on its own."""

    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "reviewflow"
    ENABLE_COMMAND_PALETTE = False
    SCREEN: type[ScreeningScreen] = ScreeningScreen

    def __init__(self, setup: ScreeningSetup) -> None:
        super().__init__()
        self.screening = self.SCREEN(setup)
        self.title = self.screening.title or self.TITLE

    def on_mount(self) -> None:
        self.push_screen(self.screening, lambda _: self.exit())
