"""Prioritised screening replayed on Cohen et al.'s (2006) NSAIDs set (tests/data/screening):
the model sees only the labels revealed so far; the figures and the stopping rule's p-values
against independent computations; ``reviewflow simulate``'s file, JSON and errors."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reviewflow.screening.ranking import CLASSIFIERS, Ranker, record_text
from reviewflow.screening.simulation import read_labelled, recall_at, replay, wss
from reviewflow.screening.stopping import StoppingSettings, p_value
from tests.conftest import run_cli
from tests.screening.spy import record_fits

NSAIDS = Path(__file__).parents[1] / "data" / "screening" / "Cohen2006_NSAIDS.csv"
PRIORS = ("11", "1")  # an include and an exclude
INCLUDED = "label_included"


@pytest.fixture(scope="module")
def data() -> Any:
    return read_labelled(NSAIDS, "record_id", INCLUDED)


def priors(data: Any) -> list[int]:
    return [data.ids.index(key) for key in PRIORS]


class Spy:
    """The default classifier, recording the rows and labels each fit is given."""

    fits: list[tuple[np.ndarray, np.ndarray]] = []

    def __init__(self) -> None:
        self.inner: Any = CLASSIFIERS["svm"][0]()

    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> Any:
        Spy.fits.append((x.toarray(), np.asarray(y)))
        return self.inner.fit(x, y, sample_weight=sample_weight)

    def decision_function(self, x: Any) -> Any:
        return self.inner.decision_function(x)


def test_the_model_is_trained_only_on_the_labels_revealed_so_far(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = record_fits(monkeypatch)
    Spy.fits = []
    sim = replay(data.texts, data.labels, priors(data), seed=1, make_classifier=Spy)
    features = Ranker(data.texts).features.toarray()
    assert len(Spy.fits) == sim.fits == len(given) > 100
    for labels, (x, y) in zip(given, Spy.fits, strict=True):
        # exactly the first len(labels) records screened, with their true labels ...
        assert sorted(labels) == sorted(sim.order[: len(labels)])
        assert labels == {i: data.labels[i] for i in labels}
        # ... and the classifier got those rows and labels, nothing else
        assert np.array_equal(x, features[list(labels)])
        assert list(y) == [int(v) for v in labels.values()]


def test_a_label_flipped_after_position_p_leaves_the_order_before_p_unchanged(data: Any) -> None:
    before = replay(data.texts, data.labels, priors(data), seed=2)
    for p in (5, 40, 120):
        flipped = list(data.labels)
        flipped[before.order[p]] = not flipped[before.order[p]]
        after = replay(data.texts, flipped, priors(data), seed=2)
        assert after.order[: p + 1] == before.order[: p + 1]
        assert after.order != before.order  # the flip did reach the model


def test_the_replay_is_deterministic_for_a_seed_and_ranks_better_than_chance(data: Any) -> None:
    a = replay(data.texts, data.labels, priors(data), seed=3)
    np.random.seed(99)  # nothing may depend on numpy's global random state
    b = replay(data.texts, data.labels, priors(data), seed=3)
    assert a.order == b.order and a.stopping == b.stopping
    assert sorted(a.order) == list(range(len(data.ids)))
    assert a.order[:2] == priors(data)
    # random order finds 10 % of the includes in the first 10 %; WSS@95 of chance is 0
    assert a.recall_at_10 > 0.4 and a.wss95 > 0.5


def test_wss_and_recall_at_10_percent_by_hand() -> None:
    labels = [True, False, True, False, False, False, False, False, False, False]
    # 2 includes; ceil(0.95 * 2) = 2 found at position 3: (10 - 3) / 10 - 0.05
    assert wss(labels) == pytest.approx(0.65)
    assert recall_at(labels) == 0.5  # the first record of ten
    assert wss([False] * 9 + [True]) == pytest.approx(-0.05)


def _p_by_counting(pool: int, r_before: int, n: int, k: int, target: float) -> float:
    """P(at most k includes in n draws from pool holding K), K the smallest count that would
    put recall below target: counted with binomial coefficients."""
    seen = r_before + k
    big_k = next(x for x in range(pool + 1) if seen / (r_before + x) < target)
    total = math.comb(pool, n)
    return sum(math.comb(big_k, j) * math.comb(pool - big_k, n - j) for j in range(k + 1)) / total


@pytest.mark.parametrize(
    ("pool", "r_before", "n", "k", "target"),
    [
        (241, 40, 181, 1, 0.95),
        (2000, 41, 1200, 0, 0.95),
        (500, 10, 100, 2, 0.8),
        (300, 3, 50, 0, 0.9),
    ],
)
def test_the_stopping_p_value_matches_counting(
    pool: int, r_before: int, n: int, k: int, target: float
) -> None:
    from scipy.stats import hypergeom

    p = p_value(pool, r_before, n, k, target)
    assert p == pytest.approx(_p_by_counting(pool, r_before, n, k, target), rel=1e-9)
    big_k = math.floor((r_before + k) / target - r_before + 1)
    assert p == pytest.approx(hypergeom.cdf(k, pool, big_k, n), rel=1e-9)


def test_the_stopping_rule_samples_after_the_patience_and_stops_on_its_test(data: Any) -> None:
    settings = StoppingSettings()
    sim = replay(data.texts, data.labels, priors(data), seed=1, stopping=settings)
    s = sim.stopping
    ranked = sim.labels[: s.ranked_screened]
    assert s.patience == round(0.08 * len(data.ids)) == 31  # 8 % of the records by default
    assert not any(ranked[-31:]) and ranked[-32] and s.sampling  # the first run of 31 excludes
    assert s.pool == len(data.ids) - s.ranked_screened
    assert s.stop and s.p_value is not None and s.p_value < 0.05
    assert s.includes_before_sampling == sum(ranked)


def test_simulate_writes_the_order_and_its_figures(tmp_path: Path, data: Any) -> None:
    out = tmp_path / "order.csv"
    args = ["simulate", str(NSAIDS), "--id-column", "record_id", "--label-column", INCLUDED,
            "--prior", PRIORS[0], "--prior", PRIORS[1], "--seed", "1", "--out", str(out)]  # fmt: skip
    code, stdout, err = run_cli(*args, "--json")
    assert code == 0, err
    figures = json.loads(stdout)
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["record_id", "label"]
    assert [r[0] for r in rows[1:3]] == list(PRIORS)
    assert sorted(r[0] for r in rows[1:]) == sorted(data.ids)
    labels = [r[1] == "1" for r in rows[1:]]
    assert labels == [data.labels[data.ids.index(r[0])] for r in rows[1:]]
    assert figures["wss_95"] == pytest.approx(wss(labels), abs=1e-6)
    assert figures["recall_at_10_percent"] == pytest.approx(recall_at(labels), abs=1e-6)
    stop = figures["stopping"]
    assert stop["screened_at_stop"] == stop["ranked_screened"] + stop["sampled"]
    assert stop["recall_target"] == 0.95 and stop["confidence"] == 0.95
    first = out.read_bytes()
    code, _, err = run_cli(*args)
    assert code == 0, err
    assert out.read_bytes() == first  # deterministic for a seed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--id-column", "rid"], "Cohen2006_NSAIDS.csv: no column 'rid' (columns: record_id,"),
        (["--label-column", "label"], "Cohen2006_NSAIDS.csv: no column 'label'"),
        (["--prior", "99999"], "Cohen2006_NSAIDS.csv: --prior 99999: no record with record_id"),
    ],
)
def test_simulate_errors_are_one_line(tmp_path: Path, change: list[str], message: str) -> None:
    args = {"--id-column": "record_id", "--label-column": INCLUDED, "--prior": "11"}
    args.update(dict(zip(change[::2], change[1::2], strict=True)))
    flat = [x for kv in args.items() for x in kv]
    code, stdout, err = run_cli("simulate", str(NSAIDS), *flat, "--out", str(tmp_path / "o.csv"))
    assert code == 1 and stdout == ""
    assert err.startswith(f"reviewflow: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "o.csv").exists()


def test_a_bad_label_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title,abstract,y\n1,A,x,1\n2,B,y,maybe\n", encoding="utf-8")
    code, _, err = run_cli("simulate", str(bad), "--id-column", "id", "--label-column", "y",
                           "--out", str(tmp_path / "o.csv"))  # fmt: skip
    assert code == 1
    assert err == "reviewflow: error: bad.csv: line 3: y is 'maybe', not 0 or 1\n"


def test_record_text_weighs_the_title_twice() -> None:
    assert record_text("Title.", "Abstract") == "Title. Title. Abstract"
