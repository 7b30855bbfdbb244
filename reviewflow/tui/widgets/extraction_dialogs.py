"""The extraction screens' dialogs: the key help (``?``/F1) and a one-value prompt."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

from reviewflow.extraction.forms import FormField
from reviewflow.extraction.validate import check_value

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 80%; max-width: 100; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 1 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .hint {{ color: $text-muted; margin-top: 1; }}
{name} .problem {{ color: $error; }}
"""


def key_table(screen: Screen[Any]) -> Table:
    """The screen's and the app's key bindings that have a description."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    seen: set[str] = set()
    bindings: Iterable[Binding] = [
        b for b in (*screen.BINDINGS, *screen.app.BINDINGS) if isinstance(b, Binding)
    ]
    for b in bindings:
        if b.description and b.action not in seen:
            seen.add(b.action)
            table.add_row(b.key_display or b.key, b.description)
    return table


class ExtractionHelp(ModalScreen[None]):
    """The keys of the screen underneath, and what extraction does with what is typed."""

    DEFAULT_CSS = _CSS.format(name="ExtractionHelp")
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, under: Screen[Any], text: str) -> None:
        super().__init__()
        self.keys = key_table(under)
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Keys", classes="title")
            yield Static(self.keys)
            yield Static(self.text, classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


class ValuePrompt(ModalScreen[str | None]):
    """Type the consensus value of one field; checked as typed. Escape cancels."""

    DEFAULT_CSS = _CSS.format(name="ValuePrompt")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, spec: FormField, value: str = "") -> None:
        super().__init__()
        self.title_text, self.spec, self.value = title, spec, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(value=self.value, id="value")
            yield Static("", classes="problem", id="problem")
            yield Static("Enter to set it, Escape to cancel; empty = not reported", classes="hint")

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        self.query_one("#problem", Static).update(check_value(self.spec, event.value).problem)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        problem = check_value(self.spec, event.value).problem
        if problem:
            self.query_one("#problem", Static).update(problem)
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
