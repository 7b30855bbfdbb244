"""The text ``reviewflow pool`` prints: the studies, the pooled sentence, heterogeneity, and
the analyses asked for, the way a paper reports them."""

from __future__ import annotations

from reviewflow.pooling.analysis import PooledResult
from reviewflow.pooling.effect_analysis import EffectResult, EffectStudy
from reviewflow.pooling.format import (
    effect_decimals,
    format_effect,
    format_effect_result,
    format_heterogeneity,
    format_p,
    format_proportion,
    format_result,
    format_subgroups,
    number,
    percent_decimals,
)
from reviewflow.pooling.request import PoolOutcome


def report_lines(outcome: PoolOutcome) -> list[str]:
    result = outcome.result
    lines = _proportion_lines(result) if isinstance(result, PooledResult) else _effect_lines(result)
    lines.append(f"  Heterogeneity: {format_heterogeneity(result)}")
    if outcome.grouped is not None:
        lines.append("\nSubgroups (separate models, own τ² each):")
        lines += [f"  {line}" for line in format_subgroups(outcome.grouped)]
    if outcome.loo is not None:
        lines.append("\nLeave one out:")
        for row in outcome.loo:
            lines.append(f"  without {row.omitted}: {_interval(outcome, row)}, I² = {row.i2:.0f}%")
    lines += _regression_lines(outcome)
    lines += _small_study_lines(outcome)
    return lines


def _interval(outcome: PoolOutcome, row: object) -> str:
    result = outcome.result
    est, low, high = (getattr(row, k) for k in ("estimate", "ci_lower", "ci_upper"))
    if isinstance(result, PooledResult):
        return format_proportion(est, low, high, result.level, percent_decimals(result.estimate))
    d = effect_decimals(result.ci_lower, result.ci_upper, result.info.fixed_decimals)
    return format_effect(est, low, high, result.level, d)


def _proportion_lines(result: PooledResult) -> list[str]:
    width = max(len(s.study) for s in result.studies)
    d = percent_decimals(result.estimate)
    lines = [f"{'study':<{width}}  {'events/total':>12}  {'proportion (95% CI)':<28}  weight"]
    for s in result.studies:
        text = format_proportion(s.proportion, s.ci_lower, s.ci_upper, result.level, d)
        lines.append(
            f"{s.study:<{width}}  {f'{s.events}/{s.total}':>12}  "
            f"{text.replace('95% CI ', ''):<28}  {s.weight:5.1f}%"
        )
    model = {"EE": "common-effect"}.get(result.method, f"random-effects ({result.method})")
    if result.method == "GLMM":
        model = "GLMM (binomial-normal, ML, 7-point adaptive Gauss-Hermite)"
    test = {"knha": ", Knapp-Hartung", "t": ", t test"}.get(result.test, "")
    lines.append(
        f"\nPooled, {model}, {result.measure} scale{test}, k = {result.k}, "
        f"{sum(s.total for s in result.studies)} patients:"
    )
    lines.append(f"  {format_result(result)}")
    return lines


def _data_text(s: EffectStudy, family: str) -> str:
    d = s.data
    if family == "binary":
        return f"{d['events1']:g}/{d['total1']:g} vs {d['events2']:g}/{d['total2']:g}"
    if family == "continuous":
        return (
            f"{d['mean1']:g} ({d['sd1']:g}), n={d['n1']:g} vs "
            f"{d['mean2']:g} ({d['sd2']:g}), n={d['n2']:g}"
        )
    if family == "mean":
        return f"{d['mean']:g} ({d['sd']:g}), n={d['n']:g}"
    return ""


