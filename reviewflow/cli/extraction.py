"""Extraction commands: ``reviewflow extract`` (the TUI), ``reviewflow studies …`` (reports and
studies), ``reviewflow extraction …`` (discrepancies, agreements, sheet import, checks) and
``reviewflow export extraction``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.cli.export import export
from reviewflow.errors import InputError
from reviewflow.text import plural

if TYPE_CHECKING:
    import pandas as pd

    from reviewflow.extraction.forms import Form, Outcome
    from reviewflow.extraction.studies import StudyInfo

FORM_OPTION = click.option(
    "--form",
    "form_name",
    metavar="NAME",
    help="The form in forms/ (default: the only .toml there).",
)


def _form(app: AppContext, name: str | None) -> Form:
    from reviewflow.extraction.forms import find_form

    return find_form(app.workspace().forms_dir, name)


def _included(app: AppContext) -> list[StudyInfo]:
    """The included studies as they are (reading commands never create studies)."""
    from reviewflow.extraction.studies import list_studies

    return list_studies(app.store(), app.workspace().config.reviewers_per_record)


def _studies(app: AppContext) -> list[StudyInfo]:
    """Sync the included reports into studies, then list the included studies."""
    from reviewflow.extraction.studies import list_studies, sync_studies

    per = app.workspace().config.reviewers_per_record
    sync_studies(app.store(), per)
    return list_studies(app.store(), per)


# -- the TUI ---------------------------------------------------------------------------------
@click.command()
@click.option("--reviewer", required=True, metavar="NAME", help="Who is extracting (review.toml).")
@click.option(
    "--consensus",
    is_flag=True,
    help="Open the discrepancy/consensus view (the adjudicator, or a reviewer with --with).",
)
@click.option(
    "--with",
    "partner",
    metavar="NAME",
    help="With --consensus: the other reviewer, when both set the consensus together.",
)
@FORM_OPTION
@pass_app
def extract(
    app: AppContext, reviewer: str, consensus: bool, partner: str | None, form_name: str | None
) -> None:
    """The extraction screen: the included studies with your progress; a study's form beside
    its report. Values are saved as you enter them; you never see another reviewer's values.
    Mark a study finished with f (list) or Ctrl+F (study); only studies every reviewer has
    finished are compared. With --consensus: every field where the reviewers differ, side by
    side, to settle."""
    from reviewflow.extraction.consensus import adjudicator_label

    app.workspace().config.reviewer(reviewer)  # anyone on the team extracts, the adjudicator too
    if consensus:
        from reviewflow.access.guard import require_lead

        require_lead(app.as_lead(reviewer), "the extraction consensus")
    else:
        app.as_reviewer(reviewer)
    form = _form(app, form_name)
    _studies(app)
    actor = adjudicator_label(app.store(), reviewer, partner) if consensus else reviewer
    if partner and not consensus:
        raise InputError("--with is only for --consensus (setting consensus values together)")
    from reviewflow.tui.extract_app import ExtractApp

    ExtractApp(
        app.store(),
        form,
        reviewer=reviewer,
        reviewers_per_record=app.workspace().config.reviewers_per_record,
        consensus_by=actor if consensus else None,
        review_dir=app.workspace().root,
    ).run()


# -- studies ---------------------------------------------------------------------------------
@click.group()
def studies() -> None:
    """The included studies and their reports (several reports of one study are linked)."""


@studies.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the studies as JSON.")
@pass_app
def studies_list(app: AppContext, as_json: bool) -> None:
    """Each included study with its reports (* = primary report), and studies that came from
    an imported sheet. Reads only: included reports not yet in a study are listed as such
    (extraction gives each one a study, "FirstAuthor Year")."""
    from reviewflow.extraction.export import export_studies
    from reviewflow.extraction.studies import reports_without_study

    per = app.workspace().config.reviewers_per_record
    found = export_studies(app.store(), per)
    waiting = reports_without_study(app.store(), per)
    if as_json:
        echo_json(
            [
                {
                    "id": st.id,
                    "label": st.label,
                    "reports": [
                        {
                            "record_id": r.record_id,
                            "pmid": r.pmid,
                            "primary": r.is_primary,
                            "title": r.title,
                        }  # fmt: skip
                        for r in st.reports
                    ],
                }
                for st in found
            ]
        )
        return
    for st in found:
        click.echo(f"#{st.id}  {st.label}  ({plural(len(st.reports), 'report')})")
        for r in st.reports:
            mark = "*" if r.is_primary else " "
            click.echo(f"   {mark} record {r.record_id}: {r.citation}  {r.title[:70]}")
    if waiting:
        click.echo(f"Not in a study yet ({plural(len(waiting), 'report')}; "
                   "each gets a study of its own when extraction starts):")  # fmt: skip
        for r in waiting:
            click.echo(f"     record {r.record_id}: {r.citation}  {r.title[:70]}")
    click.echo(plural(len(found), "study", "studies"))


@studies.command("merge")
@click.argument("into")
@click.argument("others", nargs=-1, required=True)
@click.option("--by", "actor", default="", help="Who links them (for the audit log).")
@pass_app
def studies_merge(app: AppContext, into: str, others: tuple[str, ...], actor: str) -> None:
    """Link the reports of the studies OTHERS to the study INTO (labels or #ids)."""
    from reviewflow.extraction.studies import merge_studies

    _studies(app)
    merged = merge_studies(app.store(), actor or "cli", into, list(others))
    ids = ", ".join(str(r.record_id) for r in merged.reports)
    click.echo(f"{merged.label}: {plural(len(merged.reports), 'report')} (records {ids})")


@studies.command("split")
@click.argument("record_id", type=int)
@click.option("--label", default=None, help="The new study's label (default: FirstAuthor Year).")
@click.option("--by", "actor", default="", help="Who splits it (for the audit log).")
@pass_app
def studies_split(app: AppContext, record_id: int, label: str | None, actor: str) -> None:
    """Give the report RECORD_ID a study of its own again."""
    from reviewflow.extraction.studies import split_report

    new = split_report(app.store(), actor or "cli", record_id, label)
    click.echo(f"record {record_id} is now study {new.label} (#{new.id})")


@studies.command("rename")
@click.argument("study")
@click.argument("label")
@click.option("--by", "actor", default="", help="Who renames it (for the audit log).")
@pass_app
def studies_rename(app: AppContext, study: str, label: str, actor: str) -> None:
    """Change a study's label (used in exports and forest plots)."""
    from reviewflow.extraction.studies import rename_study

    rename_study(app.store(), actor or "cli", study, label)
    click.echo(f"{study} → {label}")


# -- extraction ------------------------------------------------------------------------------
@click.group("extraction")
def extraction() -> None:
    """Finish or reopen a study's extraction, compare the reviewers' finished extractions,
    accept agreements, import a sheet, check values."""


@extraction.command("discrepancies")
@FORM_OPTION
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"discrepancies": [...], "waiting": [{"study", "waiting_for"}]} as JSON.',
)
@pass_app
def extraction_discrepancies(app: AppContext, form_name: str | None, as_json: bool) -> None:
    """Every field where the reviewers' values differ, side by side, in the studies that enough
    reviewers (reviewers_per_record) have finished; then the included studies still waiting for
    reviewers to finish them (how many, never who nor their values)."""
    from reviewflow.extraction.consensus import compare, waiting_text

    app.as_lead()
    form = _form(app, form_name)
    ids = [st.id for st in _included(app)]
    found = compare(app.store(), form, ids, app.workspace().config.reviewers_per_record)
    differ = [c for sc in found for c in sc.discrepancies]
    waiting = [sc for sc in found if sc.waiting]
    if as_json:
        echo_json(
            {
                "discrepancies": [
                    {
                        "study": c.study,
                        "field": c.key,
                        "values": c.values,
                        "consensus": c.consensus,
                    }  # fmt: skip
                    for c in differ
                ],
                "waiting": [{"study": sc.study, "waiting_for": sc.waiting} for sc in waiting],
            }
        )
        return
    for c in differ:
        side = "  |  ".join(f"{who}: {v or '—'}" for who, v in c.values.items())
        settled = f"  → consensus {c.consensus!r}" if c.consensus is not None else ""
        click.echo(f"{c.study}  {c.key}:  {side}{settled}")
    for sc in waiting:
        click.echo(f"{sc.study}  {waiting_text(sc.waiting)}")
    open_ = sum(1 for c in differ if c.consensus is None)
    click.echo(
        f"{plural(len(differ), 'discrepancy', 'discrepancies')} ({open_} without a consensus "
        f"value); {len(waiting)} of {plural(len(found), 'study', 'studies')} waiting for "
        "reviewers to finish"
    )


