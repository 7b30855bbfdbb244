"""When to stop screening: Callaghan & Müller-Hansen's (2020) hypergeometric stopping rule.

Screening goes in relevance order until ``patience`` records in a row are excluded (a share of
the records by default); from then on
records are drawn at random from those not yet screened. After each drawn record we test the
null hypothesis "recall is below the target": were it true, the pool the sample is drawn from
(``pool`` records, taken when sampling began) would hold at least
``K = floor(r_seen / target - r_before + 1)`` includes, where ``r_before`` were found before
sampling and ``r_seen`` in all. The p-value is the chance of finding at most ``k`` includes in
``n`` draws from such a pool (hypergeometric CDF); when it falls below ``1 - confidence`` we
stop, having reached the target with that confidence.

Callaghan MW, Müller-Hansen F. Statistical stopping criteria for automated screening in
systematic reviews. Syst Rev 2020;9:273. doi:10.1186/s13643-020-01521-4
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

RULE = "Callaghan & Müller-Hansen (2020) hypergeometric test on a random sample"


@dataclass(frozen=True)
class StoppingSettings:
    recall_target: float = 0.95
    confidence: float = 0.95
    # excludes in a row, in relevance order, before random sampling begins: ``patience`` if
    # given, else ``patience_share`` of the records (at least 10). 8 % left the most unscreened
    # on the Cohen sets at full recall (seeds 16-30, mean share left: 50 excludes 0.106, 100
    # 0.130, 4 % 0.145 with one run short of the target, 8 % 0.148)
    patience: int | None = None
    patience_share: float = 0.08

    def run_needed(self, total: int) -> int:
        if self.patience is not None:
            return self.patience
        return max(10, round(self.patience_share * total))


def p_value(pool: int, r_before: int, sample_n: int, sample_k: int, target: float) -> float:
    """The p-value of "recall < target" after ``sample_k`` includes in ``sample_n`` random draws
    from ``pool`` unscreened records, ``r_before`` includes having been found before the draws."""
    r_seen = r_before + sample_k
    k_h0 = math.floor(r_seen / target - r_before + 1)
    if k_h0 > pool:
        return 1.0  # so many includes cannot fit in the pool: H0 is false, but we cannot say
    # the hypergeometric distribution's cdf at sample_k, counted exactly (integers)
    ways = sum(
        math.comb(k_h0, i) * math.comb(pool - k_h0, sample_n - i) for i in range(sample_k + 1)
    )
    return ways / math.comb(pool, sample_n)


@dataclass(frozen=True)
class StopState:
    """Where the rule stands (plain values: the CLI prints them, the TUI shows them)."""

    rule: str
    recall_target: float
    confidence: float
    patience: int
    sampling: bool  # random sampling has begun
    ranked_screened: int  # records screened in relevance order, before sampling
    includes_before_sampling: int
    pool: int | None  # unscreened records when sampling began
    sampled: int
    sample_includes: int
    p_value: float | None
    stop: bool  # the target is reached with the stated confidence
    estimated_includes_unseen: float | None  # from the sample's include rate

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    ranked: list[bool], sampled: list[bool], total: int, settings: StoppingSettings
) -> StopState:
    """The rule's state after ``ranked`` decisions in relevance order (include = True) and then
    ``sampled`` ones on records drawn at random from the ``total - len(ranked)`` left."""
    run = settings.run_needed(total)
    pool = total - len(ranked) if sampled or _sampling_due(ranked, run) else None
    r_before, k, n = sum(ranked), sum(sampled), len(sampled)
    p = None
    estimate = None
    if pool is not None and n:
        p = p_value(pool, r_before, n, k, settings.recall_target)
        estimate = k / n * (pool - n)
    return StopState(
        rule=RULE,
        recall_target=settings.recall_target,
        confidence=settings.confidence,
        patience=settings.run_needed(total),
        sampling=pool is not None,
        ranked_screened=len(ranked),
        includes_before_sampling=r_before,
        pool=pool,
        sampled=n,
        sample_includes=k,
        p_value=p,
        stop=(p is not None and p < 1 - settings.confidence) or len(ranked) + n >= total,
        estimated_includes_unseen=estimate,
    )


def _sampling_due(ranked: list[bool], run: int) -> bool:
    tail = ranked[-run:]
    return len(tail) == run and not any(tail)


def sampling_start(labels: list[bool], patience: int) -> int | None:
    """How many decisions (in relevance order) come before random sampling begins: the end of
    the first run of ``patience`` excludes; None if there is no such run yet."""
    run = 0
    for position, label in enumerate(labels, start=1):
        run = 0 if label else run + 1
        if run == patience:
            return position
    return None
