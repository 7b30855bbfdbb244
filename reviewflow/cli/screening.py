"""``reviewflow screen``, ``reviewflow reconcile`` and ``reviewflow agreement``.

The TUI apps are imported inside the commands: importing the CLI never loads textual.
"""

from __future__ import annotations

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import InputError

STAGE_CHOICE = click.Choice(["title-abstract", "full-text"])


@click.command()
@click.option("--reviewer", required=True, metavar="NAME", help="Your name in review.toml.")
@click.option(
    "--stage", type=STAGE_CHOICE, default="title-abstract", show_default=True,
    help="Which stage to screen.",
)  # fmt: skip
@click.option(
    "--order", type=click.Choice(["import", "relevance"]), default="import", show_default=True,
    help="Title/abstract: records in import order, or the most relevant first (a model learns "
    "from your own decisions only; the o key switches).",
)  # fmt: skip
@click.option(
    "--stop", is_flag=True,
    help="Adjudicator: stop title/abstract screening where NAME's stopping rule has reached its "
    "recall target; records no reviewer has screened are marked ineligible by automation.",
)  # fmt: skip
@click.option(
    "--undo-stop", is_flag=True,
    help="Adjudicator: undo --stop; the records it marked ineligible go back into every queue.",
)  # fmt: skip
@pass_app
def screen(
    app: AppContext, reviewer: str, stage: str, order: str, stop: bool, undo_stop: bool
) -> None:
    """Screen records one at a time, blinded to the other reviewers (a terminal app).

    Keys: i include, e exclude (asks a reason at full text, and at title/abstract when
    review.toml lists some), m maybe, u undo, n note, t labels (yours only), → ← next/previous,
    g go to, / search, o relevance/import order, ? help, q quit; at full text r marks a report
    not retrieved. Every decision is saved the moment the key is pressed.
    """
    from reviewflow.screening.decisions import ScreeningRules

    ws = app.workspace()
    config = ws.config
    config.reviewer(reviewer)  # a clear error when the name is not in review.toml
    if stop or undo_stop:
        from reviewflow.screening.prioritise import stop_screening
        from reviewflow.screening.prioritise import undo_stop as undo

        option = "--stop" if stop else "--undo-stop"
        if stop and undo_stop:
            raise InputError("--stop and --undo-stop: give one")
        if stage != "title-abstract":
            raise InputError(f"{option} is for title/abstract screening")
        store = app.as_lead()
        who = store.identity.name if store.identity else (app.user or "adjudicator")
        if undo_stop:
            restored = undo(store, who)
            click.echo(f"{restored:,} records back in the title/abstract queues (the stop undone)")
            return
        record = stop_screening(store, who, reviewer)
        click.echo(record.note)
        return
    store = app.as_reviewer(reviewer)
    from reviewflow.tui.screen_app import ScreenApp, ScreeningSetup

    ScreenApp(
        ScreeningSetup(
            store=store,
            reviewer=reviewer,
            stage=stage,
            rules=ScreeningRules.from_config(config),
            review_title=config.title,
            highlight_include=tuple(config.highlight_include),
            highlight_exclude=tuple(config.highlight_exclude),
            order=order,
            criteria=config.criteria_text(),
        )  # fmt: skip
    ).run()


def _resolvers(app: AppContext, adjudicator: str | None, reviewers: str | None) -> list[str]:
    config = app.workspace().config
    if adjudicator and reviewers:
        raise InputError("give either --adjudicator NAME or --reviewers A,B, not both")
    if reviewers:
        names = [n.strip() for n in reviewers.split(",") if n.strip()]
        if len(names) < 2:
            raise InputError("--reviewers needs the two reviewers' names: --reviewers A,B")
        for n in names:
            config.reviewer(n)
        return names
    if adjudicator:
        if config.reviewer(adjudicator).role != "adjudicator":
            raise InputError(
                f"review.toml: {adjudicator!r} is not an adjudicator; reviewers reconcile "
                "together with --reviewers A,B"
            )
        return [adjudicator]
    found = [r.name for r in config.reviewers if r.role == "adjudicator"]
    if len(found) != 1:
        raise InputError(
            "review.toml names "
            + ("no adjudicator" if not found else f"{len(found)} adjudicators")
            + ": pass --adjudicator NAME, or --reviewers A,B to reconcile together"
        )
    return found


@click.command()
@click.option(
    "--stage", type=STAGE_CHOICE, default="title-abstract", show_default=True,
    help="Which stage's conflicts.",
)  # fmt: skip
@click.option("--adjudicator", metavar="NAME", help="The adjudicator in review.toml.")
@click.option(
    "--reviewers", metavar="A,B", help="The two reviewers, reconciling together (instead)."
)
@pass_app
def reconcile(app: AppContext, stage: str, adjudicator: str | None, reviewers: str | None) -> None:
    """Resolve the conflicts of a stage (a terminal app): both decisions and notes side by
    side; the adjudicator, or both reviewers together, record the final decision and why."""
    from reviewflow.screening.decisions import ScreeningRules

    names = _resolvers(app, adjudicator, reviewers)
    config = app.workspace().config
    store = app.as_lead(adjudicator)
    from reviewflow.access.guard import require_lead

    require_lead(store, "reconciliation")  # before the app starts: one line, exit 1
    from reviewflow.tui.reconcile_app import ReconcileApp, ReconcileSetup

    ReconcileApp(
        ReconcileSetup(
            store=store,
            resolvers=tuple(names),
            stage=stage,
            rules=ScreeningRules.from_config(config),
            review_title=config.title,
            highlight_include=tuple(config.highlight_include),
            highlight_exclude=tuple(config.highlight_exclude),
            criteria=config.criteria_text(),
        )  # fmt: skip
    ).run()


def _fmt(value: float | None, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_app
def agreement(app: AppContext, as_json: bool) -> None:
    """Agreement between reviewers per stage: records screened by both, percent agreement and
    Cohen's kappa with its 95% CI (Fleiss-Cohen-Everitt standard error)."""
    from reviewflow.screening.agreement import agreement as compute
    from reviewflow.screening.decisions import ScreeningRules

    config = app.workspace().config
    pairs = compute(app.as_lead(), ScreeningRules.from_config(config))
    if as_json:
        echo_json({"stages": [p.to_dict() for p in pairs]})
        return
    if not pairs:
        click.echo("No record has been screened by two reviewers yet.")
        return
    for p in pairs:
        click.echo(
            f"{p.stage}: {p.reviewer_a} and {p.reviewer_b} both screened {p.double_screened:,} "
            f"records; agreed on {p.agreed:,} ({_fmt(p.percent_agreement, '.1f')}%); "
            f"Cohen's kappa {_fmt(p.kappa, '.3f')} "
            f"(95% CI {_fmt(p.ci95_low, '.3f')} to {_fmt(p.ci95_high, '.3f')})"
        )


COMMANDS = [screen, reconcile, agreement]
