"""What the extraction screens pass around: the study list's rows, the messages their thread
workers post back, and the progress cell (``✓`` once the reviewer has finished the study)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message

from reviewflow.extraction import values as extraction_values
from reviewflow.extraction.studies import StudyInfo

if TYPE_CHECKING:
    from reviewflow.tui.widgets.extraction_field import ExtractionField


@dataclass(frozen=True)
class StudyRow:
    study: StudyInfo
    progress: extraction_values.Progress
    finished: bool = False


class StudiesLoaded(Message):
    def __init__(self, rows: list[StudyRow]) -> None:
        super().__init__()
        self.rows = rows


class StudyLoaded(Message):
    def __init__(
        self, study_id: int, values: dict[str, str], notes: list[str], finished: bool
    ) -> None:
        super().__init__()
        self.study_id, self.values, self.notes, self.finished = study_id, values, notes, finished


class FinishedChanged(Message):
    """Marking a study finished (or reopening it) ended (``error``: the one-line refusal)."""

    def __init__(self, study_id: int, finished: bool, error: str = "") -> None:
        super().__init__()
        self.study_id, self.finished, self.error = study_id, finished, error


class ValueSaved(Message):
    """A save finished (``error`` set when it did not reach the database)."""

    def __init__(
        self, field: ExtractionField, study_id: int, key: str, value: str, error: str = ""
    ) -> None:
        super().__init__()
        self.field, self.study_id, self.key, self.value, self.error = (
            field,
            study_id,
            key,
            value,
            error,
        )


def progress_text(p: extraction_values.Progress, finished: bool = False) -> Text:
    text = Text("✓ " if finished else "  ", style="bold green")
    text.append(f"{p.filled}/{p.total}")
    if finished and not p.problems:
        text.append("  finished", style="bold green")
    elif p.problems:
        text.append(f"  {p.problems} problem{'s' * (p.problems != 1)}", style="bold red")
    elif p.required_missing and p.filled:
        text.append(f"  {p.required_missing} required missing", style="yellow")
    elif p.done:
        text.append("  complete", style="green")
    return text
