"""``reviewflow extract``: the extraction screens.

- The study list: every included study with the reviewer's own progress (fields filled,
  required fields missing, problems). Enter opens a study.
- A study: the form on the left (study fields, then each outcome's parts, under a heading per
  group for a two-group outcome), the report
  on the right (title, citation, abstract, the study's notes and the reviewer's own screening
  notes). A value is saved when the field loses focus (Tab, Shift+Tab, Enter) and after a short
  pause in typing; the message under the field says what is wrong with it as it is typed.
- Fast typing: Tab, Shift+Tab and Enter are priority bindings of the study screen, so the app
  moves the focus the moment it reads the key, before it hands the next keys on. (As the
  Input's own bindings, they ran only once the input had handled the keys queued before them,
  and a burst such as ``Turkey<Tab>RCT<Tab>40`` (a fast typist, an unbracketed paste,
  ``tmux send-keys``) was all typed into the first field.) The old field's blur comes after
  its own keys, so it saves the complete value.
- Pasting: a bracketed paste that holds tabs or line breaks (a spreadsheet row or column) fills
  the fields in order from the focused one, each value saved, and says so; one with more values
  than fields left is refused with a message and changes nothing. (The same text typed or
  pasted unbracketed, with Tab/Enter between the values, lands the same way.)
- Finishing a study: ``f`` on the study list, ``Ctrl+F`` in a study (letters are typed into
  the fields there) marks the study finished, or reopens a finished one (the same key). The
  reviewers' values are compared only once every reviewer has finished the study. The key is
  greyed out while a required field is empty or a value is invalid; pressed then, it says which
  fields (the core's refusal). Editing a value of a finished study is allowed and keeps it finished: the
  comparison uses the current values, and a value made invalid shows as a discrepancy. The
  list shows ``✓ finished`` in the reviewer's progress (their own status only).
- With ``--consensus``: the discrepancy view (:mod:`.widgets.extraction_consensus`).

Blinding: the extraction screens read only the reviewer's own values (``values.my_values``).
Saves run in thread workers owned by the app (not the screen), one at a time, newest value of a
field last, so leaving a study never cancels a save; quitting waits for them. The screens share
one :class:`Extraction` (store, form, reviewer and the saves), so the same screens run in
``reviewflow extract`` and under the home screen.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from reviewflow.errors import ReviewflowError
from reviewflow.extraction import values as extraction_values
from reviewflow.extraction.forms import Form
from reviewflow.extraction.studies import list_studies
from reviewflow.extraction.validate import check_study, problems_by_field
from reviewflow.screening import fulltext
from reviewflow.store import Store
from reviewflow.tui.widgets.extraction_dialogs import ExtractionHelp
from reviewflow.tui.widgets.extraction_field import ExtractionField
from reviewflow.tui.widgets.extraction_messages import (
    FinishedChanged,
    StudiesLoaded,
    StudyLoaded,
    StudyRow,
    ValueSaved,
    progress_text,
)
from reviewflow.tui.widgets.pdf import open_fulltext

HELP_TEXT = (
    "Values are saved as you enter them: when you leave a field (Tab, Shift+Tab or Enter) and "
    "after a short pause in typing. A paste with tabs or line breaks (a spreadsheet row or "
    "column) fills the fields in order from the one you are in. You see only your own values; "
    "the other reviewer's stay hidden until the consensus step. A value that does not fit the "
    "form is kept as typed and flagged in red; consensus and export accept only valid values.\n\n"
    "When you have entered everything for a study, mark it finished (f in the list, Ctrl+F in "
    "the study; the same key reopens it). The reviewers' values are compared only once all of "
    "them have finished the study, so fields you have not reached yet are never shown as "
    "differences. You can still correct a value of a finished study: it stays finished and the "
    "comparison uses the corrected value."
)


class StudiesScreen(Screen[None]):
    """The included studies with the reviewer's progress."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open study"),
        Binding("f", "finish", "Finish study"),
        Binding("f", "reopen", "Reopen study"),
        Binding("f", "refused_finish", show=False),  # while greyed: say which fields
        Binding("r", "reload", "Refresh"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("q", "close", "Quit"),
    ]

    def __init__(self, extraction: Extraction) -> None:
        super().__init__()
        self.extraction = extraction
        self.rows: list[StudyRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading studies…", id="studies-status")
        yield DataTable(id="studies", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Study", key="study", width=28)
        table.add_column("Reports", key="reports", width=8)
        table.add_column("Your progress", key="progress", width=36)
        table.add_column("Title", key="title")
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    async def action_close(self) -> None:
        await self.extraction.wait_for_saves(self.app)
        self.dismiss()

    @work(thread=True, exit_on_error=False, group="load")
    def action_reload(self) -> None:
        app = self.extraction
        studies = list_studies(app.store, app.reviewers_per_record)
        ids = [s.id for s in studies]
        progress = extraction_values.my_progress(app.store, app.reviewer, app.form, ids)
        finished = extraction_values.my_finished(app.store, app.reviewer, ids)
        self.post_message(
            StudiesLoaded([StudyRow(s, progress[s.id], s.id in finished) for s in studies])
        )

    @on(StudiesLoaded)
    def loaded(self, message: StudiesLoaded) -> None:
        self.rows = message.rows
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for row in self.rows:
            primary = row.study.primary
            table.add_row(row.study.label, str(len(row.study.reports)),
                          progress_text(row.progress, row.finished),
                          primary.title if primary else "", key=str(row.study.id))  # fmt: skip
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        done = sum(1 for r in self.rows if r.progress.done)
        finished = sum(1 for r in self.rows if r.finished)
        self.query_one("#studies-status", Static).update(
            f"{self.extraction.reviewer}: {len(self.rows)} included studies, {done} complete, "
            f"{finished} finished"
            if self.rows
            else "No included studies yet: include reports at full text first (reviewflow screen --stage full-text)"
        )

    @on(DataTable.RowSelected)
    def selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        if not self.rows:
            return
        index = self.query_one(DataTable).cursor_row
        self.app.push_screen(StudyScreen(self.extraction, self.rows, index))

    def current(self) -> StudyRow | None:
        row = self.query_one(DataTable).cursor_row
        return self.rows[row] if self.rows and 0 <= row < len(self.rows) else None

    @on(DataTable.RowHighlighted)
    def highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open" and not self.rows:
            return None
        if action in ("finish", "reopen"):
            current = self.current()
            if current is None:
                return None if action == "finish" else False
            if action == "reopen":
                return current.finished
            return False if current.finished else (True if current.progress.done else None)
        if action == "refused_finish":
            return self.check_action("finish", ()) is None and self.current() is not None
        return True

    def action_finish(self) -> None:
        current = self.current()
        if current is not None:
            self.extraction.set_finished(self, current.study.id, True)

    action_refused_finish = action_finish  # the core refuses, naming the fields to fix

    def action_reopen(self) -> None:
        current = self.current()
        if current is not None:
            self.extraction.set_finished(self, current.study.id, False)

    @on(FinishedChanged)
    def finished_changed(self, message: FinishedChanged) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
        self.action_reload()

    def action_help(self) -> None:
        self.app.push_screen(ExtractionHelp(self, HELP_TEXT))


class StudyScreen(Screen[None]):
    """One study: the form beside its report."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Studies"),
        Binding("ctrl+n", "step(1)", "Next study"),
        Binding("ctrl+p", "step(-1)", "Previous study"),
        Binding("ctrl+f", "finish", "Finish study"),
        Binding("ctrl+f", "reopen", "Reopen study"),
        Binding("ctrl+f", "refused_finish", show=False),  # while greyed: say which fields
        Binding("f1", "help", "Help"),
        # priority: the focus moves as the key is read, before the keys after it are handed on
        Binding("tab,enter", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
        Binding("ctrl+o", "open_pdf", "Open the report's PDF", show=False),  # in the help
    ]

    def __init__(self, extraction: Extraction, rows: list[StudyRow], index: int) -> None:
        super().__init__()
        self.extraction = extraction
        self.rows, self.index = rows, index
        self.study = rows[index].study
        self.loaded_values: dict[str, str] = {}
        self.finished: bool | None = None  # None until loaded
        self.pdfs: dict[int, str] = {}  # report record id → its attached full text

    def compose(self) -> ComposeResult:
        form = self.extraction.form
        yield Header()
        yield Static(id="study-status")
        with Horizontal(id="study-body"):
            with VerticalScroll(id="form"):
                yield Static(f"[b]{form.title}[/b]: study", classes="section")
                for f in form.study_fields:
                    yield ExtractionField(f)
                for o in form.outcomes:
                    yield Static(f"[b]Outcome[/b]: {o.label}", classes="section")
                    group = ""
                    for f in form.outcome_fields:
                        if f.outcome == o.key:
                            if f.group != group:
                                group = f.group
                                yield Static(f"[b]{group}[/b]", classes="group")
                            yield ExtractionField(f)
            with VerticalScroll(id="report"):
                yield Static(id="report-text")
        yield Static(id="field-help")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.study.label
        self._status("loading…")
        self.load()

    def _status(self, note: str = "") -> None:
        values = {f.field_key: f.value for f in self.query(ExtractionField)}
        p = extraction_values.progress_of(self.extraction.form, values)
        text = Text(f"{self.study.label}  ({self.index + 1}/{len(self.rows)})   ")
        text.append_text(progress_text(p, bool(self.finished)))
        if note:
            text.append(f"   {note}", style="dim")
        self.query_one("#study-status", Static).update(text)

    @work(thread=True, exit_on_error=False, group="load")
    def load(self) -> None:
        app = self.extraction
        mine = extraction_values.my_values(app.store, app.reviewer, self.study.id)
        notes = extraction_values.my_screening_notes(
            app.store, app.reviewer, [r.record_id for r in self.study.reports]
        )
        finished = self.study.id in extraction_values.my_finished(
            app.store, app.reviewer, [self.study.id]
        )
        self.pdfs = fulltext.attached(app.store, [r.record_id for r in self.study.reports])
        self.post_message(StudyLoaded(self.study.id, mine, notes, finished))

    @on(StudyLoaded)
    def loaded(self, message: StudyLoaded) -> None:
        self.loaded_values = message.values
        self.finished = message.finished
        for f in self.query(ExtractionField):
            f.set_value(message.values.get(f.field_key, ""))
        self.query_one("#report-text", Static).update(self.report_text(message.notes))
        self.show_problems()
        self._status()
        first = self.query(ExtractionField).first()
        first.query_one("Input").focus()

    def report_text(self, notes: list[str]) -> Text:
        text = Text()
        for i, r in enumerate(self.study.reports):
            if i:
                text.append("\n\n" + "─" * 40 + "\n\n")
            if len(self.study.reports) > 1:
                text.append("Primary report\n" if r.is_primary else "Other report\n", style="dim")
            text.append(r.title + "\n", style="bold")
            text.append(r.citation + "\n\n", style="italic")
            if r.record_id in self.pdfs:  # (none: no line, the key says so when pressed)
                text.append(f"PDF attached: {self.pdfs[r.record_id]} (Ctrl+O opens it)\n\n",
                            style="dim")  # fmt: skip
            text.append(r.abstract or "(no abstract)")
        if self.study.notes:
            text.append("\n\nStudy notes\n", style="bold")
            text.append(self.study.notes)
        if notes:
            text.append("\n\nYour screening notes\n", style="bold")
            text.append("\n".join(notes))
        return text

    def show_problems(self) -> None:
        """Field-level and cross-field messages (events > total) for what is on screen."""
        fields = list(self.query(ExtractionField))
        values = {f.field_key: f.value for f in fields}
        problems = problems_by_field(check_study(self.extraction.form, values))
        for f in fields:
            f.show_problem(problems.get(f.field_key, ""))
        self.refresh_bindings()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        owner = next((n for n in event.widget.ancestors if isinstance(n, ExtractionField)), None)
        if owner is not None:
            f = owner.spec
            bits = [f.label]
            if f.help:
                bits.append(f.help)
            if f.minimum is not None or f.maximum is not None:
                low = "" if f.minimum is None else f"{f.minimum:g}"
                high = "" if f.maximum is None else f"{f.maximum:g}"
                bits.append(f"range {low}–{high} {f.unit}".rstrip())
            self.query_one("#field-help", Static).update(" · ".join(bits))

    @on(ExtractionField.Edited)
    def edited(self, message: ExtractionField.Edited) -> None:
        self.extraction.save(message.field, self.study.id, message.key, message.value)
        self.show_problems()
        self._status("saving…")

    @on(ExtractionField.Pasted)
    def pasted(self, message: ExtractionField.Pasted) -> None:
        """Several values pasted: one per field from the focused one on, or refused."""
        fields = list(self.query(ExtractionField))
        start = fields.index(message.field)
        parts, targets = message.parts, fields[start : start + len(message.parts)]
        if len(parts) > len(targets):
            left = len(targets)
            self.notify(
                f"Paste refused: {len(parts)} values but only {left} "
                f"{'field' if left == 1 else 'fields'} from here to the end of the form; "
                "nothing changed",
                severity="error",
                timeout=10,
            )
            return
        for i, (target, part) in enumerate(zip(targets, parts, strict=True)):
            target.enter(part, at_cursor=i == 0)
        targets[-1].query_one("Input").focus()
        self.show_problems()
        self.notify(
            f"{len(parts)} values pasted into {targets[0].spec.label} … {targets[-1].spec.label}",
            timeout=5,
        )

    def on_value_saved(self, message: ValueSaved) -> None:
        if message.error:
            message.field.save_failed(message.error)
            self._status(f"NOT SAVED: {message.error}")
            return
        message.field.show_saved("saved")
        self.show_problems()
        self._status("saved")

    def flush(self) -> None:
        """Start saving whatever was typed and not yet saved (leaving the study, quitting)."""
        for f in self.query(ExtractionField):
            value = f.take_unsaved()
            if value is not None:
                self.extraction.save(f, self.study.id, f.field_key, value)

    def action_open_pdf(self) -> None:
        """The primary report's PDF, else the first report's that has one."""
        reports = sorted(self.study.reports, key=lambda r: not r.is_primary)
        if not reports:
            return
        found = next((r.record_id for r in reports if r.record_id in self.pdfs), None)
        rid = found if found is not None else reports[0].record_id
        open_fulltext(self.app, self.extraction.review_dir, self.pdfs.get(rid, ""), rid)

    def action_back(self) -> None:
        self.flush()
        self.app.pop_screen()

    def action_step(self, delta: int) -> None:
        target = self.index + delta
        if 0 <= target < len(self.rows):
            self.flush()
            self.app.switch_screen(StudyScreen(self.extraction, self.rows, target))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step" and parameters:
            target = self.index + int(str(parameters[0]))
            return True if 0 <= target < len(self.rows) else None
        if action == "reopen":
            return bool(self.finished)
        if action == "finish":
            if self.finished:
                return False
            if self.finished is None:
                return None  # still loading
            values = {f.field_key: f.value for f in self.query(ExtractionField)}
            return None if check_study(self.extraction.form, values, complete=True) else True
        if action == "refused_finish":
            return self.finished is False and self.check_action("finish", ()) is None
        return True

    async def action_finish(self) -> None:
        """Save what is typed, wait for the saves, then mark the study finished."""
        self.flush()
        await self.extraction.wait_for_saves(self.app)
        self.extraction.set_finished(self, self.study.id, True)

    async def action_refused_finish(self) -> None:
        """The key while greyed out: the core refuses and names the fields to fix."""
        await self.action_finish()

    async def action_reopen(self) -> None:
        self.flush()
        await self.extraction.wait_for_saves(self.app)
        self.extraction.set_finished(self, self.study.id, False)

    @on(FinishedChanged)
    def finished_changed(self, message: FinishedChanged) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
        elif message.study_id == self.study.id:
            self.finished = message.finished
            self.notify(
                f"{self.study.label}: {'finished' if message.finished else 'reopened'}",
                timeout=3,
            )
        self._status()
        self.refresh_bindings()

    def action_help(self) -> None:
        self.app.push_screen(ExtractionHelp(self, HELP_TEXT))


class Extraction:
    """What the extraction screens share: the store, the form, who extracts (or settles the
    consensus), and the saves, which run one at a time in thread workers owned by the app."""

    def __init__(
        self,
        store: Store,
        form: Form,
        *,
        reviewer: str,
        reviewers_per_record: int = 2,
        consensus_by: str | None = None,
        review_dir: Path | None = None,
    ) -> None:
        self.store, self.form, self.reviewer = store, form, reviewer
        self.review_dir = review_dir  # where attached full texts are
        self.reviewers_per_record = reviewers_per_record
        self.consensus_by = consensus_by
        self._save_lock = threading.Lock()
        self._latest: dict[tuple[int, str], int] = {}
        self._sequence = 0

    def first_screen(self) -> Screen[None]:
        if self.consensus_by:
            from reviewflow.tui.widgets.extraction_consensus import ConsensusScreen

            return ConsensusScreen(self)
        return StudiesScreen(self)

    # -- saving ----------------------------------------------------------------------------
    def save(self, field: ExtractionField, study_id: int, key: str, value: str) -> None:
        """Save one value in a thread worker owned by the app; newest edit of a field wins."""
        self._sequence += 1
        seq = self._sequence
        self._latest[(study_id, key)] = seq
        field.app.run_worker(
            lambda: self._save(field, study_id, key, value, seq),
            thread=True,
            exit_on_error=False,
            group="save",
        )

    def _save(self, field: ExtractionField, study_id: int, key: str, value: str, seq: int) -> None:
        with self._save_lock:
            if self._latest.get((study_id, key), seq) > seq:
                return  # a newer edit of this field is queued and will be saved
            try:
                extraction_values.save_value(
                    self.store, self.reviewer, self.form, study_id, key, value
                )
                error = ""
            except ReviewflowError as exc:
                error = exc.message
            except Exception as exc:  # a bug or a lost connection: say so at the field
                error = f"not saved ({type(exc).__name__}: {exc})"
        message = ValueSaved(field, study_id, key, value, error)
        if field.is_attached:
            field.screen.post_message(message)

    def set_finished(self, screen: Screen[None], study_id: int, finished: bool) -> None:
        """Mark the study finished (or reopen it) in a thread worker; the screen is told."""

        def run() -> None:
            try:
                with self._save_lock:
                    if finished:
                        extraction_values.mark_finished(
                            self.store, self.reviewer, self.form, study_id
                        )
                    else:
                        extraction_values.reopen(self.store, self.reviewer, study_id)
                error = ""
            except ReviewflowError as exc:
                error = exc.message
            except Exception as exc:  # a bug or a lost connection: say so
                error = f"not saved ({type(exc).__name__}: {exc})"
            if screen.is_attached:
                screen.post_message(FinishedChanged(study_id, finished, error))

        screen.app.run_worker(run, thread=True, exit_on_error=False, group="save")

    async def wait_for_saves(self, app: App[None]) -> None:
        if isinstance(app.screen, StudyScreen):
            app.screen.flush()
        pending = [w for w in app.workers if w.group in ("save", "consensus")]
        if pending:
            await app.workers.wait_for_complete(pending)


EXTRACTION_CSS = """
#studies-status, #study-status, #field-help { height: 1; padding: 0 2; background: $boost; }
#studies { height: 1fr; }
#study-body { height: 1fr; }
#form { width: 55%; border-right: solid $primary; }
#form .section { padding: 1 1 0 1; color: $accent; }
#form .group { padding: 0 1 0 3; }
#report { width: 1fr; padding: 0 2; }
"""


class ExtractApp(App[None]):
    """The extraction TUI for one reviewer, or the consensus view (``consensus_by``)."""

    TITLE = "reviewflow: extraction"
    ENABLE_COMMAND_PALETTE = False  # its priority Ctrl+P would shadow "Previous study"
    CSS = EXTRACTION_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False)
    ]

    def __init__(
        self,
        store: Store,
        form: Form,
        *,
        reviewer: str,
        reviewers_per_record: int = 2,
        consensus_by: str | None = None,
        review_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.extraction = Extraction(store, form, reviewer=reviewer,
                                     reviewers_per_record=reviewers_per_record,
                                     consensus_by=consensus_by, review_dir=review_dir)  # fmt: skip
        self.store, self.form, self.reviewer = store, form, reviewer

    def on_mount(self) -> None:
        if self.extraction.consensus_by:
            self.title = "reviewflow: extraction consensus"
            self.sub_title = self.extraction.consensus_by
        else:
            self.sub_title = self.extraction.reviewer
        self.push_screen(self.extraction.first_screen(), lambda _: self.exit())

    async def action_quit(self) -> None:
        await self.extraction.wait_for_saves(self)
        self.exit()
