"""``reviewflow pool``: meta-analysis of a study table (or of the review's extraction)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reviewflow.cli.common import echo_json
from reviewflow.errors import InputError

_PLOT_SUFFIXES = (".svg", ".png", ".pdf")
_MEASURES = ["PLO", "PFT", "PAS", "PR", "PLN", "OR", "RR", "RD", "PETO", "MD", "SMD", "ROM",
             "MN", "MNLN", "GEN"]  # fmt: skip
_METHODS = ["REML", "DL", "PM", "ML", "EE", "GLMM", "MH", "PETO"]
# (option, role, help): the columns of each data type
_ROLES = [
    ("--events", "events", "Proportions: events per study."),
    ("--total", "total", "Proportions: patients per study."),
    ("--events1", "events1", "Two groups, binary: events in group 1 (experimental)."),
    ("--total1", "total1", "Two groups, binary: patients in group 1."),
    ("--events2", "events2", "Two groups, binary: events in group 2 (control)."),
    ("--total2", "total2", "Two groups, binary: patients in group 2."),
    ("--mean1", "mean1", "Two groups, continuous: mean in group 1."),
    ("--sd1", "sd1", "Two groups, continuous: SD in group 1."),
    ("--n1", "n1", "Two groups, continuous: patients in group 1."),
    ("--mean2", "mean2", "Two groups, continuous: mean in group 2."),
    ("--sd2", "sd2", "Two groups, continuous: SD in group 2."),
    ("--n2", "n2", "Two groups, continuous: patients in group 2."),
    ("--mean", "mean", "One group: mean per study."),
    ("--sd", "sd", "One group: SD per study."),
    ("--n", "n", "One group: patients per study."),
    ("--yi", "yi", "Generic: the estimate on the model scale (log OR, MD, …)."),
    ("--vi", "vi", "Generic: its sampling variance."),
    ("--sei", "sei", "Generic: its standard error (instead of --vi)."),
    ("--estimate", "estimate", "Generic: the estimate as printed (with --ci-lower/--ci-upper)."),
    ("--ci-lower", "ci_lower", "Generic: the lower bound of its 95% CI."),
    ("--ci-upper", "ci_upper", "Generic: the upper bound of its 95% CI."),
]


def _role_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option, role, text in reversed(_ROLES):
        func = click.option(option, role, metavar="COL", help=text)(func)
    return func


@click.command("pool")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_role_options
@click.option(
    "--study",
    metavar="COL",
    help="Column with the study label (default: 'study' if present, else Study 1, 2, …).",
)
@click.option(
    "--measure",
    type=click.Choice(_MEASURES, case_sensitive=False),
    help="Effect measure (metafor's names); default by the columns: PLO for proportions, RR "
    "for two-group binary, MD for two-group continuous, MN for means, GEN for --yi.",
)
@click.option(
    "--method",
    type=click.Choice(_METHODS, case_sensitive=False),
    help="tau² estimator (default REML), EE for a common-effect model, MH (Mantel–Haenszel, "
    "OR/RR/RD), GLMM (proportions, binomial-normal); PETO goes with --measure PETO.",
)
@click.option(
    "--knha", is_flag=True, help="Knapp–Hartung adjustment (t with k−p df; for the GLMM: t test)."
)
@click.option(
    "--transform",
    type=click.Choice(["exp", "none"]),
    default="none",
    show_default=True,
    help="--measure GEN: report exp(estimate) (the estimates are log ratios).",
)
@click.option(
    "--ci-scale",
    type=click.Choice(["ratio", "model"]),
    help="--estimate/--ci-lower/--ci-upper are ratios as printed (logs are taken) or on the "
    "model scale (default: ratio with --transform exp, else model).",
)
@click.option("--moderator", "moderators", metavar="COL", multiple=True,
              help="Meta-regression on this column (numeric, or categorical as dummies; with "
              "--outcome a study field of the form); repeatable.")  # fmt: skip
@click.option("--egger", is_flag=True, help="Egger's regression test (metafor's regtest).")
@click.option("--trimfill", is_flag=True, help="Trim-and-fill (metafor's trimfill, L0).")
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
    help="Proportions: confidence interval of each study's proportion.",
)
@click.option(
    "--outcome",
    metavar="NAME",
    help="Pool this outcome of the review's consensus extraction instead of a FILE (the "
    "measure follows the outcome's type in the form: proportion, mean, two-group binary or "
    "continuous).",
)
@click.option(
    "--form",
    "form_name",
    metavar="NAME",
    help="With --outcome: the form in forms/ (default: the only .toml there).",
)
@click.option(
    "--exclude-risk",
    type=click.Choice(["high", "some-concerns"]),
    help="With --outcome: leave out the studies whose consensus overall risk of bias is this "
    "or worse (a sensitivity analysis).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--forest", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a forest plot (.svg, .png or .pdf).")  # fmt: skip
@click.option("--funnel", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a funnel plot (with the studies trim-and-fill imputes).")  # fmt: skip
@click.option("--bubble", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a bubble plot of the meta-regression (first numeric moderator).")  # fmt: skip
@click.option("--title", help="Title above the forest plot (default: the outcome's label, or "
              "the file's name; --title '' for none).")  # fmt: skip
def pool_command(
    file: Path | None,
    study: str | None,
    measure: str | None,
    method: str | None,
    knha: bool,
    transform: str,
    ci_scale: str | None,
    moderators: tuple[str, ...],
    egger: bool,
    trimfill: bool,
    subgroup: str | None,
    leave_one_out: bool,
    study_ci: str,
    outcome: str | None,
    form_name: str | None,
    exclude_risk: str | None,
    as_json: bool,
    forest: Path | None,
    funnel: Path | None,
    bubble: Path | None,
    title: str | None,
    **columns: str | None,
) -> None:
    """Pool a study table as R's metafor does: proportions (events/total), two-group binary
    (RR, OR, RD; inverse variance, Mantel–Haenszel, Peto), two-group continuous (MD, SMD,
    ROM), one-group means (MN, MNLN) or generic estimates (--yi/--vi). Study estimates, the
    pooled estimate with its CI and prediction interval, tau², I², Q; meta-regression,
    Egger's test, trim-and-fill; forest, funnel and bubble plots.

    Example: reviewflow pool studies.csv --events deaths --total n --study author

    Two groups: reviewflow pool trials.csv --events1 tpos --total1 n1 --events2 cpos
    --total2 n2 --measure RR --moderator ablat

    In a review: reviewflow pool --outcome mortality (the consensus extraction; RR for a
    two-group binary outcome, MD for a two-group continuous one, unless the form or
    --measure says otherwise).
    """
    from reviewflow.pooling.request import PoolRequest, run

    for plot in (forest, funnel, bubble):
        if plot is not None and plot.suffix.lower() not in _PLOT_SUFFIXES:
            raise InputError(f"{plot}: the plot must be .svg, .png or .pdf")
    roles = {role: column for role, column in columns.items() if column}
    header_lines: int | None = None
    groups: tuple[str, ...] = ()
    rob_columns: list[Any] = []  # with --outcome: the studies' risk of bias in the forest plot
    if outcome is not None:
        if file is not None:
            raise InputError("pool: give either FILE or --outcome, not both")
        if roles or study is not None:
            raise InputError("pool: --outcome reads the outcome's columns from the form; "
                             "do not name columns (--study, --events, …)")  # fmt: skip
        from reviewflow.cli.extraction import outcome_study_table

        frame, source, spec = outcome_study_table(outcome, form_name, subgroup, moderators)
        rob_columns, kept = _risk_of_bias(frame, exclude_risk)
        if kept is not None:
            frame = kept
            source += f", studies at {exclude_risk} risk of bias left out"
        roles = {part: part for part in spec.parts()}
        study, groups = "study", spec.groups
        title = spec.label if title is None else title  # the plot says what it shows
        measure = measure or spec.measure or None
        if subgroup is not None:
            subgroup = "subgroup"
    elif form_name is not None:
        raise InputError("pool: --form goes with --outcome (a FILE has no form)")
    elif exclude_risk:
        raise InputError("pool: --exclude-risk needs --outcome (the review's assessments)")
    elif file is None:
        raise InputError(
            "pool: give the study table FILE.csv (with --events and --total), or --outcome NAME"
        )
    else:
        from reviewflow.pooling.table import read_frame

        if not roles:
            raise InputError(
                f"pool: {file}: say which columns hold the data (--events and --total for "
                "proportions; see reviewflow pool --help)"
            )
        frame, source, header_lines = read_frame(file), str(file), 1
        title = file.name if title is None else title
    request = PoolRequest(
        roles=roles,
        study=study,
        measure=measure,
        method=method,
        knha=knha,
        transform=transform,
        ci_scale=ci_scale,
        subgroup=subgroup,
        leave_one_out=leave_one_out,
        moderators=moderators,
        egger=egger,
        trimfill=trimfill,
        study_interval=study_ci,
    )
    result = run(request, frame, source, header_lines)
    _plots(result, forest, funnel, bubble, title, groups, rob_columns)
    if as_json:
        echo_json(result.to_dict())
        return
    from reviewflow.pooling.text_report import report_lines

    for line in report_lines(result):
        click.echo(line)
    for name, plot in (("Forest plot", forest), ("Funnel plot", funnel), ("Bubble plot", bubble)):
        if plot is not None:
            click.echo(f"\n{name}: {plot}")


def _risk_of_bias(frame: Any, exclude: str | None) -> tuple[list[Any], Any]:
    """The forest plot's risk-of-bias column, and with ``exclude`` the study table without
    the studies at that risk (said on stderr; None without ``exclude``)."""
    from reviewflow.cli.common import AppContext
    from reviewflow.rob.report import exclude_risk, forest_column

    app = click.get_current_context().find_object(AppContext)
    assert app is not None
    store = app.store()
    if exclude is None:
        return forest_column(store), None
    kept, left_out = exclude_risk(frame, store, exclude)
    click.echo(f"left out at {exclude} risk of bias or worse ({len(left_out)}): "
               f"{', '.join(left_out) or 'none'}", err=True)  # fmt: skip
    return forest_column(store), kept


def _plots(
    outcome: Any,
    forest: Path | None,
    funnel: Path | None,
    bubble: Path | None,
    title: str | None,
    groups: tuple[str, ...] = (),
    extra_columns: Any = (),
) -> None:
    if forest is not None:
        from reviewflow.pooling.forest import forest_plot

        grouped = outcome.grouped
        result = grouped if grouped is not None else outcome.result
        forest_plot(result, forest, title=title, groups=groups, extra_columns=extra_columns)
    if funnel is None and bubble is None:
        return
    from reviewflow.pooling.plots import bubble_plot, funnel_plot

    if funnel is not None:
        funnel_plot(
            outcome.yi,
            outcome.vi,
            outcome.result.theta,
            funnel,
            outcome.label,
            ratio=outcome.ratio,
            trimfill=outcome.trimfill,
        )
    if bubble is not None:
        if outcome.regression is None:
            raise InputError("pool: --bubble needs a --moderator")
        bubble_plot(outcome.regression, bubble, outcome.label, ratio=outcome.ratio)


COMMANDS = [pool_command]
