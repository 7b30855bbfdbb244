"""Opening a record's attached full text (``p``): in a terminal with the system's PDF viewer
(``$REVIEWFLOW_PDF_VIEWER``, else xdg-open), run detached; under ``reviewflow serve`` the app
runs on the server, so the PDF is delivered to the signed-in browser instead, which opens it in
a new tab (the server hands a delivery only to the session whose app made it)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from reviewflow.errors import ReviewflowError
from reviewflow.screening import fulltext


def open_fulltext(app: App[object], review_dir: Path | None, location: str, record_id: int) -> None:
    """Open the PDF at ``location`` (relative to ``review_dir``), or say in a notice why not."""
    path = fulltext.fulltext_path(review_dir, location) if review_dir and location else None
    if path is None:
        app.notify(
            f"no PDF attached to record {record_id}: "
            f"reviewflow fulltext attach FILE.pdf --record {record_id}",
            severity="warning",
            timeout=6,
        )
        return
    if not path.is_file():
        app.notify(f"{location}: the attached PDF is missing from {review_dir}", severity="error")
        return
    if app.is_web:
        app.deliver_binary(path, save_filename=f"record-{record_id}.pdf", open_method="browser",
                           mime_type="application/pdf")  # fmt: skip
        app.notify(f"record {record_id}: the PDF opens in a new browser tab", timeout=4)
        return
    try:
        fulltext.open_pdf(path)
    except ReviewflowError as exc:
        app.notify(exc.message, severity="error", timeout=10)
        return
    app.notify(f"record {record_id}: opening {location}", timeout=3)
