"""The manual queue for uncertain duplicate pairs: two records side by side.

Fields that differ are highlighted. ``d`` confirms a duplicate, ``n`` says not a duplicate,
``s`` skips, ``u`` reopens the previous decision, ``q`` quits. Each decision is committed (and
audited) when the key is pressed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from reviewflow.dedup import review
from reviewflow.dedup.normalise import fold
from reviewflow.records import RecordData
from reviewflow.store import Store

FIELDS = (
    ("Title", lambda r: r.title),
    ("Authors", lambda r: "; ".join(r.authors)),
    ("Year", lambda r: str(r.year or "")),
    ("Journal", lambda r: r.journal or r.journal_abbrev),
    ("Volume", lambda r: r.volume),
    ("Issue", lambda r: r.issue),
    ("Pages", lambda r: r.pages),
    ("DOI", lambda r: r.doi),
    ("PMID", lambda r: r.pmid),
    ("Type", lambda r: r.record_type),
    ("Abstract", lambda r: r.abstract[:600]),
)


def field_rows(a: RecordData, b: RecordData) -> list[tuple[str, str, str, bool]]:
    """(field, value in A, value in B, differs) for the side-by-side view."""
    rows = []
    for name, get in FIELDS:
        x, y = get(a), get(b)
        rows.append((name, x, y, fold(x) != fold(y)))
    return rows


class DedupQueueApp(App[None]):
    """Decide the pairs dedup was unsure of."""

    TITLE = "reviewflow: possible duplicates"
    CSS = """
    #status { height: 3; padding: 0 1; }
    DataTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "decide('duplicate')", "Duplicate"),
        Binding("n", "decide('distinct')", "Not duplicate"),
        Binding("s", "skip", "Skip"),
        Binding("u", "reopen", "Undo last"),
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
    ]

    def __init__(self, store: Store, reviewer: str) -> None:
        super().__init__()
        self.store = store
        self.reviewer = reviewer
        self.items: list[review.QueueItem] = []
        self.position = 0
        self.decided: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        yield DataTable(id="pair", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Field", key="field", width=10)
        table.add_column("Record A", key="a", width=60)
        table.add_column("Record B", key="b", width=60)
        self.items = review.queue(self.store)
        self.show()

    @property
    def current(self) -> review.QueueItem | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def show(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        status = self.query_one("#status", Static)
        item = self.current
        if item is None:
            status.update(f"No pairs left to decide ({len(self.decided)} decided now). Press q.")
            return
        reason = item.scores.get("reason", "")
        status.update(
            f"Pair {self.position + 1} of {len(self.items)} · similarity {item.score:.2f} · "
            f"records {item.record_a.source_key} and {item.record_b.source_key}\n{reason}"
        )
        for name, x, y, differs in field_rows(item.record_a, item.record_b):
            style = "bold yellow" if differs else ""
            table.add_row(Text(name, style="bold"), Text(x, style=style), Text(y, style=style))

    def action_decide(self, status: str) -> None:
        item = self.current
        if item is None:
            return
        try:
            review.decide(self.store, item.candidate_id, status, self.reviewer)
        except Exception as exc:  # one line, the pair stays in the queue
            self.notify(str(exc), severity="error")
            return
        self.decided.append(self.position)
        self.position += 1
        self.show()

    def action_skip(self) -> None:
        if self.current is not None:
            self.position += 1
            self.show()

    def action_reopen(self) -> None:
        """Put the last decided pair back to "maybe" and show it again."""
        if not self.decided:
            return
        position = self.decided.pop()
        item = self.items[position]
        review.decide(self.store, item.candidate_id, "maybe", self.reviewer)
        self.position = position
        self.show()

    def action_help(self) -> None:
        self.notify(
            "d: duplicate (merged at once) · n: not a duplicate · s: skip · "
            "u: reopen the last decision · q: quit. Yellow fields differ.",
            timeout=8,
        )

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        if action in ("decide", "skip"):
            return self.current is not None
        if action == "reopen":
            return bool(self.decided)
        return True
