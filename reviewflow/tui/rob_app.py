"""``reviewflow rob assess``: the risk-of-bias screens, in the manner of the extraction screens.

- The study list: every included study with the reviewer's own progress (answers given, the
  overall judgement once complete). Enter opens a study.
- A study: the tool's items on the left (each domain with its judgement, then its signalling
  questions and the reviewer's answers), the report on the right. A number key answers the
  highlighted item with that answer (shown in the line above the footer) and moves on; the
  answer is saved at once (one short transaction, audited) and the domain and overall
  judgements follow by the tool's rule. Backspace clears the answer. ``]``/``[`` next/previous
  study; ``p`` opens the study's attached PDF (``reviewflow fulltext attach``); Escape back to
  the list.
- Overriding a rule's judgement needs a reason: ``reviewflow rob set STUDY D1=high --reason
  D1=…`` (not on this screen).

Blinding: the screens read only the reviewer's own answers (``assess.my_assessment``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from reviewflow.errors import ReviewflowError
from reviewflow.extraction.studies import StudyInfo, list_studies
from reviewflow.rob import assess
from reviewflow.rob.plots import COLOUR
from reviewflow.rob.tools import OVERALL, Tool, get_tool
from reviewflow.screening import fulltext
from reviewflow.store import Store
from reviewflow.tui.widgets.pdf import open_fulltext

NUMBER_KEYS = [str(i) for i in range(1, 10)]


@dataclass
class RobSession:
    """What the screens share: the store, the reviewer, the tool and the included studies
    (the same screens run under ``reviewflow rob assess`` and the home screen)."""

    store: Store
    reviewer: str
    tool: Tool
    studies: list[StudyInfo]
    review_dir: Path | None = None  # where attached full texts are
    pdfs: dict[int, str] = field(default_factory=dict)  # report record id → its full text

    @classmethod
    def open(cls, store: Store, reviewer: str, tool: str = "rob2", per: int = 2,
             review_dir: Path | None = None) -> RobSession:  # fmt: skip
        studies = list_studies(store, per)
        reports = [r.record_id for st in studies for r in st.reports]
        pdfs = fulltext.attached(store, reports) if reports else {}
        return cls(store, reviewer, get_tool(tool), studies, review_dir, pdfs)


def _judgement(value: str | None) -> Text:
    if value is None:
        return Text("not yet", style="dim")
    return Text(f" {value} ", style=f"bold black on {COLOUR.get(value, 'grey50')}")


class RobStudiesScreen(Screen[None]):
    """The included studies with the reviewer's own progress."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open study"),
        Binding("q,escape", "close", "Quit"),
    ]

    def __init__(self, app_state: RobSession) -> None:
        super().__init__()
        self.state = app_state

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="rob-status")
        yield DataTable(id="rob-studies", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Study", key="study", width=28)
        table.add_column("Your assessment", key="progress", width=30)
        table.add_column("Title", key="title")
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        s = self.state
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        mine = assess.my_progress(s.store, s.reviewer, [st.id for st in s.studies], s.tool.key)
        for study, a in zip(s.studies, mine, strict=True):
            ev = a.evaluation
            progress = (
                Text.assemble("done: ", _judgement(ev.overall.value))
                if ev.complete
                else Text(f"{len(a.answers)} of {len(s.tool.items)} items", style="dim")
            )
            title = study.primary.title if study.primary else ""
            table.add_row(study.label, progress, title, key=str(study.id))
        if s.studies:
            table.move_cursor(row=min(keep, len(s.studies) - 1))
        done = sum(1 for a in mine if a.evaluation.complete)
        self.query_one("#rob-status", Static).update(
            f"{s.reviewer} · {s.tool.name}: {len(s.studies)} included studies, {done} assessed"
            if s.studies
            else "No included studies yet: include reports at full text first"
        )

    def action_open(self) -> None:
        if self.state.studies:
            self.app.push_screen(RobStudyScreen(self.state, self.query_one(DataTable).cursor_row))

    @on(DataTable.RowSelected)
    def selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()

    def action_close(self) -> None:
        self.dismiss()


class RobStudyScreen(Screen[None]):
    """One study's assessment: the tool's items beside the report."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *[Binding(k, f"answer({i})", show=False) for i, k in enumerate(NUMBER_KEYS)],
        Binding("backspace,delete", "clear", "Clear answer"),
        Binding("right_square_bracket", "move(1)", "Next study", key_display="]"),
        Binding("left_square_bracket", "move(-1)", "Previous study", key_display="["),
        Binding("p", "open_pdf", "PDF"),
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, app_state: RobSession, index: int) -> None:
        super().__init__()
        self.state = app_state
        self.index = index
        self.items: list[str] = []  # per row: the item a number key answers ("" for none)

    @property
    def study(self) -> StudyInfo:
        return self.state.studies[self.index]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="rob-study-status")
        with Horizontal(id="rob-body"):
            yield DataTable(id="rob-items", cursor_type="row")
            with VerticalScroll(id="rob-report"):
                yield Static("", id="rob-report-text")
        yield Static("", id="rob-keys")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Item", key="item", width=8)
        table.add_column("Question", key="text", width=60)
        table.add_column("Answer", key="answer", width=18)
        self.show()

    def _rows(self, tool: Tool) -> list[tuple[str, str, str]]:
        """(answerable item key or "", label, text) in the order shown."""
        rows: list[tuple[str, str, str]] = []
        for d in tool.domains:
            rows.append(("" if d.judge else d.key, d.key, d.label))
            rows += [(q.key, q.key, q.text) for q in d.questions if q.text != d.label]
            if d.judge and len(d.questions) == 1 and d.questions[0].text == d.label:
                rows[-1] = (d.questions[0].key, d.key, d.label)
        rows.append(("" if tool.overall_rule else OVERALL, "Overall", "Overall risk of bias"))
        return rows

    def show(self, keep: int | None = None) -> None:
        s, tool = self.state, self.state.tool
        a = assess.my_assessment(s.store, s.reviewer, self.study.id, tool.key)
        ev = a.evaluation
        table = self.query_one(DataTable)
        row = table.cursor_row if keep is None else keep
        table.clear()
        self.items = []
        for key, label, text in self._rows(tool):
            judged = ev.overall if label == "Overall" else ev.domains.get(label)
            if judged is not None:  # a domain (or overall) row: its judgement
                answer = a.answers.get(key) if key else None
                lead = [answer, " → "] if answer and answer != judged.value else []
                shown = Text.assemble(*lead, _judgement(judged.value))
                table.add_row(Text(label, style="bold"), Text(text, style="bold"), shown)
            else:
                answer = a.answers.get(key)
                table.add_row(f"  {label}", text, answer or Text("·", style="dim"))
            self.items.append(key)
        table.move_cursor(row=min(row, len(self.items) - 1))
        report = self.study.primary
        pdf = self._pdf()
        self.query_one("#rob-report-text", Static).update(
            Text.assemble(
                (f"{report.title}\n\n" if report else "", "bold"),
                (f"PDF attached: {self.state.pdfs[pdf]} (p opens it)\n\n" if pdf else "", "dim"),
                report.abstract if report else "(no report text)",
            )  # fmt: skip
        )
        self.query_one("#rob-study-status", Static).update(
            Text.assemble(
                f"{self.study.label} · {tool.name} · overall ", _judgement(ev.overall.value)
            )  # fmt: skip
        )
        self._keys()

    def _keys(self) -> None:
        key = self._current()
        allowed = self.state.tool.items.get(key, ()) if key else ()
        text = "  ".join(f"{i} {a}" for i, a in enumerate(allowed, 1))
        self.query_one("#rob-keys", Static).update(
            text or "this judgement follows from the questions (override: reviewflow rob set)"
        )

    def _current(self) -> str:
        row = self.query_one(DataTable).cursor_row
        return self.items[row] if 0 <= row < len(self.items) else ""

    @on(DataTable.RowHighlighted)
    def highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._keys()

    def _save(self, value: str) -> bool:
        key = self._current()
        if not key:
            return False
        try:
            assess.set_answer(self.state.store, self.state.reviewer, self.study.id,
                              self.state.tool.key, key, value)  # fmt: skip
        except ReviewflowError as exc:
            self.notify(exc.message, severity="error")
            return False
        return True

    def action_answer(self, n: int) -> None:
        key = self._current()
        allowed = self.state.tool.items.get(key, ()) if key else ()
        if n < len(allowed) and self._save(allowed[n]):
            self.show(keep=self.query_one(DataTable).cursor_row + 1)

    def action_clear(self) -> None:
        if self._save(""):
            self.show()

    def _pdf(self) -> int | None:
        """The report whose PDF ``p`` opens: the primary report's, else the first attached."""
        reports = sorted(self.study.reports, key=lambda r: not r.is_primary)
        return next((r.record_id for r in reports if r.record_id in self.state.pdfs), None)

    def action_open_pdf(self) -> None:
        rid = self._pdf()
        if rid is None:
            report = self.study.primary
            if report is not None:  # says how to attach one
                open_fulltext(self.app, self.state.review_dir, "", report.record_id)
            return
        open_fulltext(self.app, self.state.review_dir, self.state.pdfs[rid], rid)

    def action_move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.state.studies)
        self.show(keep=0)

    def action_close(self) -> None:
        self.dismiss()


ROB_CSS = """
#rob-status, #rob-study-status, #rob-keys { height: 1; padding: 0 2; background: $boost; }
#rob-studies { height: 1fr; }
#rob-body { height: 1fr; }
#rob-items { width: 60%; border-right: solid $primary; }
#rob-report { width: 1fr; padding: 0 2; }
"""


class RobApp(App[None]):
    """The risk-of-bias screens for one reviewer and one tool."""

    TITLE = "reviewflow: risk of bias"
    CSS = ROB_CSS

    def __init__(self, store: Store, reviewer: str, tool: str = "rob2",
                 reviewers_per_record: int = 2, review_dir: Path | None = None) -> None:  # fmt: skip
        super().__init__()
        self.session = RobSession.open(store, reviewer, tool, reviewers_per_record, review_dir)

    def on_mount(self) -> None:
        self.sub_title = self.session.reviewer
        self.push_screen(RobStudiesScreen(self.session), lambda _: self.exit())