def _finish_or_reopen(app: AppContext, ref: str, reviewer: str, form_name: str | None,
                      reopening: bool) -> None:  # fmt: skip
    from reviewflow.extraction.studies import find_study
    from reviewflow.extraction.values import mark_finished, reopen

    app.workspace().config.reviewer(reviewer)
    app.as_reviewer(reviewer)
    form = None if reopening else _form(app, form_name)
    _studies(app)
    with app.store().read() as s:
        study = find_study(s, ref)
        assert study.id is not None
        sid, label = study.id, study.label
    if reopening:
        done = reopen(app.store(), reviewer, sid)
        click.echo(f"{label}: reopened for {reviewer}" if done else
                   f"{label}: {reviewer} had not finished it; nothing to reopen")  # fmt: skip
    else:
        assert form is not None
        done = mark_finished(app.store(), reviewer, form, sid)
        click.echo(f"{label}: finished by {reviewer}" if done else
                   f"{label}: {reviewer} had already finished it")  # fmt: skip


STUDY_ARGUMENT = click.argument("study", metavar="STUDY")
REVIEWER_OPTION = click.option(
    "--reviewer", required=True, metavar="NAME", help="The reviewer (review.toml)."
)


@extraction.command("finish")
@STUDY_ARGUMENT
@REVIEWER_OPTION
@click.option("--reopen", "reopening", is_flag=True, help="Reopen it instead (as 'reopen').")
@FORM_OPTION
@pass_app
def extraction_finish(
    app: AppContext, study: str, reviewer: str, reopening: bool, form_name: str | None
) -> None:
    """Mark STUDY (its label, or #id) as finished by the reviewer: their values are compared
    once every reviewer has finished it. Refused, naming the fields, while a required field is
    empty or a value is invalid. Editing a value later keeps the study finished."""
    _finish_or_reopen(app, study, reviewer, form_name, reopening)


