"""``reviewflow dedup``: on the review, or standalone on a file (no workspace needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from reviewflow.cells import safe_cell
from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.dedup.classify import CONFERENCE_RULES, DedupSettings
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.records import RecordData
from reviewflow.text import plural

PAIR_COLUMNS = (
    "record_id_a", "record_id_b", "score", "reason", "title", "authors", "year_gap", "journal",
    "volume", "issue", "pages", "doi", "pmid", "abstract",
)  # fmt: skip


def read_records(path: Path, id_column: str | None, file_format: str | None) -> list[RecordData]:
    """Records of ``path`` with their identifiers in ``source_key``; every identifier present
    and unique, or an error naming the line."""
    from reviewflow.acquire.readers import detect_format, read_file

    kind = file_format or detect_format(path)
    mapping = {"source_key": id_column} if id_column and kind in ("csv", "tsv") else None
    records = read_file(path, kind, mapping=mapping)
    if not mapping:
        keys = [r.source_key.strip() for r in records]
        if len(set(keys)) < len(keys) or not all(keys):
            # RIS IDs and the like need not be unique: number the records instead
            click.echo(
                f"note: {path.name}: record identifiers repeat or are missing; "
                "record_id is the record's number in the file",
                err=True,
            )
            for number, record in enumerate(records, start=1):
                record.source_key = str(number)
    seen: dict[str, int] = {}
    for number, record in enumerate(records, start=1):
        where = f"line {record.extra.get('line')}" if "line" in record.extra else f"record {number}"
        key = record.source_key.strip()
        if id_column and mapping and not key:
            raise InputError(f"{path.name}: {where}: empty {id_column!r}")
        key = key or str(number)
        if key in seen:
            raise InputError(f"{path.name}: {where}: identifier {key!r} repeats record {seen[key]}")
        seen[key] = number
        record.source_key = key
    return records


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def standalone(
    path: Path,
    id_column: str | None,
    out: Path,
    maybe_out: Path | None,
    file_format: str | None,
    settings: DedupSettings,
) -> dict[str, int]:
    from reviewflow.dedup.pipeline import deduplicate

    records = read_records(path, id_column, file_format)
    result = deduplicate(records, settings)
    ids = [r.source_key for r in records]
    try:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "group_id"])
            group_id = {i: ids[group[0]] for group in result.groups for i in group}
            for i, rid in enumerate(ids):
                writer.writerow([safe_cell(rid), safe_cell(group_id[i])])
        if maybe_out is not None:
            with maybe_out.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(PAIR_COLUMNS)
                for p in result.maybe:
                    s = p.scores
                    writer.writerow(
                        [safe_cell(ids[p.a]), safe_cell(ids[p.b]), _fmt(p.score), p.reason]
                        + [_fmt(s.get(name)) for name in PAIR_COLUMNS[4:]]
                    )
    except OSError as exc:
        raise ReviewflowError(f"cannot write {exc.filename}: {exc.strerror}") from None
    return {
        "records": len(records),
        "groups": len(result.groups),
        "duplicates_removed": result.duplicates_removed,
        "maybe_pairs": len(result.maybe),
        "pairs_scored": result.pairs_scored,
    }


@click.command()
@click.argument("input_file", metavar="[INPUT]", required=False, type=click.Path(path_type=Path))
@click.option("--id-column", metavar="COL", help="Standalone: the CSV column naming each record.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path),
    help="Standalone: write record_id,group_id for every record here.",
)  # fmt: skip
@click.option(
    "--maybe-out", type=click.Path(dir_okay=False, path_type=Path),
    help="Standalone: write the uncertain pairs (not merged) with their scores here.",
)  # fmt: skip
@click.option(
    "--format", "file_format", type=click.Choice(["pubmed-xml", "medline", "ris", "csv", "tsv"]),
    help="Standalone: the input format (default: detected).",
)  # fmt: skip
@click.option(
    "--conference-vs-article", type=click.Choice(CONFERENCE_RULES), default="distinct",
    show_default=True, help="A conference abstract against a journal article: never merge, "
    "ask a person, or compare like any pair.",
)  # fmt: skip
@click.option(
    "--undo", "undo_group", type=int, metavar="GROUP", help="Split duplicate group GROUP again."
)
@click.option(
    "--review", "review_queue", is_flag=True, help="Open the manual queue of uncertain pairs."
)
@click.option("--reviewer", "--by", "actor", default="system", show_default=True,
              help="Who runs this (recorded in the audit log).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def dedup(
    app: AppContext,
    input_file: Path | None,
    id_column: str | None,
    out: Path | None,
    maybe_out: Path | None,
    file_format: str | None,
    conference_vs_article: str,
    undo_group: int | None,
    review_queue: bool,
    actor: str,
    as_json: bool,
) -> None:
    """Find duplicate records.

    \b
    On the review:   reviewflow dedup            (links duplicates; nothing is deleted)
                     reviewflow dedup --review --reviewer NAME   (decide uncertain pairs)
                     reviewflow dedup --undo GROUP                (split a group again)
    Standalone:      reviewflow dedup refs.csv --id-column ID --out groups.csv [--maybe-out pairs.csv]
    """
    settings = DedupSettings(conference_vs_article=conference_vs_article)
    if input_file is not None:
        if out is None:
            raise ReviewflowError("standalone dedup needs --out FILE for the groups")
        summary = standalone(input_file, id_column, out, maybe_out, file_format, settings)
        if as_json:
            echo_json(summary)
        else:
            click.echo(
                f"{plural(summary['records'], 'record')}: "
                f"{plural(summary['duplicates_removed'], 'duplicate')} in "
                f"{plural(summary['groups'], 'group')} written to {out}; "
                f"{plural(summary['maybe_pairs'], 'pair')} "
                "to check by hand" + (f" in {maybe_out}" if maybe_out else "")
            )
        return
    if out or maybe_out or id_column:
        raise ReviewflowError("--out, --maybe-out and --id-column need an INPUT file")
    from reviewflow.dedup import review

    if actor != "system":  # the audit log names only people review.toml lists, signed in
        app.workspace().config.reviewer(actor)
    store = app.as_reviewer(actor) if actor != "system" else app.store()
    if undo_group is not None:
        released = review.undo_group(store, undo_group, actor)
        click.echo(f"Group {undo_group} split: {plural(released, 'record')} no longer duplicates")
        return
    if review_queue:
        if actor == "system":
            raise ReviewflowError("the manual queue needs --reviewer NAME (for the audit log)")
        from reviewflow.tui.dedup_queue import DedupQueueApp

        DedupQueueApp(store, actor).run()
        return
    result = review.run(store, actor, settings)
    if as_json:
        echo_json(result.__dict__)
        return
    click.echo(
        f"{plural(result.records, 'record')}: {plural(result.links_added, 'new duplicate')} "
        f"linked ({plural(result.groups_added, 'new group')}); "
        f"{plural(result.duplicates_removed, 'duplicate')} removed in all; "
        f"{plural(result.maybe_open, 'pair')} to check by hand ({result.maybe_added} new)"
    )
    if result.maybe_open:
        click.echo("Next: reviewflow dedup --review --reviewer NAME")


COMMANDS = [dedup]
