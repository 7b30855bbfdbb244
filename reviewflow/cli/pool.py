"""``reviewflow pool``: meta-analysis of proportions from a study table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewflow.cli.common import echo_json
from reviewflow.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from reviewflow.pooling.analysis import LeaveOneOutRow, PooledResult, SubgroupResult

_FOREST_SUFFIXES = (".svg", ".png", ".pdf")


@click.command("pool")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--events", metavar="COL", help="Column with the number of events.")
@click.option("--total", metavar="COL", help="Column with the number of patients.")
@click.option(
    "--study",
    metavar="COL",
    help="Column with the study label (default: 'study' if present, else Study 1, 2, …).",
)
@click.option(
    "--measure",
    type=click.Choice(["PLO", "PFT", "PAS", "PR", "PLN"], case_sensitive=False),
    default="PLO",
    show_default=True,
    help="Scale for pooling (metafor's names): logit, Freeman–Tukey, arcsine, raw, log.",
)
@click.option(
    "--method",
    type=click.Choice(["REML", "DL", "PM", "ML", "EE", "GLMM"], case_sensitive=False),
    default="REML",
    show_default=True,
    help="tau² estimator, EE for a common-effect model, or GLMM (binomial-normal).",
)
@click.option(
    "--knha", is_flag=True, help="Knapp–Hartung adjustment (t with k−1 df; for the GLMM: t test)."
)
@click.option(
    "--subgroup",
    metavar="COL",
    help="Pool each subgroup separately and test for subgroup differences.",
)
@click.option(
    "--leave-one-out", "leave_one_out", is_flag=True, help="Also pool without each study in turn."
)
@click.option(
    "--study-ci",
    type=click.Choice(["clopper-pearson", "wilson"]),
    default="clopper-pearson",
    show_default=True,
    help="Confidence interval of each study's proportion.",
)
@click.option(
    "--outcome",
    metavar="NAME",
    help="Pool this outcome of the review's consensus extraction instead of a FILE.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--forest",
    metavar="OUT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a forest plot (.svg, .png or .pdf).",
)
@click.option("--title", help="Title above the forest plot.")
def pool_command(
    file: Path | None,
    events: str | None,
    total: str | None,
    study: str | None,
    measure: str,
    method: str,
    knha: bool,
    subgroup: str | None,
    leave_one_out: bool,
    study_ci: str,
    outcome: str | None,
    as_json: bool,
    forest: Path | None,
    title: str | None,
) -> None:
    """Pool proportions (events/total per study) as R's metafor does: study CIs, pooled
    estimate with 95% CI and prediction interval, tau², I², Q, on the proportion scale.

    Example: reviewflow pool studies.csv --events deaths --total n --study author

    In a review: reviewflow pool --outcome mortality (the consensus extraction's events/total).
    """
    from reviewflow.pooling import analysis

    if forest is not None and forest.suffix.lower() not in _FOREST_SUFFIXES:
        raise InputError(f"{forest}: the forest plot must be .svg, .png or .pdf")
    if outcome is not None:
        if file is not None:
            raise InputError("pool: give either FILE or --outcome, not both")
        from reviewflow.cli.extraction import outcome_study_table

        table, source = outcome_study_table(outcome, subgroup)
    elif file is None:
        raise InputError(
            "pool: give the study table FILE.csv (with --events and --total), or --outcome NAME"
        )
    else:
        table, source = _read_file(file, events, total, study, subgroup), str(file)
    grouped = None
    if subgroup is not None:
        grouped = analysis.pool_subgroups(
            table,
            measure=measure,
            method=method,
            knha=knha,
            study_interval=study_ci,
            source=source,
        )
        result = grouped.overall
    else:
        result = analysis.pool(
            table,
            measure=measure,
            method=method,
            knha=knha,
            study_interval=study_ci,
            source=source,
        )
    loo = (
        analysis.leave_one_out(table, measure=measure, method=method, knha=knha, source=source)
        if leave_one_out
        else None
    )
    if forest is not None:
        from reviewflow.pooling.forest import forest_plot

        forest_plot(grouped if grouped is not None else result, forest, title=title)

    if as_json:
        data = grouped.to_dict() if grouped is not None else result.to_dict()
        if loo is not None:
            data["leave_one_out"] = [row.__dict__ for row in loo]
        echo_json(data)
        return
    _print_text(result, grouped, loo, forest)


def _read_file(
    file: Path,
    events: str | None,
    total: str | None,
    study: str | None,
    subgroup: str | None,
) -> pd.DataFrame:
    from reviewflow.pooling.table import read_study_table

    missing = [name for name, value in (("--events", events), ("--total", total)) if not value]
    if missing:
        raise InputError(
            f"pool: {file}: say which columns hold the counts ({' and '.join(missing)})"
        )
    assert events is not None and total is not None
    study_column = study
    if study_column is None:
        import pandas as pd

        try:
            header = [str(c) for c in pd.read_csv(file, nrows=0, encoding="utf-8-sig").columns]
        except Exception:  # read_study_table reports the real problem below
            header = []
        study_column = "study" if "study" in header else None
    return read_study_table(file, events, total, study_column, subgroup)


def _print_text(
    result: PooledResult,
    grouped: SubgroupResult | None,
    loo: list[LeaveOneOutRow] | None,
    forest: Path | None,
) -> None:
    from reviewflow.pooling.format import (
        format_heterogeneity,
        format_proportion,
        format_result,
        format_subgroups,
        percent_decimals,
    )

    width = max(len(s.study) for s in result.studies)
    d = percent_decimals(result.estimate)
    click.echo(f"{'study':<{width}}  {'events/total':>12}  {'proportion (95% CI)':<28}  weight")
    for s in result.studies:
        text = format_proportion(s.proportion, s.ci_lower, s.ci_upper, result.level, d)
        click.echo(
            f"{s.study:<{width}}  {f'{s.events}/{s.total}':>12}  "
            f"{text.replace('95% CI ', ''):<28}  {s.weight:5.1f}%"
        )
    model = {"EE": "common-effect"}.get(result.method, f"random-effects ({result.method})")
    if result.method == "GLMM":
        model = "GLMM (binomial-normal, ML, 7-point adaptive Gauss-Hermite)"
    test = {"knha": ", Knapp-Hartung", "t": ", t test"}.get(result.test, "")
    click.echo(
        f"\nPooled, {model}, {result.measure} scale{test}, k = {result.k}, "
        f"{sum(s.total for s in result.studies)} patients:"
    )
    click.echo(f"  {format_result(result)}")
    click.echo(f"  Heterogeneity: {format_heterogeneity(result)}")
    if grouped is not None:
        click.echo("\nSubgroups (separate models, own τ² each):")
        for line in format_subgroups(grouped):
            click.echo(f"  {line}")
    if loo is not None:
        click.echo("\nLeave one out:")
        for row in loo:
            text = format_proportion(row.estimate, row.ci_lower, row.ci_upper, result.level, d)
            click.echo(f"  without {row.omitted}: {text}, I² = {row.i2:.0f}%")
    if forest is not None:
        click.echo(f"\nForest plot: {forest}")


COMMANDS = [pool_command]