def _effect_lines(result: EffectResult) -> list[str]:
    info = result.info
    d = effect_decimals(result.ci_lower, result.ci_upper, info.fixed_decimals)
    data = [_data_text(s, result.family) for s in result.studies]
    width = max(len(s.study) for s in result.studies)
    data_width = max(len(t) for t in data)
    head = {"binary": "events/total", "continuous": "mean (SD), n", "mean": "mean (SD), n"}
    lines = [
        f"{'study':<{width}}  {head.get(result.family, ''):<{data_width}}  "
        f"{result.measure + ' (95% CI)':<26}  weight"
    ]
    for s, text in zip(result.studies, data, strict=True):
        if s.estimate is None or s.ci_lower is None or s.ci_upper is None:
            effect = "not estimable"
        else:
            effect = format_effect(s.estimate, s.ci_lower, s.ci_upper, result.level, d)
            effect = effect.replace(f"{round(100 * result.level):g}% CI ", "")
        lines.append(f"{s.study:<{width}}  {text:<{data_width}}  {effect:<26}  {s.weight:5.1f}%")
    model = {
        "EE": "common-effect",
        "MH": "common-effect (Mantel-Haenszel)",
        "PETO": "common-effect (Peto)",
    }.get(result.method, f"random-effects ({result.method})")
    test = ", Knapp-Hartung" if result.test == "knha" else ""
    scale = " (pooled on the log scale)" if info.exp else ""
    lines.append(
        f"\nPooled {info.label.split(' (')[0].lower()}{scale}, {model}{test}, k = {result.k}:"
    )
    lines.append(f"  {format_effect_result(result, with_p=True)}")
    for name, why in result.dropped:
        lines.append(f"  Left out: {name} ({why})")
    return lines


def _regression_lines(outcome: PoolOutcome) -> list[str]:
    reg = outcome.regression
    if reg is None:
        return []
    stat = "t" if reg.test == "knha" else "z"
    lines = [
        f"\nMeta-regression ({'mixed-effects' if reg.method != 'EE' else 'common-effect'}, "
        f"{reg.method}{', Knapp-Hartung' if reg.test == 'knha' else ''}), k = {reg.k}, "
        "coefficients on the model scale:"
    ]
    width = max(len(c.term) for c in reg.coefficients)
    lines.append(f"  {'term':<{width}}  {'estimate':>10}  {'SE':>8}  {stat:>7}  {'p':<9}  95% CI")
    for c in reg.coefficients:
        lines.append(
            f"  {c.term:<{width}}  {number(c.estimate, 4):>10}  {number(c.se, 4):>8}  "
            f"{number(c.zval, 2):>7}  {c.pval:<9.3g}  {number(c.ci_lower, 4)} to "
            f"{number(c.ci_upper, 4)}"
        )
    if reg.qm_df2 is None:
        qm = f"QM = {reg.qm:.2f} (df = {reg.qm_df}), {format_p(reg.qm_pval)}"
    else:
        qm = f"F = {reg.qm:.2f} (df = {reg.qm_df}, {reg.qm_df2}), {format_p(reg.qm_pval)}"
    lines.append(f"  Test of moderators: {qm}")
    r2 = "" if reg.r2 is None else f", R² = {reg.r2:.0f}%"
    lines.append(
        f"  Residual heterogeneity: τ² = {reg.tau2:.4g}, I² = {reg.i2:.0f}%{r2}; "
        f"QE = {reg.qe:.2f} (df = {reg.qe_df}), {format_p(reg.qe_pval)}"
    )
    if reg.dropped:
        lines.append(f"  Left out (no moderator value): {', '.join(reg.dropped)}")
    return lines


def _small_study_lines(outcome: PoolOutcome) -> list[str]:
    lines = []
    result = outcome.result
    if isinstance(result, PooledResult):
        d = percent_decimals(result.estimate)

        def show(est: float, low: float, high: float) -> str:
            return format_proportion(est, low, high, result.level, d)
    else:
        d = effect_decimals(result.ci_lower, result.ci_upper, result.info.fixed_decimals)

        def show(est: float, low: float, high: float) -> str:
            return format_effect(est, low, high, result.level, d)

    rep = outcome.reporting
    if outcome.egger is not None:
        e = outcome.egger
        stat = "t" if e.df is not None else "z"
        df = f" (df = {e.df})" if e.df is not None else ""
        lines.append(
            f"\nEgger's regression test: {stat} = {number(e.statistic, 2)}{df}, {format_p(e.pval)}; "
            "limit estimate (SE → 0): "
            + show(
                float(rep(e.limit_estimate)),
                float(rep(e.limit_ci_lower)),
                float(rep(e.limit_ci_upper)),
            )
        )
    if outcome.trimfill is not None:
        t = outcome.trimfill
        side = f"{t.k0} imputed on the {t.side}" if t.k0 else "no study imputed"
        lines.append(
            f"\nTrim-and-fill (L0): {side}; "
            + show(float(rep(t.estimate)), float(rep(t.ci_lower)), float(rep(t.ci_upper)))
        )
    return lines
