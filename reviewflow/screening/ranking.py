"""Relevance ranking for title/abstract screening: TF-IDF features and a linear classifier.

A :class:`Ranker` is built from the records' texts only (TF-IDF is fitted on the words, never
on a label) and learns from the labels it is given, nothing else: whoever calls :meth:`fit`
decides which decisions the model sees (one reviewer's own, in the screening queue; those
revealed so far, in a simulation). Plain numpy and scipy.sparse (:mod:`.linear`); no model is downloaded.

The classifier was chosen by measurement on Cohen et al.'s (2006) three sets (README, "Screening
prioritisation"): see :data:`CLASSIFIERS` for the candidates tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from reviewflow.screening.linear import LinearSVM, tfidf


class Classifier(Protocol):
    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> Any: ...


def _weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """Sample weights that make the includes weigh ``ratio`` times less than the excludes in
    total (ASReview's "balanced" sample weight); they sum to the number of samples."""
    n_in, n_out = int(y.sum()), int(len(y) - y.sum())
    w = np.where(y == 1, 1.0, n_in / (ratio * n_out))
    return np.asarray(w * (len(y) / w.sum()))


def _svm() -> Classifier:
    return LinearSVM(C=0.05)  # = scikit-learn's LinearSVC(C=0.05), without importing it


# LinearSVM solves in the span of the labelled records (a dense n x n system: fast and free of
# scikit-learn's import for the few hundred labels of a start, cubic in n); past this many
# labels scikit-learn's liblinear solves the same problem (LinearSVC: squared hinge, the bias
# regularised as a feature of 1), whose cost grows with the labels only linearly
DENSE_LIMIT = 1000


def _liblinear(c: float) -> Classifier:
    from sklearn.svm import LinearSVC

    return LinearSVC(C=c, loss="squared_hinge", tol=1e-6, max_iter=10_000, random_state=0)


def _logistic() -> Classifier:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0, solver="liblinear", random_state=0)


def _nb() -> Classifier:
    from sklearn.naive_bayes import MultinomialNB

    return MultinomialNB(alpha=3.822)


def _sgd() -> Classifier:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="modified_huber", alpha=1e-4, random_state=0)


# name -> (make the classifier, include:exclude weight ratio or None for unweighted)
CLASSIFIERS: dict[str, tuple[Callable[[], Classifier], float | None]] = {
    "svm": (_svm, 9.8),
    "logistic": (_logistic, 9.8),
    "nb": (_nb, 9.8),
    "sgd": (_sgd, 9.8),
}


@dataclass(frozen=True)
class RankerSettings:
    # measured on the Cohen sets, seeds 1-3 (mean WSS@95): svm 0.671, logistic 0.648,
    # balanced naive Bayes 0.605, SGD 0.603 (all at ASReview's C = 0.11 / ratio 9.8 weights)
    classifier: str = "svm"
    ngram_max: int = 2
    # refit after every label while fewer than this many are known, then after every
    # `refit_fraction` of the known labels (and always right after an include)
    refit_every_label_until: int = 200
    refit_fraction: float = 0.02


def record_text(title: str, abstract: str) -> str:
    """What the model reads of a record: the title twice (its words weigh more; on the three
    Cohen sets this raised mean WSS@95 from 0.680 to 0.688 at C = 0.05), then the abstract."""
    return f"{title} {title} {abstract}"


class Ranker:
    """Scores records by relevance, learning only from the labels passed to :meth:`fit`."""

    def __init__(
        self,
        texts: Sequence[str],
        settings: RankerSettings | None = None,
        seed: int = 0,
        make_classifier: Callable[[], Classifier] | None = None,
    ) -> None:
        self.settings = settings or RankerSettings()
        if self.settings.classifier not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {self.settings.classifier!r}")
        make, self._ratio = CLASSIFIERS[self.settings.classifier]
        self._make = make_classifier or make
        self.features = tfidf(texts, ngram_max=self.settings.ngram_max, max_df=0.95)
        self.n = len(texts)
        # ties (before any model, or equal scores) are broken by a seeded random order
        self._tiebreak = np.random.default_rng(seed).permutation(self.n)
        self.scores: np.ndarray | None = None
        self._gram: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.intp), np.zeros((0, 0)))

    def fit(self, labels: Mapping[int, bool]) -> bool:
        """Train on ``labels`` (record index -> included) and rescore every record. Needs one
        include and one exclude; returns False (scores unchanged) until it has both."""
        idx = np.fromiter(labels, dtype=np.intp, count=len(labels))
        y = np.fromiter((1 if labels[i] else 0 for i in idx), dtype=np.int8, count=len(idx))
        if len(idx) == 0 or y.min() == y.max():
            return False
        model = self._make()
        weight = None if self._ratio is None else _weights(y, self._ratio)
        if isinstance(model, LinearSVM) and len(idx) > DENSE_LIMIT:
            model = _liblinear(model.C)  # the same problem; its cost grows with the labels
            model.fit(self.features[idx], y, sample_weight=weight)
        elif isinstance(model, LinearSVM):
            model.fit(self.features[idx], y, sample_weight=weight, gram=self._gram_of(idx))
        else:
            model.fit(self.features[idx], y, sample_weight=weight)
        m: Any = model
        if hasattr(m, "decision_function"):
            self.scores = np.asarray(m.decision_function(self.features), dtype=float)
        else:  # naive Bayes: the log odds (its probabilities saturate at 1)
            joint = m.predict_joint_log_proba(self.features)
            self.scores = np.asarray(joint[:, 1] - joint[:, 0], dtype=float)
        return True

    def _gram_of(self, idx: np.ndarray) -> np.ndarray:
        """``x @ x.T`` of the rows ``idx``; the rows of the last call are reused when ``idx``
        starts with them (labels arrive one at a time)."""
        old, gram = self._gram
        if len(old) > len(idx) or not np.array_equal(idx[: len(old)], old):
            old, gram = idx[:0], np.zeros((0, 0))
        new = self.features[idx[len(old) :]]
        cross = (new @ self.features[idx].T).toarray()
        full = np.empty((len(idx), len(idx)))
        full[: len(old), : len(old)] = gram
        full[len(old) :, :] = cross
        full[: len(old), len(old) :] = cross[:, : len(old)].T
        self._gram = (idx.copy(), full)
        return full

    def order(self, candidates: Sequence[int] | np.ndarray) -> list[int]:
        """``candidates`` from most to least relevant by the last model (ties: seeded order)."""
        c = np.asarray(candidates, dtype=np.intp)
        if self.scores is None:
            keys: tuple[np.ndarray, ...] = (self._tiebreak[c],)
        else:
            keys = (self._tiebreak[c], -self.scores[c])
        return [int(i) for i in c[np.lexsort(keys)]]

    def best(self, unseen: np.ndarray) -> int:
        """The most relevant record among those where ``unseen`` (a boolean mask) is true."""
        c = np.flatnonzero(unseen)
        if self.scores is None:
            return int(c[np.argmin(self._tiebreak[c])])
        s = self.scores[c]
        top = c[s == s.max()]
        return int(top[np.argmin(self._tiebreak[top])])

    def due(self, n_known: int, n_at_last_fit: int, include_since: bool) -> bool:
        """Whether to refit now, given how many labels are known and were at the last fit."""
        if n_known == n_at_last_fit:
            return False
        if include_since or n_known < self.settings.refit_every_label_until:
            return True
        return n_known - n_at_last_fit >= max(1, round(n_known * self.settings.refit_fraction))
