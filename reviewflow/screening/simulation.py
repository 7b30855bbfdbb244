"""Replaying screening on a labelled set: the order a reviewer would see, and how good it is.

The priors are screened first; then, one record at a time, the model (refitted on the labels
revealed so far, and only those) picks the most relevant unscreened record and its label is
revealed. The result is the whole screening order, its work saved over sampling at 95 % recall
(WSS@95), its recall after 10 % of the records, and where the stopping rule
(:mod:`reviewflow.screening.stopping`) would have stopped.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reviewflow.errors import InputError
from reviewflow.screening.ranking import Classifier, Ranker, RankerSettings, record_text
from reviewflow.screening.stopping import StoppingSettings, StopState, evaluate, sampling_start


def wss(labels_in_order: Sequence[bool], recall: float = 0.95) -> float:
    """Work saved over sampling at ``recall`` (Cohen et al. 2006): the share of records left
    unscreened when ``ceil(recall * includes)`` are found, minus ``1 - recall``."""
    needed = math.ceil(recall * sum(labels_in_order))
    found = 0
    for position, label in enumerate(labels_in_order, start=1):
        found += label
        if found >= needed:
            return (len(labels_in_order) - position) / len(labels_in_order) - (1 - recall)
    return -(1 - recall)


def recall_at(labels_in_order: Sequence[bool], fraction: float = 0.10) -> float:
    """Share of the includes found in the first ``fraction`` of the records."""
    head = labels_in_order[: math.floor(fraction * len(labels_in_order))]
    return sum(head) / max(1, sum(labels_in_order))


@dataclass(frozen=True)
class Simulation:
    order: list[int]  # record indices in screening order
    labels: list[bool]  # their labels, in that order
    wss95: float
    recall_at_10: float
    stopping: StopState
    stop_recall: float  # recall reached when the rule stopped
    fits: int  # how many times the model was trained


def replay(
    texts: Sequence[str],
    labels: Sequence[bool],
    priors: Sequence[int],
    seed: int,
    settings: RankerSettings | None = None,
    stopping: StoppingSettings | None = None,
    make_classifier: Callable[[], Classifier] | None = None,
) -> Simulation:
    """Screen every record of ``texts`` in the model's order, the ``priors`` (indices) first."""
    ranker = Ranker(texts, settings, seed=seed, make_classifier=make_classifier)
    unseen = np.ones(len(texts), dtype=bool)
    known: dict[int, bool] = {}
    order: list[int] = []

    def reveal(i: int) -> None:
        unseen[i] = False
        known[i] = bool(labels[i])
        order.append(i)

    for i in priors:
        reveal(i)
    fitted_at, fits, include_since = -1, 0, True
    while unseen.any():
        if ranker.due(len(known), fitted_at, include_since) and ranker.fit(dict(known)):
            fitted_at, fits, include_since = len(known), fits + 1, False
        i = ranker.best(unseen)
        reveal(i)
        include_since = include_since or known[i]
    ordered = [bool(labels[i]) for i in order]
    state, found = stop_point(ordered, seed, stopping or StoppingSettings())
    return Simulation(
        order=order,
        labels=ordered,
        wss95=wss(ordered),
        recall_at_10=recall_at(ordered),
        stopping=state,
        stop_recall=found / max(1, sum(ordered)),
        fits=fits,
    )


def stop_point(
    labels_in_order: list[bool], seed: int, settings: StoppingSettings
) -> tuple[StopState, int]:
    """Apply the stopping rule to a screening in this relevance order: screen in order until the
    rule starts sampling, then draw the rest in a seeded random order until it says stop.
    Returns the rule's state at the stop and the includes found by then."""
    total = len(labels_in_order)
    start = sampling_start(labels_in_order, settings.run_needed(total))
    ranked = labels_in_order[: total if start is None else start]
    rest = labels_in_order[len(ranked) :]
    random.Random(seed).shuffle(rest)
    sampled: list[bool] = []
    state = evaluate(ranked, sampled, total, settings)
    for label in rest:
        if state.stop:
            break
        sampled.append(label)
        state = evaluate(ranked, sampled, total, settings)
    return state, sum(ranked) + sum(sampled)


@dataclass(frozen=True)
class LabelledSet:
    ids: list[str]
    texts: list[str]
    labels: list[bool]


LABEL_VALUES = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False}


def read_labelled(path: Path, id_column: str, label_column: str) -> LabelledSet:
    """A labelled CSV (an identifier, a 0/1 label, ``title`` and ``abstract`` columns), or an
    :class:`InputError` naming the file and the line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            lower = {c.lower(): c for c in columns}
            for wanted in (id_column, label_column):
                if wanted not in columns:
                    raise InputError(
                        f"{path.name}: no column {wanted!r} (columns: {', '.join(columns)})"
                    )
            if "title" not in lower:
                raise InputError(f"{path.name}: no 'title' column (columns: {', '.join(columns)})")
            title, abstract = lower["title"], lower.get("abstract")
            ids: list[str] = []
            texts: list[str] = []
            labels: list[bool] = []
            seen: dict[str, int] = {}
            for row in reader:
                line = reader.line_num
                key = (row[id_column] or "").strip()
                if not key:
                    raise InputError(f"{path.name}: line {line}: empty {id_column!r}")
                if key in seen:
                    raise InputError(
                        f"{path.name}: line {line}: {id_column} {key!r} repeats line {seen[key]}"
                    )
                value = (row[label_column] or "").strip().lower()
                if value not in LABEL_VALUES:
                    raise InputError(
                        f"{path.name}: line {line}: {label_column} is {row[label_column]!r}, "
                        "not 0 or 1"
                    )
                seen[key] = line
                ids.append(key)
                labels.append(LABEL_VALUES[value])
                texts.append(
                    record_text(row[title] or "", (row[abstract] or "") if abstract else "")
                )
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path.name}: not a UTF-8 CSV file ({exc})") from None
    if not ids:
        raise InputError(f"{path.name}: no records")
    return LabelledSet(ids=ids, texts=texts, labels=labels)
