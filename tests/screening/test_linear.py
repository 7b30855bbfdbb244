"""reviewflow's own TF-IDF and linear SVM against scikit-learn's (the independent reference) on
Cohen et al.'s (2006) NSAIDs set, and `reviewflow simulate` not importing scikit-learn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from reviewflow.screening import ranking
from reviewflow.screening.linear import LinearSVM, tfidf
from reviewflow.screening.ranking import Ranker, _weights
from reviewflow.screening.simulation import read_labelled

NSAIDS = Path(__file__).parents[1] / "data" / "screening" / "Cohen2006_NSAIDS.csv"


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray]:
    d = read_labelled(NSAIDS, "record_id", "label_included")
    return list(d.texts), np.array(d.labels, dtype=np.int8)


def test_tfidf_equals_scikit_learns(data: tuple[list[str], np.ndarray]) -> None:
    texts, _ = data
    ours = tfidf(texts)
    theirs = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95).fit_transform(
        texts
    )
    assert ours.shape == theirs.shape == (393, 43173)
    assert abs(ours - theirs).max() < 1e-12


def _objective(x, y, c, w, b):  # type: ignore[no-untyped-def]
    margin = np.maximum(0.0, 1.0 - np.where(y > 0, 1.0, -1.0) * (x @ w + b))
    return 0.5 * (w @ w + b * b) + float(c @ (margin * margin))


@pytest.mark.parametrize("n", [30, 150, 393])
def test_the_svm_solves_liblinears_problem(data: tuple[list[str], np.ndarray], n: int) -> None:
    texts, labels = data
    x = tfidf(texts)
    idx = np.concatenate([np.flatnonzero(labels)[:2], np.arange(n)])
    y, weight = labels[idx], _weights(labels[idx], 9.8)
    ours = LinearSVM(C=0.05).fit(x[idx], y, sample_weight=weight)
    theirs = LinearSVC(C=0.05, random_state=0).fit(x[idx], y, sample_weight=weight)
    # the same scores (liblinear stops near the optimum, not at it) ...
    diff = ours.decision_function(x) - theirs.decision_function(x)
    assert np.abs(diff).max() < 1e-4
    # ... and an objective no higher than liblinear's
    mine = _objective(x[idx], y, 0.05 * weight, ours.coef_, ours.intercept_)
    ref = _objective(x[idx], y, 0.05 * weight, theirs.coef_.ravel(), theirs.intercept_[0])
    assert mine <= ref + 1e-12


def test_the_rankers_reused_gram_matrix_gives_the_same_scores(
    data: tuple[list[str], np.ndarray],
) -> None:
    texts, labels = data
    grown, fresh = Ranker(texts), Ranker(texts)
    known: dict[int, bool] = {}
    for i in [*np.flatnonzero(labels)[:2], *range(60)]:
        known[int(i)] = bool(labels[i])
        grown.fit(known)
    fresh.fit(known)
    assert grown.scores is not None and fresh.scores is not None
    assert np.allclose(grown.scores, fresh.scores, atol=1e-10)
    # a label taken away (an undone decision): the matrix is rebuilt, not reused
    del known[5]
    grown.fit(known)
    fresh = Ranker(texts)
    fresh.fit(known)
    assert np.allclose(grown.scores, fresh.scores, atol=1e-10)  # type: ignore[arg-type]


def test_past_the_dense_limit_liblinear_solves_the_same_problem(
    data: tuple[list[str], np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many labels (a reviewer far into a big search): the ranker hands the same problem to
    liblinear, whose cost grows linearly with the labels; the scores stay those of the exact
    optimum."""
    texts, labels = data
    known = {i: bool(labels[i]) for i in range(len(texts))}
    exact = Ranker(texts)
    exact.fit(known)
    monkeypatch.setattr(ranking, "DENSE_LIMIT", 100)
    fitted: list[object] = []
    real = ranking._liblinear
    monkeypatch.setattr(ranking, "_liblinear", lambda c: fitted.append(c) or real(c))
    big = Ranker(texts)
    big.fit(known)
    assert fitted == [0.05]  # liblinear ran, with the same C
    assert exact.scores is not None and big.scores is not None
    assert np.abs(exact.scores - big.scores).max() < 1e-4


def test_simulate_imports_neither_scikit_learn_nor_pandas_nor_the_store(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from reviewflow.cli import main\n"
        "try:\n"
        f"    main(['simulate', {str(NSAIDS)!r},"
        " '--id-column', 'record_id', '--label-column', 'label_included', '--prior', '11',"
        f" '--prior', '1', '--out', {str(tmp_path / 'o.csv')!r}], standalone_mode=False)\n"
        "finally:\n"
        "    print(sorted(m for m in ('sklearn', 'pandas', 'sqlalchemy', 'scipy.stats')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "o.csv").read_text().count("\n") == 394
