"""TF-IDF features and a linear support vector machine in numpy and scipy.sparse.

They compute what scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
max_df=0.95)`` and ``LinearSVC(C, loss="squared_hinge")`` compute (the tests compare them), without
importing scikit-learn: its import alone (scipy.stats, pandas) took most of a ``reviewflow
simulate`` run on a few hundred records.

The SVM minimises liblinear's primal objective, the bias counted as a feature of value 1:
``0.5 * (|w|^2 + b^2) + sum_i c_i * max(0, 1 - y_i * (x_i . w + b))^2`` with
``c_i = C * weight_i`` (:func:`dual_newton`); liblinear stops within 1e-4 of the optimum.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def tfidf(texts: Sequence[str], ngram_max: int = 2, max_df: float = 0.95) -> csr_matrix:
    """Rows l2-normalised; terms = lower-cased words of 2+ characters and their n-grams up to
    ``ngram_max``, sorted, those in more than ``max_df`` of the texts dropped; weight
    ``(1 + log tf) * (1 + log((1 + n) / (1 + df)))``."""
    vocabulary: dict[str, int] = {}
    # per text, its terms' columns and counts, appended to compact arrays (100,000 texts kept as
    # dicts took 3.5 GB)
    cols, freqs, lengths = array("q"), array("d"), array("q")
    for text in texts:
        words = _TOKEN.findall(text.lower())
        counts: dict[int, int] = {}
        for n in range(1, ngram_max + 1):
            for k in range(len(words) - n + 1):
                term = words[k] if n == 1 else " ".join(words[k : k + n])
                j = vocabulary.setdefault(term, len(vocabulary))
                counts[j] = counts.get(j, 0) + 1
        cols.extend(counts)
        freqs.extend(counts.values())
        lengths.append(len(counts))
    n_texts = len(lengths)
    indices, counts_ = np.array(cols, dtype=np.int64), np.array(freqs, dtype=float)
    del cols, freqs
    df = np.bincount(indices, minlength=len(vocabulary))
    # columns in the terms' alphabetical order, the too-common ones dropped
    terms = sorted(vocabulary)
    by_name = np.array([vocabulary[t] for t in terms], dtype=np.int64)
    keep = by_name[df[by_name] <= max_df * n_texts]
    column = np.full(len(vocabulary), -1, dtype=np.int64)
    column[keep] = np.arange(len(keep))
    idf = 1.0 + np.log((1 + n_texts) / (1 + df[keep].astype(float)))
    indices = column[indices]  # the new columns, -1 for a dropped term
    kept = indices >= 0
    # the texts' entries stay in text order: CSR row pointers from the kept ones per text
    ends = np.concatenate([[0], np.cumsum(np.array(lengths, dtype=np.int64))])
    indptr = np.concatenate([[0], np.cumsum(kept)])[ends]
    indices = indices[kept]
    data = (1.0 + np.log(counts_[kept])) * idf[indices]
    del counts_, kept
    x = csr_matrix((data, indices, indptr), shape=(n_texts, len(keep)))
    x.sort_indices()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    x.data /= np.repeat(norms, np.diff(x.indptr))
    return x


class LinearSVM:
    """``fit(x, y, sample_weight)`` then ``decision_function(x)``, as in scikit-learn."""

    def __init__(self, C: float = 1.0, max_iter: int = 50) -> None:
        self.C, self.max_iter = C, max_iter
        self.coef_: np.ndarray = np.zeros(0)
        self.intercept_ = 0.0

    def fit(
        self,
        x: csr_matrix,
        y: np.ndarray,
        sample_weight: np.ndarray | None = None,
        gram: np.ndarray | None = None,
    ) -> LinearSVM:
        """``gram``: ``x @ x.T`` as a dense array, if the caller has it (it is most of the work)."""
        sign = np.where(np.asarray(y) > 0, 1.0, -1.0)
        c = self.C * (np.ones(len(sign)) if sample_weight is None else np.asarray(sample_weight))
        k = (np.asarray((x @ x.T).toarray()) if gram is None else gram) + 1.0  # + 1: the bias
        beta = dual_newton(k, sign, c, self.max_iter)
        self.coef_ = np.asarray(x.T @ beta).ravel()
        self.intercept_ = float(beta.sum())
        return self

    def decision_function(self, x: csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef_ + self.intercept_)


def dual_newton(k: np.ndarray, sign: np.ndarray, c: np.ndarray, max_iter: int = 50) -> np.ndarray:
    """The coefficients ``beta`` of ``w = sum_i beta_i x_i`` minimising the objective (module
    docstring) given the kernel ``k = x x' + 1``: Newton's method in the span of the samples
    (Chapelle 2007, "Training a support vector machine in the primal"). With the samples whose
    margin is violated held fixed the objective is quadratic, its minimum a linear solve; a
    backtracking line search keeps each step downhill; it stops when the set stays the same."""
    n = len(sign)
    beta = np.zeros(n)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        out = k @ beta
        loss = np.maximum(0.0, 1.0 - sign * out)
        return 0.5 * float(beta @ out) + float(c @ (loss * loss)), out

    f, out = objective(beta)
    for _ in range(max_iter):
        on = np.flatnonzero(sign * out < 1.0)
        system = k[np.ix_(on, on)]
        system[np.diag_indices_from(system)] += 0.5 / c[on]
        target = np.zeros(n)
        target[on] = np.linalg.solve(system, sign[on])
        step = 1.0
        while True:
            f_new, out_new = objective(beta + step * (target - beta))
            if f_new <= f or step < 1e-6:
                break
            step /= 2
        beta, f, out = beta + step * (target - beta), f_new, out_new
        if step == 1.0 and np.array_equal(np.flatnonzero(sign * out < 1.0), on):
            break
    return beta
