"""The manual queue for uncertain duplicate pairs: two records side by side.

Every field is shown whole, wrapped to the width of its column (a title's last words are often
the very difference to judge); in a field that differs, the words that differ are marked, and a
long abstract is cut to the words around its differences. ``d`` confirms a duplicate, ``n``
says not a duplicate, ``s`` skips (the status line counts the skipped pairs, and after the last
pair ``s`` goes back to them), ``u`` reopens the previous decision, ``q`` quits. Each decision
is committed (and audited) when the key is pressed. The name deciding must be a reviewer of the
review (review.toml's ``[[reviewers]]``, mirrored in the database); another is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from reviewflow.dedup import review
from reviewflow.dedup.normalise import fold
from reviewflow.errors import ReviewflowError
from reviewflow.records import RecordData
from reviewflow.store import Store
from reviewflow.store.reviewers import reviewer_id

ABSTRACT_SHOWN = 600  # characters of an abstract both records share
FIELDS: tuple[tuple[str, Callable[[RecordData], str]], ...] = (
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
    ("Abstract", lambda r: r.abstract),
)
DIFFERS = "bold black on yellow"


def field_rows(a: RecordData, b: RecordData) -> list[tuple[str, str, str, bool]]:
    """(field, value in A, value in B, differs) for the side-by-side view."""
    rows = []
    for name, get in FIELDS:
        x, y = get(a), get(b)
        rows.append((name, x, y, fold(x) != fold(y)))
    return rows


def marked_values(name: str, x: str, y: str, differs: bool) -> tuple[Text, Text]:
    """The two values as text, the differing words marked."""
    if not differs:
        if name == "Abstract" and len(x) > ABSTRACT_SHOWN:
            x = y = x[:ABSTRACT_SHOWN] + "…"
        return Text(x), Text(y)
    marked = review.word_diff(x, y)
    if name == "Abstract":
        marked = (review.around_differences(marked[0]), review.around_differences(marked[1]))
    texts = []
    for pieces in marked:
        text = Text()
        for words, different in pieces:
            word = words.rstrip()  # the word marked, not the space after it
            text.append(word, style=DIFFERS if different else "")
            text.append(words[len(word) :])
        texts.append(text)
    return texts[0], texts[1]


class DedupQueueApp(App[None]):
    """Decide the pairs dedup was unsure of."""

    TITLE = "reviewflow: possible duplicates"
    CSS = """
    #status { height: 3; padding: 0 1; background: $boost; }
    #pair { height: 1fr; }
    #pair Horizontal { height: auto; }
    #pair .name { width: 10; text-style: bold; }
    #pair .value { width: 1fr; padding: 0 1 0 0; }
    #pair .head { text-style: bold; color: $accent; }
    #pair .-differs .name { color: $warning; }
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
        self.refused = ""  # why this name may not decide, if it may not
        self.items: list[review.QueueItem] = []
        self.position = 0
        self.decided: list[int] = []  # positions, in the order decided (for u)
        self.seen: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status")
        with VerticalScroll(id="pair"):
            with Horizontal():
                yield Static("", classes="name")
                yield Static("", id="head-a", classes="value head")
                yield Static("", id="head-b", classes="value head")
            for name, _get in FIELDS:
                with Horizontal(id=f"field-{name.lower()}"):
                    yield Static(name, classes="name")
                    yield Static("", classes="value a")
                    yield Static("", classes="value b")
        yield Footer()

    def on_mount(self) -> None:
        try:
            reviewer_id(self.store, self.reviewer)
        except ReviewflowError as exc:
            self.refused = exc.message
        else:
            self.items = review.queue(self.store)
        self.show()

    @property
    def current(self) -> review.QueueItem | None:
        return self.items[self.position] if self.position < len(self.items) else None

    def open_positions(self) -> list[int]:
        return [i for i in range(len(self.items)) if i not in self.decided]

    def skipped(self) -> list[int]:
        """Pairs shown and left open, other than the one on screen."""
        return [i for i in self.open_positions() if i in self.seen and i != self.position]

    def show(self) -> None:
        pair = self.query_one("#pair", VerticalScroll)
        status = self.query_one("#status", Static)
        item = self.current if not self.refused else None
        pair.display = item is not None
        self.refresh_bindings()
        if self.refused:
            status.update(Text(f"Refused: {self.refused}", style="bold red"))
            return
        skipped = len(self.skipped())
        if item is None:
            if skipped:
                status.update(
                    f"No new pairs left ({len(self.decided)} decided); {skipped} skipped "
                    f"{'pair' if skipped == 1 else 'pairs'} still open: s to go back to "
                    f"{'it' if skipped == 1 else 'them'}, q to quit (they stay in the queue)."
                )
            else:
                status.update(
                    f"No pairs left to decide ({len(self.decided)} decided now). Press q."
                )
            return
        self.seen.add(self.position)
        reason = item.scores.get("reason", "")
        counts = f" · {skipped} skipped" if skipped else ""
        status.update(
            f"Pair {self.position + 1} of {len(self.items)}{counts} · similarity "
            f"{item.score:.2f} · records {item.record_a.source_key} and "
            f"{item.record_b.source_key}\n{reason}"
        )
        self.query_one("#head-a", Static).update(f"Record A ({item.record_a.source_key})")
        self.query_one("#head-b", Static).update(f"Record B ({item.record_b.source_key})")
        for name, x, y, differs in field_rows(item.record_a, item.record_b):
            row = self.query_one(f"#field-{name.lower()}", Horizontal)
            a, b = marked_values(name, x, y, differs)
            row.query_one(".a", Static).update(a)
            row.query_one(".b", Static).update(b)
            row.set_class(differs, "-differs")
        pair.scroll_home(animate=False)

    def advance(self) -> None:
        """On to the next open pair after this one (or to the end)."""
        later = [i for i in self.open_positions() if i > self.position]
        self.position = later[0] if later else len(self.items)
        self.show()

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
        self.advance()

    def action_skip(self) -> None:
        if self.current is not None:
            self.advance()
        elif self.skipped():
            self.position = self.skipped()[0]  # back to the first skipped pair
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
            "d: duplicate (merged at once) · n: not a duplicate · s: skip (after the last pair, "
            "back to the skipped ones) · u: reopen the last decision · q: quit. Marked words "
            "differ between the two records.",
            timeout=8,
        )

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        if action == "decide":
            return self.current is not None
        if action == "skip":
            return self.current is not None or bool(self.skipped())
        if action == "reopen":
            return bool(self.decided)
        return True
