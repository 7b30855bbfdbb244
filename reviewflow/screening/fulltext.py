"""Full texts (PDFs) attached to records, for the full-text stage.

A PDF is copied into the review folder as ``fulltext/<record id>.pdf`` and its place (relative
to the review folder) stored in the record's ``fulltext_retrieval`` row (status ``retrieved``),
so the review stays self-contained: it moves as one folder, and ``reviewflow serve`` hands the
same file to whoever is signed in. Any reviewer may attach (the file is shared by the team, like
"not retrieved"; it shows nobody's decisions).

Matching a file to a record by its name (the name without ``.pdf``, any case):

- a PMID: ``12345678.pdf``, ``PMID12345678.pdf`` (also ``pmid_…``, ``PMID-…``, ``PMID …``);
- a DOI with each ``/`` written as ``_``, or percent-encoded (``%2F``, ``%3A`` …):
  ``10.1000_xyz123.pdf``, ``10.1000%2Fxyz123.pdf``; a ``doi_`` prefix may stand before it.

The records searched are those of the review (an active duplicate counts as its kept record;
records removed before screening are left out). A name that fits more than one record, or two
files that fit one record, is ambiguous: nothing is attached for them, ``--record N`` does it.
A file's content is never read for identifiers (the text of a PDF needs a PDF parser to be read
reliably). Attaching to a report marked "not retrieved" marks it retrieved again.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import func
from sqlmodel import Session, col, select

from reviewflow.access.guard import behind_rls, require_self
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.screening import flow
from reviewflow.screening.decisions import RETRIEVAL_ENTITY, reviewer_row
from reviewflow.store.audit import audit
from reviewflow.store.engine import Store
from reviewflow.store.models import (
    DuplicateLink,
    FulltextRetrieval,
    PrescreenRemoval,
    Record,
    utcnow,
)

FULLTEXT_DIR = "fulltext"
PDF_MAGIC = b"%PDF-"
VIEWER_ENV = "REVIEWFLOW_PDF_VIEWER"
GITIGNORE = (
    "# full texts are usually copyrighted: not committed unless you remove the next line\n*.pdf\n"
)
_PMID = re.compile(r"(?:pmid[\s_-]*)?(\d{1,9})", re.IGNORECASE)
_DOI = re.compile(r"(?:doi[\s_:-]*)?(10\.\d{4,9}(?:_|/).+)", re.IGNORECASE)


def doi_key(doi: str) -> str:
    """A DOI as a file name writes it: lower case, ``/`` as ``_``."""
    return doi.strip().lower().replace("/", "_")


def identifier_of(file_name: str) -> tuple[str, str] | None:
    """``("pmid", "12345678")`` or ``("doi", key)`` (see :func:`doi_key`) from a file's name, or
    None when the name is neither (see the module's rules)."""
    stem = file_name[:-4] if file_name.lower().endswith(".pdf") else file_name
    stem = stem.strip()
    if m := _PMID.fullmatch(stem):
        return "pmid", str(int(m.group(1)))
    if m := _DOI.fullmatch(unquote(stem)):
        return "doi", doi_key(m.group(1))
    return None


def check_pdf(path: Path) -> None:
    """A one-line error naming ``path`` unless it is a readable file that starts as a PDF."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not head.lstrip(b"\0\t\n\r \xef\xbb\xbf").startswith(PDF_MAGIC):
        raise InputError(f"{path}: not a PDF (a PDF file starts with %PDF-)")


def pdf_files(paths: Sequence[Path]) -> list[Path]:
    """The files to attach: each path, or a folder's ``*.pdf`` files (not its subfolders, nor
    hidden files such as macOS's ``._name.pdf`` copies), every one checked (:func:`check_pdf`) before anything is attached."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p for p in path.iterdir() if p.suffix.lower() == ".pdf" and p.name[0] != "."
            )
            if not inside:
                raise InputError(f"{path}: no .pdf files in this folder")
            found.extend(inside)
        else:
            found.append(path)
    for path in found:
        check_pdf(path)
    return found


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def location_of(record_id: int) -> str:
    return f"{FULLTEXT_DIR}/{record_id}.pdf"


def fulltext_path(review_dir: Path, location: str) -> Path | None:
    """The file a stored location names (relative to the review folder), or None for none."""
    if not location or "://" in location:
        return None
    path = Path(location)
    return path if path.is_absolute() else review_dir / path


@dataclass(frozen=True)
class Attached:
    record_id: int
    file: Path
    location: str
    was: str | None  # the status before: None (no row), "retrieved", "not_retrieved"


