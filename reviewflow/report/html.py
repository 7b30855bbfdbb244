"""The report's ``index.html``: one self-contained page (inline CSS, the PRISMA SVG inline, no
script, nothing fetched from the internet) linking every file of the folder by a relative path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

CSS = """
body { font-family: Arial, Helvetica, "Liberation Sans", sans-serif; color: #1a1a1a;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
.meta { color: #555; font-size: 0.9em; }
.notice { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.5em 0.8em; margin: 0.6em 0; }
.absent { color: #7a4b00; font-style: italic; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; }
.wide { overflow-x: auto; }
.files a { margin-right: 1em; }
.prisma svg { max-width: 100%; height: auto; }
img.forest { max-width: 100%; height: auto; border: 1px solid #eee; }
td.query { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 0.85em; max-width: 28em;
           white-space: pre-wrap; word-break: break-word; }
ul.checks li.fail { color: #a33; }
"""

# The page runs no script and loads nothing from elsewhere; the policy makes the browser hold
# it to that even if some text were ever written unescaped: no script (inline, javascript:
# links, event handlers), no plugins, no forms, no <base>; images only from the folder itself.
CSP = (
    "default-src 'none'; img-src 'self' data: file:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass
class Section:
    id: str
    title: str
    body: list[str] = field(default_factory=list)  # HTML fragments
    files: list[tuple[str, str]] = field(default_factory=list)  # relative path, description
    absent: str = ""  # why there is nothing to show (said plainly)


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    numeric: Sequence[str] = (),
    classes: dict[str, str] | None = None,
) -> str:
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())
    classes = dict(classes or {})
    for c in numeric:
        classes.setdefault(c, "num")
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            text = "" if value is None else str(value)
            cls = f' class="{classes[c]}"' if c in classes else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>'
        + "".join(body)
        + "</tbody></table></div>"
    )


def page(
    title: str,
    generated: str,
    database: str,
    notices: Sequence[str],
    sections: Sequence[Section],
) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Review report written by reviewflow on {escape(generated)} from '
        f"{escape(database)}. Every number on this page was computed from the review "
        "database.</p>",
    ]
    out += [f'<p class="notice">{escape(n)}</p>' for n in notices]
    out.append("<nav><ul>")
    out += [f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a></li>' for s in sections]
    out.append("</ul></nav>")
    for s in sections:
        out.append(f'<section id="{escape(s.id)}"><h2>{escape(s.title)}</h2>')
        if s.absent:
            out.append(f'<p class="absent">{escape(s.absent)}</p>')
        out += s.body
        if s.files:
            links = " ".join(
                f'<a href="{escape(path, quote=True)}">{escape(path)}</a>'
                f" <span class=meta>({escape(desc)})</span>"
                for path, desc in s.files
            )
            out.append(f'<p class="files">Files: {links}</p>')
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
