"""A review is a folder: ``review.toml``, ``queries/``, ``forms/`` and ``db/``.

Commands find the workspace from the current folder upward. The database is, in order:
``--db URL``, ``REVIEWFLOW_DATABASE_URL``, ``[database] url`` in review.toml, or
``db/reviewflow.sqlite`` inside the workspace.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reviewflow.errors import WorkspaceError
from reviewflow.text import plural

if TYPE_CHECKING:
    from reviewflow.store import Store

REVIEW_FILE = "review.toml"
DEFAULT_DB = "db/reviewflow.sqlite"
ROLES = ("reviewer", "adjudicator")

DEFAULT_EXCLUSION_REASONS = [
    "Wrong population",
    "Wrong intervention",
    "Wrong comparator or no outcome of interest",
    "Wrong study design",
    "Fewer patients than the minimum",
    "Duplicate report of an included study",
    "Not a primary study (review, editorial, letter)",
]


# Every section and key review.toml may hold: a misspelt one is an error, not silently ignored.
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "review": ("title", "question"),
    "eligibility": ("include", "exclude"),
    "highlight": ("include", "exclude"),
    "screening": (
        "reviewers_per_record",
        "fulltext_exclusion_reasons",
        "title_abstract_exclusion_reasons",
        "suggested_labels",
    ),
    "reviewers": ("name", "role"),
    "contact": ("email",),
    "database": ("url",),
}


def _suggest(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"


def check_known_keys(path: Path, data: dict[str, Any]) -> None:
    """Refuse a section or key reviewflow does not know (``[highlights]``,
    ``fulltext_exclusion_reason``, ``[[reviewer]]``), naming it and the nearest known one."""
    for section, value in data.items():
        if section not in KNOWN_KEYS:
            raise WorkspaceError(
                f"{path}: unknown section [{section}]{_suggest(section, list(KNOWN_KEYS))}"
            )
        tables = value if isinstance(value, list) else [value]
        for table in tables:
            if not isinstance(table, dict):
                continue
            for key in table:
                if key not in KNOWN_KEYS[section]:
                    known = KNOWN_KEYS[section]
                    raise WorkspaceError(
                        f"{path}: [{section}] unknown key {key!r}{_suggest(key, known)}"
                    )


@dataclass(frozen=True)
class ReviewerConfig:
    name: str
    role: str = "reviewer"


@dataclass(frozen=True)
class ReviewConfig:
    """What review.toml says, checked."""

    title: str
    question: str = ""
    inclusion_criteria: list[str] = field(default_factory=list)
    exclusion_criteria: list[str] = field(default_factory=list)
    highlight_include: list[str] = field(default_factory=list)
    highlight_exclude: list[str] = field(default_factory=list)
    exclusion_reasons: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUSION_REASONS))
    title_abstract_reasons: list[str] = field(default_factory=list)  # optional when excluding
    suggested_labels: list[str] = field(default_factory=list)
    reviewers_per_record: int = 2
    reviewers: list[ReviewerConfig] = field(default_factory=list)
    email: str = ""
    database_url: str = ""

    def criteria_text(self) -> str:
        """The review question and eligibility criteria as plain text (shown while screening
        and reconciling, and in the report)."""
        parts = [
            f"Question\n  {self.question.strip() or '(none in review.toml [review] question)'}"
        ]
        for heading, items in (("Include", self.inclusion_criteria),
                               ("Exclude", self.exclusion_criteria)):  # fmt: skip
            lines = [f"  • {c}" for c in items] or ["  (none in review.toml [eligibility])"]
            parts.append(f"{heading}\n" + "\n".join(lines))
        return "\n\n".join(parts)

    def reviewer(self, name: str) -> ReviewerConfig:
        for r in self.reviewers:
            if r.name == name:
                return r
        known = ", ".join(r.name for r in self.reviewers) or "none"
        raise WorkspaceError(
            f"{REVIEW_FILE}: no reviewer named {name!r} (reviewers: {known}); "
            "add a [[reviewers]] entry"
        )


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: ReviewConfig

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def forms_dir(self) -> Path:
        return self.root / "forms"

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    def database_url(self, override: str | None = None) -> str:
        url = override or os.environ.get("REVIEWFLOW_DATABASE_URL") or self.config.database_url
        if url:
            return url
        return sqlite_url(self.root / DEFAULT_DB)


def sqlite_url(path: Path) -> str:
    """The ``sqlite:///`` URL of ``path``, percent-encoded so that any folder name survives it
    (a space, ``%``, ``?``, ``#``, non-ASCII letters; unencoded, ``?`` began a query and the
    database went to another folder)."""
    return "sqlite:///" + quote(str(path), safe="/")


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    if not url.startswith("sqlite:///"):
        return None
    return Path(make_url(url).database or "")


DB_GITIGNORE = (
    "# the review database is not committed; the migrations live in reviewflow/store\n"
    "*.sqlite\n*.sqlite-*\n"
)


def create_workspace(
    root: Path,
    title: str = "Untitled systematic review",
    *,
    review_toml: str | None = None,
    db_url: str | None = None,
    copy_forms: bool = True,
) -> tuple[Workspace, Store]:
    """Create ``review.toml``, ``queries/``, ``forms/`` and ``db/`` with a migrated database.

    In a review folder that has a review.toml but no database yet (a cloned review), keep the
    settings and create the rest. Returns the workspace and its open store.
    """
    from reviewflow.store import open_store
    from reviewflow.store.reviewers import sync_reviewers

    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} exists and is not a folder")
    existing = (root / REVIEW_FILE).exists()
    if existing:
        url = Workspace(root, load_config(root / REVIEW_FILE)).database_url(db_url)
        file = _sqlite_file(url)
        if file is None or file.exists():
            raise WorkspaceError(
                f"{root / REVIEW_FILE} already exists: {root} is already a workspace"
            )
    for sub in ("queries", "forms", "db"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if not (root / "db" / ".gitignore").exists():
        (root / "db" / ".gitignore").write_text(DB_GITIGNORE, encoding="utf-8")
    if not existing:
        text = review_toml if review_toml is not None else review_toml_template(title)
        (root / REVIEW_FILE).write_text(text, encoding="utf-8")
        if copy_forms:
            _copy_shipped_forms(root / "forms")
    ws = Workspace(root, load_config(root / REVIEW_FILE))
    store = open_store(ws.database_url(db_url), create=True)
    sync_reviewers(store, ws.config)
    return ws, store


def _copy_shipped_forms(target: Path) -> None:
    """The extraction forms shipped with reviewflow, as a starting point."""
    from importlib.resources import files

    shipped = files("reviewflow.extraction").joinpath("forms")
    if not shipped.is_dir():
        return
    for form in shipped.iterdir():
        if form.name.endswith(".toml") and not (target / form.name).exists():
            (target / form.name).write_text(form.read_text(encoding="utf-8"), encoding="utf-8")


def find_workspace(start: Path | None = None, *, adding_reviewer: bool = False) -> Workspace:
    """The workspace containing ``start`` (default: the current folder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / REVIEW_FILE).is_file():
            config = load_config(folder / REVIEW_FILE, adding_reviewer=adding_reviewer)
            return Workspace(folder, config)
    raise WorkspaceError(
        f"no review workspace here: no {REVIEW_FILE} in {here} or any folder above it "
        "(create one with 'reviewflow init DIR')"
    )


