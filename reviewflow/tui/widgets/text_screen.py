"""A page of text over the current screen (agreement, the PRISMA flow, a report's files)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class TextScreen(Screen[None]):
    DEFAULT_CSS = """
    TextScreen #text-body { padding: 1 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,c", "close", "Back"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.page_title, self.text = title, text

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(self.text, id="text-body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.page_title

    def action_close(self) -> None:
        self.dismiss()
