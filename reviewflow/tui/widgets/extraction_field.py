"""One field of the extraction form on one line: its label and unit, an input and whether it
is saved; the validation message under it. (The screen shows the focused field's help.)

Attributes down, messages up: the screen sets ``value``/``problem``/``saved``; the field checks
what is typed as it is typed (the pure check of :mod:`reviewflow.extraction.validate`) and posts
:class:`ExtractionField.Edited` when the value should be saved: when the field loses focus (Tab,
Enter) and after a short pause in typing (so a crash loses at most the last keystrokes).

A paste holding tabs or line breaks (a spreadsheet row or column) is one value per field: the
field posts :class:`ExtractionField.Pasted` and the screen fills the fields from this one on.
"""

from __future__ import annotations

import re

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widgets import Input, Label, Static

from reviewflow.extraction.forms import FormField
from reviewflow.extraction.validate import check_value

SAVE_AFTER_PAUSE = 0.8  # seconds without a keystroke before a value is saved


def placeholder(f: FormField) -> str:
    if f.type == "choice":
        return " / ".join(f.choices)
    if f.type == "yesno":
        return "yes / no"
    if f.type == "date":
        return "YYYY-MM-DD"
    if f.type == "integer":
        return "whole number"
    if f.type == "number":
        return "number (decimal point)"
    return ""


def paste_parts(text: str) -> list[str]:
    """A pasted text's values: split at tabs and line breaks (one trailing break dropped)."""
    text = re.sub(r"(\r\n|\r|\n)$", "", text)
    return re.split(r"\r\n|\r|\n|\t", text)


class FieldInput(Input):
    """The field's input; a paste of several values goes to the screen instead of this input."""

    def _on_paste(self, event: events.Paste) -> None:
        parts = paste_parts(event.text)
        if len(parts) > 1:
            event.prevent_default()  # not Input's paste (which keeps the first line, tabs and all)
            event.stop()
            owner = next(n for n in self.ancestors if isinstance(n, ExtractionField))
            self.post_message(ExtractionField.Pasted(owner, parts))

    def insert_pasted(self, text: str) -> None:
        """Insert ``text`` as a paste does: at the cursor, over the selection."""
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)


class ExtractionField(Vertical):
    """A form field. ``field_key`` is the stored field name (``outcome.mortality.events``)."""

    DEFAULT_CSS = """
    ExtractionField { height: auto; padding: 0 1; }
    ExtractionField > Horizontal { height: 1; }
    ExtractionField .field-label { width: 40%; max-width: 44; }
    ExtractionField.-required .field-label { text-style: bold; }
    ExtractionField Input { width: 1fr; height: 1; border: none; padding: 0 1; background: $boost; }
    ExtractionField Input:focus { border: none; background: $primary 40%; }
    ExtractionField .field-saved { width: 7; color: $text-muted; padding-left: 1; }
    ExtractionField .field-problem { color: $error; height: auto; display: none; padding-left: 2; }
    ExtractionField.-invalid .field-problem { display: block; }
    ExtractionField.-invalid Input { color: $error; }
    """

    class Edited(Message):
        """The reviewer entered ``value`` for ``key``: save it."""

        def __init__(self, field: ExtractionField, key: str, value: str) -> None:
            super().__init__()
            self.field = field
            self.key = key
            self.value = value

    class Pasted(Message):
        """A paste of several ``parts`` (tab- or line-separated) into ``field``."""

        def __init__(self, field: ExtractionField, parts: list[str]) -> None:
            super().__init__()
            self.field = field
            self.parts = parts

    def __init__(self, spec: FormField, value: str = "") -> None:
        super().__init__(id="field-" + spec.key.replace(".", "-"))
        self.spec = spec
        self.field_key = spec.key
        self._initial = value
        self._last_posted: str | None = value
        self._timer: Timer | None = None
        self._problem = ""
        self._saved_text = ""

    def compose(self) -> ComposeResult:
        f = self.spec
        unit = f" ({f.unit})" if f.unit else ""
        star = " *" if f.required else ""
        self.set_class(f.required, "-required")
        suggester = None
        if f.type == "choice":
            suggester = SuggestFromList(list(f.choices), case_sensitive=False)
        elif f.type == "yesno":
            suggester = SuggestFromList(["yes", "no"], case_sensitive=False)
        with Horizontal():
            part = f.part.rstrip("12")  # events1 → events: the group is a heading above
            label = ("SD" if part == "sd" else part.capitalize()) if part else f.label
            yield Label(f"{label}{unit}{star}", classes="field-label")
            yield FieldInput(value=self._initial, placeholder=placeholder(f), suggester=suggester)
            yield Label("", classes="field-saved")
        yield Static("", classes="field-problem")

    # -- attributes set by the screen ------------------------------------------------------
    @property
    def value(self) -> str:
        return self.query_one(Input).value

    def set_value(self, value: str) -> None:
        """Show a stored value (without posting Edited)."""
        self._last_posted = value
        with self.prevent(Input.Changed):
            self.query_one(Input).value = value
        self.show_problem(check_value(self.spec, value).problem)

    def enter(self, value: str, *, at_cursor: bool = False) -> None:
        """Put a pasted value in (over the whole value, or at the cursor) and save it now."""
        field_input = self.query_one(FieldInput)
        with self.prevent(Input.Changed):
            if at_cursor:
                field_input.insert_pasted(value)
            else:
                field_input.value = value
        self._form_spelling()
        self.show_problem(check_value(self.spec, self.value).problem)
        self._post()

    def show_problem(self, problem: str) -> None:
        if problem == self._problem:
            return
        self._problem = problem
        self.set_class(bool(problem), "-invalid")
        self.query_one(".field-problem", Static).update(problem)

    def save_failed(self, message: str) -> None:
        """The save did not reach the database: try again on the next edit or blur."""
        self._last_posted = None
        self.show_saved("NOT SAVED")
        self.show_problem(message)

    def show_saved(self, text: str) -> None:
        if text == self._saved_text:
            return
        self._saved_text = text
        self.query_one(".field-saved", Label).update(text)

    # -- typing ----------------------------------------------------------------------------
    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_problem(check_value(self.spec, event.value).problem)
        self.show_saved("…")
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SAVE_AFTER_PAUSE, self._post)

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        event.stop()
        self._form_spelling()
        self._post()

    def _form_spelling(self) -> None:
        """A choice typed in another case shows (and is saved) as the form spells it."""
        normal = check_value(self.spec, self.value).normal
        if self.spec.type == "choice" and normal and normal != self.value:
            with self.prevent(Input.Changed):
                self.query_one(Input).value = normal

    def take_unsaved(self) -> str | None:
        """The value typed since the last save request, if any (marked as requested)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        value = self.value
        if value == self._last_posted:
            return None
        self._last_posted = value
        return value

    def _post(self) -> None:
        value = self.take_unsaved()
        if value is not None:
            self.post_message(self.Edited(self, self.field_key, value))
        elif self.value:
            self.show_saved("saved")