def _strings(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{where}: '{key}' must be a list of strings")
    return list(value)


def load_config(path: Path, *, adding_reviewer: bool = False) -> ReviewConfig:
    """Read and check review.toml; every error names the file and the place.

    ``adding_reviewer`` lets ``reviewer add`` read a file with fewer reviewers than
    ``reviewers_per_record`` (the way to mend it)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: invalid TOML: {exc}") from None
    check_known_keys(path, data)

    review = data.get("review", {})
    if not isinstance(review, dict) or not isinstance(review.get("title"), str):
        raise WorkspaceError(f"{path}: [review] needs a 'title' string")
    eligibility = data.get("eligibility", {})
    highlight = data.get("highlight", {})
    screening = data.get("screening", {})
    for name, table in (
        ("eligibility", eligibility),
        ("highlight", highlight),
        ("screening", screening),
    ):
        if not isinstance(table, dict):
            raise WorkspaceError(f"{path}: [{name}] must be a table")

    reviewers = []
    entries = data.get("reviewers", [])
    if not isinstance(entries, list):
        raise WorkspaceError(f"{path}: 'reviewers' must be an array of tables ([[reviewers]])")
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        where = f"{path}: [[reviewers]] entry {i}"
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not entry["name"].strip()
        ):
            raise WorkspaceError(f"{where}: needs a 'name'")
        role = entry.get("role", "reviewer")
        if role not in ROLES:
            raise WorkspaceError(f"{where}: role must be 'reviewer' or 'adjudicator', not {role!r}")
        if entry["name"] in seen:
            raise WorkspaceError(f"{where}: reviewer {entry['name']!r} is listed twice")
        seen.add(entry["name"])
        reviewers.append(ReviewerConfig(entry["name"].strip(), role))

    per_record = screening.get("reviewers_per_record", 2)
    if not isinstance(per_record, int) or per_record < 1:
        raise WorkspaceError(f"{path}: [screening] reviewers_per_record must be a whole number ≥ 1")
    if reviewers and per_record > len(reviewers) and not adding_reviewer:
        raise WorkspaceError(
            f"{path}: [screening] reviewers_per_record = {per_record} but only "
            f"{plural(len(reviewers), 'reviewer')} listed; add one ('reviewflow reviewer add "
            "NAME') or lower reviewers_per_record"
        )
    reasons = _strings(screening, "fulltext_exclusion_reasons", f"{path}: [screening]")
    ta_reasons = _strings(screening, "title_abstract_exclusion_reasons", f"{path}: [screening]")
    for key, items, longest in (("fulltext_exclusion_reasons", reasons, 200),
                                ("title_abstract_exclusion_reasons", ta_reasons, 200)):  # fmt: skip
        for item in items:
            if not item.strip() or len(item) > longest:
                raise WorkspaceError(
                    f"{path}: [screening] {key}: {item!r} is not a reason of 1 to "
                    f"{longest} characters"
                )
    labels = _strings(screening, "suggested_labels", f"{path}: [screening]")
    contact = data.get("contact", {})
    database = data.get("database", {})
    return ReviewConfig(
        title=review["title"],
        question=str(review.get("question", "")),
        inclusion_criteria=_strings(eligibility, "include", f"{path}: [eligibility]"),
        exclusion_criteria=_strings(eligibility, "exclude", f"{path}: [eligibility]"),
        highlight_include=_strings(highlight, "include", f"{path}: [highlight]"),
        highlight_exclude=_strings(highlight, "exclude", f"{path}: [highlight]"),
        exclusion_reasons=reasons or list(DEFAULT_EXCLUSION_REASONS),
        title_abstract_reasons=ta_reasons,
        suggested_labels=labels,
        reviewers_per_record=per_record,
        reviewers=reviewers,
        email=str(contact.get("email", "")) if isinstance(contact, dict) else "",
        database_url=str(database.get("url", "")) if isinstance(database, dict) else "",
    )


def add_reviewer(root: Path, name: str, role: str) -> ReviewConfig:
    """Append a ``[[reviewers]]`` entry to the workspace's review.toml (its comments and layout
    kept) and return the checked settings; the file is unchanged when anything is wrong."""
    path = root / REVIEW_FILE
    if role not in ROLES:
        raise WorkspaceError(f"role must be 'reviewer' or 'adjudicator', not {role!r}")
    clean = name.strip()
    if not clean or len(clean) > 100 or any(ord(c) < 32 for c in clean):
        raise WorkspaceError(f"{name!r} is not a usable reviewer name (1 to 100 characters)")
    config = load_config(path, adding_reviewer=True)
    if any(r.name == clean for r in config.reviewers):
        raise WorkspaceError(f"{path}: reviewer {clean!r} is already listed")
    text = path.read_text(encoding="utf-8")
    entry = f'\n[[reviewers]]\nname = {json.dumps(clean, ensure_ascii=False)}\nrole = "{role}"\n'
    new_text = text.rstrip("\n") + "\n" + entry
    try:
        checked = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        checked = {}
    names = [e.get("name") for e in checked.get("reviewers", []) if isinstance(e, dict)]
    if clean not in names:
        raise WorkspaceError(
            f"{path}: cannot add a [[reviewers]] entry to this file's layout; add it by hand"
        )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    tmp.replace(path)
    return load_config(path, adding_reviewer=True)


def review_toml_template(title: str) -> str:
    reasons = "\n".join(f'    "{r}",' for r in DEFAULT_EXCLUSION_REASONS)
    return f"""# reviewflow review settings. Edit freely; every command reads this file.

