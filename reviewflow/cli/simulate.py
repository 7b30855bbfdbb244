"""``reviewflow simulate``: replay prioritised screening on a labelled CSV (no workspace)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import click

from reviewflow.cli.common import echo_json
from reviewflow.errors import InputError, ReviewflowError


@click.command()
@click.argument("dataset", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id-column", required=True, metavar="COL", help="The column naming each record.")
@click.option("--label-column", required=True, metavar="COL",
              help="The column holding each record's label (1 include, 0 exclude).")  # fmt: skip
@click.option("--prior", "priors", multiple=True, metavar="ID",
              help="A record screened first (repeat: one include and one exclude is usual).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True,
              help="Breaks ties between equal scores and draws the stopping rule's sample.")  # fmt: skip
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write record_id,label in screening order here.")  # fmt: skip
@click.option("--recall-target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="The stopping rule's recall target.")  # fmt: skip
@click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.95, show_default=True, help="The stopping rule's confidence.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def simulate(
    dataset: Path,
    id_column: str,
    label_column: str,
    priors: tuple[str, ...],
    seed: int,
    out: Path,
    recall_target: float,
    confidence: float,
    as_json: bool,
) -> None:
    """Replay screening on DATASET.csv: the model learns from the labels revealed so far (the
    priors first), picks the next record, and so on. Prints WSS@95, recall at 10 % and where
    the stopping rule stops.

    \b
    reviewflow simulate refs.csv --id-column record_id --label-column label_included \\
        --prior 12 --prior 40 --seed 1 --out order.csv --json
    """
    from reviewflow.screening.simulation import read_labelled, replay
    from reviewflow.screening.stopping import StoppingSettings

    data = read_labelled(dataset, id_column, label_column)
    index = {key: i for i, key in enumerate(data.ids)}
    prior_index: list[int] = []
    for key in priors:
        if key not in index:
            raise InputError(f"{dataset.name}: --prior {key}: no record with {id_column} {key!r}")
        if index[key] not in prior_index:
            prior_index.append(index[key])
    stopping = StoppingSettings(recall_target=recall_target, confidence=confidence)
    sim = replay(data.texts, data.labels, prior_index, seed, stopping=stopping)
    try:
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record_id", "label"])
            for i in sim.order:
                writer.writerow([data.ids[i], int(data.labels[i])])
    except OSError as exc:
        raise ReviewflowError(f"cannot write {out}: {exc.strerror}") from None
    stop = sim.stopping
    screened = stop.ranked_screened + stop.sampled
    summary: dict[str, Any] = {
        "records": len(data.ids),
        "includes": sum(data.labels),
        "priors": list(dict.fromkeys(priors)),
        "seed": seed,
        "wss_95": round(sim.wss95, 6),
        "recall_at_10_percent": round(sim.recall_at_10, 6),
        "stopping": {
            **stop.as_dict(),
            "screened_at_stop": screened,
            "recall_at_stop": round(sim.stop_recall, 6),
            "target_reached": sim.stop_recall >= recall_target,
        },
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"{len(data.ids)} records, {sum(data.labels)} includes: WSS@95 {sim.wss95:.3f}, "
        f"recall at 10 % {sim.recall_at_10:.3f}; order written to {out}"
    )
    click.echo(
        f"stopping rule ({recall_target:g} recall, {confidence:g} confidence): stops after "
        f"{screened} records ({stop.ranked_screened} ranked, {stop.sampled} sampled at random), "
        f"recall then {sim.stop_recall:.3f}"
    )


COMMANDS = [simulate]