@extraction.command("reopen")
@STUDY_ARGUMENT
@REVIEWER_OPTION
@pass_app
def extraction_reopen(app: AppContext, study: str, reviewer: str) -> None:
    """Take back the reviewer's "finished" on STUDY (its label, or #id): the study is not
    compared again until they finish it once more. Consensus values already set stay."""
    _finish_or_reopen(app, study, reviewer, None, True)


@extraction.command("progress")
@REVIEWER_OPTION
@FORM_OPTION
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print [{"study", "filled", "fields", "required_missing", "problems", "finished"}].',
)
@pass_app
def extraction_progress(
    app: AppContext, reviewer: str, form_name: str | None, as_json: bool
) -> None:
    """The reviewer's own progress on each included study: fields filled, required fields
    still empty, invalid values, finished or not. Only their own values and status are read."""
    from reviewflow.extraction.values import my_finished, my_progress

    app.workspace().config.reviewer(reviewer)
    app.as_reviewer(reviewer)
    form = _form(app, form_name)
    included = _studies(app)
    ids = [st.id for st in included]
    progress = my_progress(app.store(), reviewer, form, ids)
    finished = my_finished(app.store(), reviewer, ids)
    rows = [
        {
            "study": st.label,
            "filled": progress[st.id].filled,
            "fields": progress[st.id].total,
            "required_missing": progress[st.id].required_missing,
            "problems": progress[st.id].problems,
            "finished": st.id in finished,
        }
        for st in included
    ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        state = "finished" if r["finished"] else "not started" if not r["filled"] else "open"
        notes = [f"{r['required_missing']} required empty"] if r["required_missing"] else []
        notes += [f"{r['problems']} invalid"] if r["problems"] else []
        more = f" ({', '.join(notes)})" if notes and not r["finished"] else ""
        click.echo(f"{r['study']}  {r['filled']}/{r['fields']} fields  {state}{more}")
    done = sum(1 for r in rows if r["finished"])
    click.echo(f"{reviewer}: {done} of {len(rows)} included studies finished")


@extraction.command("agree")
@FORM_OPTION
@click.option(
    "--by", "actor", default="agreement", show_default=True, help="Recorded as decided_by."
)
@pass_app
def extraction_agree(app: AppContext, form_name: str | None, actor: str) -> None:
    """Make every field where all reviewers gave the same value a consensus value
    (source 'agreed', audited). Fields that already have a consensus are left alone."""
    from reviewflow.extraction.consensus import accept_agreements

    per = app.workspace().config.reviewers_per_record
    added = accept_agreements(app.as_lead(), _form(app, form_name), actor, required=per)
    click.echo(f"{plural(added, 'field')} where the reviewers agree became consensus values")


@extraction.command("import")
@click.argument("sheet", type=click.Path(dir_okay=False, path_type=Path))
@FORM_OPTION
@click.option(
    "--create-studies",
    is_flag=True,
    help="Create studies (without reports) for labels the review does not have yet.",
)
@click.option("--by", "actor", default="import", show_default=True, help="Recorded as decided_by.")
@pass_app
def extraction_import(
    app: AppContext, sheet: Path, form_name: str | None, create_studies: bool, actor: str
) -> None:
    """Import an extraction sheet (CSV: a 'study' column and the form's fields, named as in
    'export extraction') as consensus values. One transaction: a bad value names the row and
    column and nothing is imported."""
    from reviewflow.extraction.sheet_import import import_sheet

    form = _form(app, form_name)
    _studies(app)
    result = import_sheet(app.store(), form, sheet, actor, create_studies=create_studies)
    made = len(result.created_studies)
    created = f"; {plural(made, 'study', 'studies')} created" if made else ""
    click.echo(
        f"{sheet}: {plural(result.values, 'value')} for "
        f"{plural(result.studies, 'study', 'studies')} imported{created}"
    )


@extraction.command("check")
@click.option(
    "--reviewer", metavar="NAME", help="Check this reviewer's values (default: consensus)."
)
@FORM_OPTION
@pass_app
def extraction_check(app: AppContext, reviewer: str | None, form_name: str | None) -> None:
    """List problems (invalid values, events > total, required fields left empty) in the
    consensus values, or in one reviewer's own values. Exits 1 when there are any."""
    from reviewflow.extraction.consensus import consensus_values
    from reviewflow.extraction.export import export_studies
    from reviewflow.extraction.validate import check_study
    from reviewflow.extraction.values import my_values

    form = _form(app, form_name)
    found = export_studies(app.store(), app.workspace().config.reviewers_per_record)
    if reviewer:
        app.workspace().config.reviewer(reviewer)
        per_study = {st.id: my_values(app.as_reviewer(reviewer), reviewer, st.id) for st in found}
    else:
        rows = consensus_values(app.store(), [st.id for st in found])
        per_study = {st.id: {k: r.value for k, r in rows.get(st.id, {}).items()} for st in found}
    count = 0
    for st in found:
        for p in check_study(form, per_study[st.id], complete=True):
            click.echo(f"{st.label}: {p.message}")
            count += 1
    click.echo(f"{plural(count, 'problem')} in {plural(len(found), 'study', 'studies')}")
    if count:
        raise SystemExit(1)


# -- export ----------------------------------------------------------------------------------
@export.command("extraction")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default="csv",
    show_default=True,
    help="CSV or an Excel workbook.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write.",
)
@click.option("--long", "long_", is_flag=True, help="One row per value (study, field, value, …).")
@FORM_OPTION
@pass_app
def export_extraction(
    app: AppContext, fmt: str, out: Path, long_: bool, form_name: str | None
) -> None:
    """The consensus extraction: one row per study (study, reports, country, …,
    outcome.mortality.events, outcome.mortality.total, …), or one row per value with --long."""
    from reviewflow.extraction.export import extraction_frame, write_extraction

    form = _form(app, form_name)
    _studies(app)
    frame = extraction_frame(
        app.store(), form, app.workspace().config.reviewers_per_record, long=long_
    )
    write_extraction(frame, out, fmt)
    what = "values" if long_ else "studies"
    click.echo(f"{out}: {len(frame)} {what} ({fmt})")


