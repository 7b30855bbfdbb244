"""Saved search strategies: one TOML file each in ``queries/``::

    name = "rescue_stenting"
    database = "pubmed"
    query = '''("Thrombectomy"[Mesh] OR thrombectom*[tiab]) AND …'''
    mindate = "2010"        # optional: YYYY, YYYY/MM or YYYY/MM/DD
    maxdate = "2025/06/30"  # optional
    datetype = "pdat"       # optional: pdat (publication date, default), edat, mdat
    notes = "why the strategy looks the way it does"

``reviewflow search`` runs a PubMed one (:func:`load_query`). A strategy for another database
(``database = "Embase"``) is the record of a search run there, given to ``reviewflow import
--strategy`` with that database's export (:func:`load_strategy`), so that the PRISMA-S log holds
the full strategy of every database.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

from reviewflow.acquire.entrez.slicing import parse_bound
from reviewflow.errors import InputError

DATETYPES = ("pdat", "edat", "mdat", "crdt")


@dataclass(frozen=True)
class SavedQuery:
    """A saved search strategy (one TOML file in ``queries/``)."""

    name: str
    query: str
    database: str = "pubmed"
    mindate: str = ""
    maxdate: str = ""
    datetype: str = "pdat"
    notes: str = ""


def load_query(path: Path) -> SavedQuery:
    """Read and check a saved PubMed strategy; every error names the file and the key."""
    saved = load_strategy(path)
    if saved.database.lower() != "pubmed":
        raise InputError(
            f"{path}: database {saved.database!r} cannot be searched by reviewflow "
            "(only 'pubmed'); import that database's export with 'reviewflow import FILE "
            f"--strategy {path}'"
        )
    return dataclasses.replace(saved, database="pubmed")


def load_strategy(path: Path) -> SavedQuery:
    """Read and check a saved strategy for any database (``database`` kept as written, PubMed
    when absent): what ``search`` runs, or what was run on a database whose export is imported.
    Every error names the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    known = {"name", "database", "query", "mindate", "maxdate", "datetype", "notes"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    values: dict[str, str] = {}
    for key in known:
        value = data.get(key, "")
        if isinstance(value, int) and key in ("mindate", "maxdate"):
            value = str(value)  # mindate = 2010
        if not isinstance(value, str):
            raise InputError(f"{path}: '{key}' must be a string")
        values[key] = value.strip()
    if not values["query"]:
        raise InputError(f"{path}: 'query' is missing or empty")
    database = values["database"] or "pubmed"
    datetype = (values["datetype"] or "pdat").lower()
    if datetype not in DATETYPES:
        raise InputError(f"{path}: datetype {datetype!r} is not one of {', '.join(DATETYPES)}")
    for key in ("mindate", "maxdate"):
        if values[key]:
            try:
                parse_bound(values[key], end=key == "maxdate")
            except ValueError:
                raise InputError(
                    f"{path}: {key} {values[key]!r} is not a date (YYYY, YYYY/MM or YYYY/MM/DD)"
                ) from None
    if values["mindate"] and values["maxdate"]:
        lo = parse_bound(values["mindate"], end=False)
        if lo > parse_bound(values["maxdate"], end=True):
            raise InputError(
                f"{path}: mindate {values['mindate']} is after maxdate {values['maxdate']}"
            )
    return SavedQuery(
        name=values["name"] or path.stem,
        query=" ".join(values["query"].split()),
        database=database,
        mindate=values["mindate"].replace("-", "/"),
        maxdate=values["maxdate"].replace("-", "/"),
        datetype=datetype,
        notes=values["notes"],
    )