@dataclass
class AttachResult:
    attached: list[Attached] = field(default_factory=list)
    unchanged: list[Attached] = field(default_factory=list)  # the same file was attached
    ambiguous: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)
    unmatched: list[Path] = field(default_factory=list)


def _kept(session: Session, ids: set[int]) -> dict[int, int]:
    """Each record id → the record it stands for (an active duplicate → its kept record)."""
    links = dict(
        session.execute(
            select(DuplicateLink.record_id, DuplicateLink.kept_record_id).where(
                col(DuplicateLink.undone_at).is_(None), col(DuplicateLink.record_id).in_(ids)
            )
        ).all()
    )
    return {i: links.get(i, i) for i in ids}


def _matches(session: Session, idents: set[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
    """Each identifier → the review's records (kept records) that carry it."""
    pmids = {v for k, v in idents if k == "pmid"}
    dois = {v for k, v in idents if k == "doi"}
    rows: list[tuple[tuple[str, str], int]] = []
    if pmids:
        found = session.execute(select(Record.pmid, Record.id).where(col(Record.pmid).in_(pmids)))
        rows += [(("pmid", p), int(i)) for p, i in found.all()]
    if dois:
        key = func.replace(func.lower(func.trim(Record.doi)), "/", "_")
        found = session.execute(select(key, Record.id).where(key.in_(dois)))
        rows += [(("doi", k), int(i)) for k, i in found.all()]
    kept = _kept(session, {i for _, i in rows})
    removed = set(session.execute(select(PrescreenRemoval.record_id)).scalars())
    out: dict[tuple[str, str], set[int]] = defaultdict(set)
    for ident, rid in rows:
        if kept[rid] not in removed:
            out[ident].add(kept[rid])
    return out


def _in_review(session: Session, record_id: int) -> None:
    if session.get(Record, record_id) is None:
        raise InputError(f"record {record_id}: no such record in the review")
    kept = _kept(session, {record_id})[record_id]
    if kept != record_id:
        raise InputError(
            f"record {record_id} is a duplicate of record {kept}: attach the full text to {kept}"
        )
    if session.scalar(select(PrescreenRemoval.id).where(PrescreenRemoval.record_id == record_id)):
        raise InputError(f"record {record_id} was removed before screening")


def attach(
    store: Store,
    review_dir: Path,
    actor: str,
    paths: Sequence[Path],
    record_id: int | None = None,
) -> AttachResult:
    """Attach PDFs: one file to ``record_id``, or files (and folders of them) matched by name.
    Every file is checked first, and the database changes in one transaction: on any error
    nothing is attached. Audited (``fulltext.attach``) with the file's SHA-256."""
    require_self(store, actor, "attaching full texts")
    files = pdf_files(paths)
    if record_id is not None and len(files) != 1:
        raise InputError(f"--record {record_id}: give one PDF file (got {len(files)})")
    result = AttachResult()
    wanted: dict[int, Path] = {}
    with store.read() as s:
        reviewer_row(s, actor)
        if record_id is not None:
            _in_review(s, record_id)
            wanted[record_id] = files[0]
        else:
            idents = {f: identifier_of(f.name) for f in files}
            found = _matches(s, {i for i in idents.values() if i is not None})
            by_record: dict[int, list[Path]] = defaultdict(list)
            for f, ident in idents.items():
                ids = found.get(ident, set()) if ident else set()
                if not ids:
                    result.unmatched.append(f)
                elif len(ids) > 1:
                    listed = ", ".join(str(i) for i in sorted(ids))
                    result.ambiguous.append((f, f"fits records {listed}"))
                else:
                    by_record[next(iter(ids))].append(f)
            for rid, fs in sorted(by_record.items()):
                if len(fs) == 1:
                    wanted[rid] = fs[0]
                else:
                    others = ", ".join(x.name for x in fs)
                    result.ambiguous += [(f, f"record {rid} fits {others}") for f in fs]
        rows = {
            r.record_id: r
            for r in s.exec(
                select(FulltextRetrieval).where(col(FulltextRetrieval.record_id).in_(list(wanted)))
            )
        }
    target_dir = review_dir / FULLTEXT_DIR
    digests = {rid: sha256(f) for rid, f in wanted.items()}
    staged: dict[int, Path] = {}
    try:
        for rid, f in sorted(wanted.items()):
            row = rows.get(rid)
            done = Attached(rid, f, location_of(rid), None if row is None else row.status)
            current = fulltext_path(review_dir, row.location) if row else None
            if (row is not None and row.status == "retrieved" and row.location == done.location
                    and current is not None and current.is_file()
                    and sha256(current) == digests[rid]):  # fmt: skip
                result.unchanged.append(done)
                continue
            target_dir.mkdir(parents=True, exist_ok=True)
            if not (target_dir / ".gitignore").exists():
                (target_dir / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
            staged[rid] = target_dir / f".attach-{secrets.token_hex(6)}-{rid}.pdf"
            try:
                shutil.copyfile(f, staged[rid])
            except OSError as exc:
                raise InputError(
                    f"{f}: cannot copy it to {target_dir} ({exc.strerror or exc})"
                ) from None
            result.attached.append(done)
        if result.attached:
            with store.write() as s:
                for done in result.attached:
                    _store_row(s, actor, done, digests[done.record_id])
        for rid, tmp in staged.items():
            os.replace(tmp, review_dir / location_of(rid))
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
    return result


def _store_row(s: Session, actor: str, done: Attached, digest: str) -> None:
    row = s.exec(
        select(FulltextRetrieval).where(FulltextRetrieval.record_id == done.record_id)
    ).first()
    before = None if row is None else {"status": row.status, "location": row.location}
    if row is None:
        row = FulltextRetrieval(record_id=done.record_id, status="retrieved")
    row.status, row.location = "retrieved", done.location
    row.updated_by, row.updated_at = actor, utcnow()
    s.add(row)
    s.flush()
    after = {"status": row.status, "location": row.location, "file": done.file.name,
             "sha256": digest}  # fmt: skip
    audit(s, actor, "fulltext.attach", RETRIEVAL_ENTITY, row.id, before, after,
          record_id=done.record_id)  # fmt: skip


@dataclass(frozen=True)
class FullText:
    """A report sought for retrieval, and its full text: ``location`` (empty: none attached),
    whether that file is there, and whether the report was marked not retrieved."""

    record_id: int
    pmid: str
    doi: str
    title: str
    location: str
    present: bool
    not_retrieved: bool


def sought_fulltexts(store: Store, review_dir: Path, required: int) -> list[FullText]:
    """The reports sought for retrieval (the title/abstract includes) and their full texts."""
    with store.read() as s:
        sought = flow.sought_ids(s, required, behind_rls=behind_rls(store))
        records = {r.id: r for r in s.exec(select(Record).where(col(Record.id).in_(sought)))}
        rows = {
            r.record_id: r
            for r in s.exec(
                select(FulltextRetrieval).where(col(FulltextRetrieval.record_id).in_(sought))
            )
        }
    out = []
    for rid in sought:
        r, row = records[rid], rows.get(rid)
        location = row.location if row is not None and row.status == "retrieved" else ""
        path = fulltext_path(review_dir, location)
        out.append(FullText(rid, r.pmid, r.doi, r.title, location,
                            path is not None and path.is_file(),
                            row is not None and row.status == "not_retrieved"))  # fmt: skip
    return out


def attached(store: Store, record_ids: Sequence[int]) -> dict[int, str]:
    """The records among ``record_ids`` with a full text attached → its location."""
    with store.read() as s:
        rows = s.execute(
            select(FulltextRetrieval.record_id, FulltextRetrieval.location).where(
                col(FulltextRetrieval.record_id).in_(list(record_ids)),
                FulltextRetrieval.status == "retrieved",
                FulltextRetrieval.location != "",
            )
        ).all()
    return {int(rid): str(loc) for rid, loc in rows}


# -- opening a PDF ----------------------------------------------------------------------------
def viewer_command(path: Path) -> list[str]:
    """The command that opens ``path`` with the system's PDF viewer: ``$REVIEWFLOW_PDF_VIEWER``
    (a command; the file is added at the end), else xdg-open / open / the Windows default."""
    chosen = os.environ.get(VIEWER_ENV, "").strip()
    if chosen:
        import shlex

        return [*shlex.split(chosen), str(path)]
    if sys.platform == "darwin":
        return ["open", str(path)]
    if sys.platform == "win32":
        return ["cmd", "/c", "start", "", str(path)]
    return ["xdg-open", str(path)]


def open_pdf(path: Path) -> None:
    """Open ``path`` in a viewer, detached (the viewer outlives nothing; its output goes
    nowhere). A one-line error when the file or the viewer is missing."""
    if not path.is_file():
        raise InputError(f"{path}: the attached full text is missing from the review folder")
    command = viewer_command(path)
    if shutil.which(command[0]) is None:
        raise ReviewflowError(
            f"no PDF viewer found ({command[0]} is not installed): set {VIEWER_ENV} to a "
            f"command, or open {path} yourself"
        )
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    except OSError as exc:
        raise ReviewflowError(f"{command[0]}: cannot start it ({exc.strerror or exc})") from None