# -- hand-off to pooling (reviewflow pool --outcome NAME) -------------------------------------
def outcome_study_table(
    outcome: str,
    form_name: str | None = None,
    subgroup: str | None = None,
    moderators: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, str, Outcome]:
    """The workspace's consensus extraction of one outcome as a pooling table (study, then
    the outcome's parts — events, total; mean, sd, n; or the two groups' events1 … n2 —
    [subgroup], [moderators]), a name for messages, and the outcome as the form defines it.
    Studies without the outcome are left out (said on stderr)."""
    from reviewflow.extraction.export import outcome_gaps, outcome_table

    ctx = click.get_current_context()
    app = ctx.find_object(AppContext)
    if app is None:  # pragma: no cover - the group always sets it
        raise InputError("pool --outcome needs the reviewflow command group")
    form = _form(app, form_name)
    spec = form.outcome(outcome)
    _studies(app)
    rpr = app.workspace().config.reviewers_per_record
    table, skipped = outcome_table(app.store(), form, outcome, rpr, subgroup, moderators)
    source = f"consensus extraction, outcome {outcome!r}"
    parts = "/".join(spec.parts())
    if skipped:  # as the report: still being extracted, or settled without the outcome
        pending, missing = outcome_gaps(app.store(), form, outcome, rpr)
        for kind, labels in (("without", missing), ("pending extraction of", pending)):
            if labels:
                click.echo(
                    f"{plural(len(labels), 'study', 'studies')} {kind} {parts} for {outcome} "
                    f"left out: {', '.join(labels)}",
                    err=True,
                )
    if table.empty:
        what = "both events and total" if parts == "events/total" else f"all of {parts}"
        raise InputError(f"{source}: no study has {what} yet")
    return table, source, spec


COMMANDS = [extract, studies, extraction]