[review]
title = {json.dumps(title, ensure_ascii=False)}
question = ""

[eligibility]
# shown to reviewers while screening
include = []
exclude = []

[highlight]
# words highlighted in titles and abstracts while screening (green / red): whole words, any
# case, plurals too ("NSAID" finds "NSAIDs"); end a word with * for any ending ("randomi*")
include = []
exclude = []

[screening]
reviewers_per_record = 2
# reasons offered when a report is excluded at the full-text stage (they feed PRISMA)
fulltext_exclusion_reasons = [
{reasons}
]
# optional reasons offered when a record is excluded at title/abstract (the reviewer may skip
# them; e picks one or none). Empty: e excludes at once. For example:
# title_abstract_exclusion_reasons = ["Wrong population", "Not a primary study"]
title_abstract_exclusion_reasons = []
# labels suggested when a reviewer tags their decision (t in the screening screen); each
# reviewer's own labels are suggested too. A reviewer's labels are theirs only until
# reconciliation. For example: suggested_labels = ["ask the other reviewer", "pediatric"]
suggested_labels = []

[[reviewers]]
name = "reviewer1"
role = "reviewer"

[[reviewers]]
name = "reviewer2"
role = "reviewer"

[[reviewers]]
name = "adjudicator"
role = "adjudicator"

[contact]
# sent to NCBI E-utilities with every request, as NCBI asks
email = ""

[database]
# leave empty for db/reviewflow.sqlite; or postgresql://USER@HOST:PORT/DBNAME for a shared server
url = ""
"""
