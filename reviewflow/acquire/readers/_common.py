"""Small helpers the readers share: names, DOIs, years, decoding, the error message shape."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from reviewflow.errors import InputError

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_INITIALS = re.compile(r"^[A-Z][A-Z\-]{0,4}$")
_PARTICLES = frozenset(
    [
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "dos",
        "das",
        "le",
        "la",
        "ten",
        "ter",
        "vom",
        "zu",
        "bin",
        "al",
        "el",
        "st",
    ]
)


_ORGANISATION = frozenset(
    [
        "group",
        "network",
        "consortium",
        "collaboration",
        "collaborative",
        "committee",
        "investigators",
        "society",
        "association",
        "trial",
        "trials",
        "study",
        "council",
        "institute",
        "organization",
        "organisation",
        "working",
        "task",
        "force",
        "team",
        "centre",
        "center",
        "foundation",
        "of",
        "for",
        "and",
        "the",
        "on",
    ]
)


def fail(path: Path | str, where: str, problem: str) -> InputError:
    """The error a reader raises: ``refs.ris: record 3 (line 41): missing ER line``."""
    name = Path(path).name
    place = f"{where}: " if where else ""
    return InputError(f"{name}: {place}{one_line(problem)}")


def one_line(text: str) -> str:
    return _SPACES.sub(" ", str(text)).strip()


def year_of(text: str | None) -> int | None:
    """The first plausible four-digit year in ``text`` (``"2015 Oct-Dec"`` → 2015)."""
    if not text:
        return None
    match = _YEAR.search(str(text))
    return int(match.group(1)) if match else None


def clean_doi(text: str | None) -> str:
    """A bare DOI (``10.1/x``) from a DOI, a doi.org URL or ``doi:`` form; "" if none."""
    if not text:
        return ""
    value = _DOI_PREFIX.sub("", str(text).strip())
    match = _DOI.search(value)
    if not match:
        return ""
    return match.group(0).rstrip(".,;")


def set_doi(record: Any, given: str | None) -> None:
    """``record.doi`` from ``given``; a DOI field that holds no DOI is kept, as given, in
    ``record.extra["doi_as_given"]`` (the import warns about it)."""
    record.doi = clean_doi(given)
    if record.doi:
        record.extra.pop("doi_as_given", None)
    elif given and given.strip():
        record.extra["doi_as_given"] = one_line(given)


def initials_of(given: str) -> str:
    """``"John Adam"`` → ``"JA"``; ``"Jean-Pierre"`` → ``"JP"``; ``"J.A."`` → ``"JA"``."""
    letters = []
    for part in re.split(r"[\s.\-]+", given.strip()):
        if not part:
            continue
        if part.isupper() and len(part) <= 3 and part.isalpha():
            letters.append(part)  # already initials ("JA")
        else:
            letters.append(part[0].upper())
    return "".join(letters)


def display_name(last: str, given: str = "", initials: str = "") -> str:
    """``Smith`` + ``John A`` → ``"Smith JA"`` (the form PubMed prints)."""
    last = one_line(last)
    inits = one_line(initials).replace(" ", "").replace(".", "") or initials_of(given)
    return f"{last} {inits}".strip()


def author_name(raw: str) -> str:
    """Any common way of writing a person's name, as ``"Last Initials"``.

    ``"Smith, John A."`` / ``"Smith, J.A."`` / ``"Smith JA"`` / ``"John A Smith"`` /
    ``"E J Reimer"`` all give ``"Smith JA"`` or ``"Reimer EJ"``. A name that is neither
    (an organisation) comes back with its spacing tidied.
    """
    name = one_line(raw).strip(" ;,")
    if not name:
        return ""
    if "," in name:
        last, _, given = name.partition(",")
        given = given.strip()
        if not given:
            return last.strip()
        # "Smith, J.A., Jr." → drop the suffix after a second comma
        given = given.split(",")[0]
        return display_name(last, given)
    parts = name.split(" ")
    if len(parts) == 1:
        return name
    if len(parts) > 5 or any(p.lower().strip(".,()") in _ORGANISATION for p in parts):
        return name  # an organisation, not a person
    tail = parts[-1].replace(".", "")
    if _INITIALS.match(tail) and len(parts) >= 2 and not parts[0].replace(".", "").isupper():
        return f"{' '.join(parts[:-1])} {tail}"  # already "Smith JA" / "van der Berg J"
    # "E J Reimer", "John A. Smith", "J van der Berg": surname starts at the first particle
    # or is the last word
    start = len(parts) - 1
    for i, part in enumerate(parts[1:], start=1):
        if part.lower() in _PARTICLES:
            start = i
            break
    return display_name(" ".join(parts[start:]), " ".join(parts[:start]))


_ET_AL = re.compile(r"^\s*(?:et\.?\s*al\.?|others)\s*$", re.IGNORECASE)


def split_authors(value: str) -> list[str]:
    """One cell of authors → names: ``;``-, `` and ``- or comma-separated ``Last Initials``."""
    value = value.strip()
    if not value:
        return []
    if ";" in value:
        pieces = value.split(";")
    elif " and " in value:
        pieces = value.split(" and ")
    elif "," in value:
        pieces = [p for p in value.rstrip(".").split(",")]
        # "Smith J, Jones KL" (PubMed's CSV) versus one "Smith, John"
        if not all(len(p.split()) >= 2 and _INITIALS.match(p.split()[-1]) for p in pieces):
            pieces = [value]
    else:
        pieces = [value]
    # a truncated list ends in "et al." (or BibTeX's "and others"): not an author
    return [n for n in (author_name(p) for p in pieces if not _ET_AL.match(p)) if n]


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)  # fmt: skip


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``data`` names (UTF-8, -16, -32)."""
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte of the start is NUL (ASCII as UTF-16)."""
    head = data[:400]
    if len(head) < 8:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 0.9 * len(head[1::2]) and even == 0:
        return "utf-16-le"
    if even > 0.9 * len(head[0::2]) and odd == 0:
        return "utf-16-be"
    return None


def decode(data: bytes, path: Path | str, encoding: str = "utf-8-sig") -> str:
    """Bytes → text, or an error naming the line where decoding failed. A byte-order mark
    decides the encoding unless another than UTF-8/16/32 was asked for."""
    marked = bom_encoding(data)
    if marked and encoding.lower().replace("_", "-").startswith(
        ("utf-8", "utf8", "utf-16", "utf-32")
    ):
        encoding = marked
    wide = None if marked or "16" in encoding else _utf16_without_bom(data)
    if wide:
        raise fail(path, "", f"{wide.upper()} text without a byte-order mark: "
                   f"give --encoding {wide}")  # fmt: skip
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise fail(
            path,
            f"line {line}",
            f"not valid {encoding.replace('-sig', '')} text (byte 0x{data[exc.start]:02x}); "
            "give the file's encoding, e.g. --encoding latin-1",
        ) from None
    except LookupError:
        raise fail(path, "", f"unknown encoding {encoding!r}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise fail(path, f"line {line}", "contains a NUL byte: a binary file, or UTF-16 text")
    return text.lstrip("\ufeff")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex (how a re-import of the same file is noticed)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)  # hashlib lets other threads run meanwhile
    return digest.hexdigest()
