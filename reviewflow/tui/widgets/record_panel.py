"""One record, readable: title, authors, journal, year, identifiers, publication types, the
abstract section by section, keywords and MeSH terms; the review's include/exclude words
highlighted in green/red in the title and abstract."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from reviewflow.screening.highlight import INCLUDE, highlight_spans
from reviewflow.screening.queue import RecordView

INCLUDE_STYLE = "bold green"
EXCLUDE_STYLE = "bold red"


def highlighted(text: str, include: Sequence[str], exclude: Sequence[str], style: str = "") -> Text:
    out = Text(text, style=style)
    for span in highlight_spans(text, include, exclude):
        out.stylize(INCLUDE_STYLE if span.kind == INCLUDE else EXCLUDE_STYLE, span.start, span.end)
    return out


def citation(view: RecordView) -> str:
    """ "Journal. 2019;12(3):45-67" from whatever parts the record has."""
    parts = [view.journal] if view.journal else []
    if view.year:
        parts.append(str(view.year))
    line = ". ".join(parts)
    if view.volume:
        line += f";{view.volume}" + (f"({view.issue})" if view.issue else "")
    if view.pages:
        line += f":{view.pages}"
    return line or "(no journal or year)"


def authors_line(authors: Sequence[str], limit: int = 12) -> str:
    if not authors:
        return "(no authors)"
    if len(authors) <= limit:
        return ", ".join(authors)
    return ", ".join(authors[:limit]) + f", … (+{len(authors) - limit} more)"


def render_record(
    view: RecordView, include: Sequence[str], exclude: Sequence[str], links: bool = False
) -> Text:
    """The record; ``links`` (full text) adds where to find the report and my title/abstract
    note."""
    out = Text()
    out.append_text(highlighted(view.title or "(no title)", include, exclude, "bold"))
    out.append("\n\n")
    out.append(authors_line(view.authors) + "\n", style="italic")
    out.append(citation(view) + "\n")
    ids = [f"PMID {view.pmid}" if view.pmid else "", f"DOI {view.doi}" if view.doi else ""]
    ids.append(f"record {view.record_id}")
    out.append("  ·  ".join(i for i in ids if i) + "\n", style="dim")
    if links:
        for url in (f"https://pubmed.ncbi.nlm.nih.gov/{view.pmid}/" if view.pmid else "",
                    f"https://doi.org/{view.doi}" if view.doi else ""):  # fmt: skip
            if url:
                out.append(url + "\n", style=f"link {url}")
        out.append("Full text: ", style="dim")
        if view.fulltext:
            out.append(f"PDF attached ({view.fulltext}; p opens it)\n", style="bold")
        else:
            out.append("no PDF attached (reviewflow fulltext attach)\n", style="dim")
        if view.title_abstract_note:
            out.append("My title/abstract note: ", style="dim")
            out.append(view.title_abstract_note + "\n", style="italic")
    if view.publication_types:
        out.append("Type: ", style="dim")
        out.append(", ".join(view.publication_types) + "\n")
    if view.language and view.language != ["eng"]:
        out.append("Language: ", style="dim")
        out.append(", ".join(view.language) + "\n")
    out.append("\n")
    if not view.abstract_sections:
        out.append("(no abstract)\n", style="dim italic")
    for label, body in view.abstract_sections:
        if label:
            out.append(label.upper() + "\n", style="bold cyan")
        out.append_text(highlighted(body, include, exclude))
        out.append("\n\n")
    if view.keywords:
        out.append("Keywords: ", style="dim")
        out.append("; ".join(view.keywords) + "\n")
    if view.mesh_terms:
        out.append("MeSH: ", style="dim")
        out.append("; ".join(view.mesh_terms) + "\n")
    return out


class RecordPanel(VerticalScroll, can_focus=True):
    """Shows one :class:`RecordView`; scrolls when the abstract is long."""

    DEFAULT_CSS = """
    RecordPanel { padding: 0 2; height: 1fr; }
    RecordPanel > #record-text { width: 100%; max-width: 110; }
    """

    def __init__(
        self,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        links: bool = False,
        **kw: object,
    ):
        super().__init__(**kw)  # type: ignore[arg-type]
        self.include, self.exclude, self.links = list(include), list(exclude), links

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("Loading…", id="record-text")

    def show(self, view: RecordView | None, message: str = "") -> None:
        text = self.query_one("#record-text", Static)
        if view is None:
            text.update(Text(message, style="bold"))
        else:
            text.update(render_record(view, self.include, self.exclude, self.links))
        self.scroll_home(animate=False)
