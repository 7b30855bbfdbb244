"""Small modal dialogs: a line of text, a choice from a list, a search, the key help."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from reviewflow.screening.queue import SearchHit
from reviewflow.text import plural

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 80%; max-width: 100; height: auto; max-height: 80%;
    border: thick $primary; background: $surface; padding: 1 2;
}}
{name} Label.title {{ text-style: bold; margin-bottom: 1; }}
{name} Static.hint {{ color: $text-muted; margin-top: 1; }}
{name} OptionList {{ height: auto; max-height: 20; }}
"""


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text (a note, a record number). Escape cancels."""

    DEFAULT_CSS = DIALOG_CSS.format(name="TextPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        suggester: Suggester | None = None,
    ):
        super().__init__()
        self.title_text, self.value, self.placeholder, self.hint = title, value, placeholder, hint
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(value=self.value, placeholder=self.placeholder, id="answer",
                        suggester=self.suggester)  # fmt: skip
            yield Static(self.hint or "Enter to save, Escape to cancel", classes="hint")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CommaSuggester(Suggester):
    """Completes the last of comma-separated words from a list (labels), any case; → takes it."""

    def __init__(self, words: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.words = list(words)

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(",")
        typed = last.lstrip()
        if not typed:
            return None
        taken = {w.strip().casefold() for w in head.split(",")}
        for word in self.words:
            if word.casefold().startswith(typed.casefold()) and word.casefold() not in taken:
                return value[: len(value) - len(typed)] + word
        return None


class ChoicePrompt(ModalScreen[str | None]):
    """Pick one of a list (a full-text exclusion reason). Number keys pick directly."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ChoicePrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: Sequence[str]):
        super().__init__()
        self.title_text, self.choices = title, list(choices)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield OptionList(
                *[Option(f"{i}. {c}", id=str(i)) for i, c in enumerate(self.choices, 1)],
                id="choices",
            )
            yield Static("↑↓ and Enter, or the number; Escape cancels", classes="hint")

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key.isdigit() and 1 <= int(key) <= len(self.choices):
            self.dismiss(self.choices[int(key) - 1])

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SearchPrompt(ModalScreen[int | None]):
    """Search the queue (title, abstract, PMID, DOI, record id); returns the chosen record id.
    The search itself runs in a thread worker through the function it is given."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SearchPrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, search: Callable[[str], tuple[list[SearchHit], int]]):
        super().__init__()
        self.search = search
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Search this queue", classes="title")
            yield Input(placeholder="words (all of them), PMID, DOI or record id", id="query")
            # above the list, so the count shows on a 24-line terminal too
            yield Static("Enter searches; pick a record with ↓ and Enter", classes="hint")
            yield OptionList(id="hits")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.query_one("#hits", OptionList).clear_options()
        self.query_one(".hint", Static).update("Searching…")
        self.run_search(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def run_search(self, text: str) -> None:
        hits, total = self.search(text)
        self.app.call_from_thread(self.show_hits, text, hits, total)

    def show_hits(self, text: str, hits: list[SearchHit], total: int) -> None:
        self.hits = hits
        options = self.query_one("#hits", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(Text(f"{h.year or '----'}  {h.title}", no_wrap=True, overflow="ellipsis"))
                for h in hits
            ]
        )
        hint = f"{plural(total, 'record')} {'matches' if total == 1 else 'match'} {text!r}"
        if total > len(hits):
            hint += f" (the first {len(hits):,} shown)"
        self.query_one(".hint", Static).update(hint)
        if hits:
            options.highlighted = 0
            options.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.hits[event.option_index].record_id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The keys of the app; keys that do not apply to the current record are greyed."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="HelpScreen")
        + "HelpScreen #keys { height: auto; max-height: 45vh; }"
    )
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, title: str, rows: Sequence[tuple[str, str, bool]], notes: str = ""):
        super().__init__()
        self.title_text, self.rows, self.notes = title, list(rows), notes

    def compose(self) -> ComposeResult:
        table = Text()
        for key, description, enabled in self.rows:
            style = "" if enabled else "dim"
            table.append(f"{key:>10}  ", style="bold " + style if enabled else style)
            table.append(description + ("" if enabled else "  (not now)") + "\n", style=style)
        with Vertical():
            yield Label(self.title_text, classes="title")
            with VerticalScroll(id="keys"):  # ↑↓ scroll it on a 24-line terminal
                yield Static(table)
            if self.notes:
                yield Static(self.notes, classes="hint")

    def on_mount(self) -> None:
        self.query_one("#keys").focus()  # so that ↑↓ scroll a list longer than the terminal

    def action_close(self) -> None:
        self.dismiss(None)
