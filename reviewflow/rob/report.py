"""Risk of bias in the report and in pooling: the consensus judgements per study, the report's
section (traffic-light and summary plots per tool, a table), a forest-plot column, and the
sensitivity analysis that leaves out studies at high risk (``pool --exclude-risk``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from reviewflow.errors import InputError
from reviewflow.report import html
from reviewflow.report.tables import to_csv, to_markdown
from reviewflow.rob.assess import consensus
from reviewflow.rob.tools import LEVEL, OVERALL, TOOLS
from reviewflow.store import Store

Judgements = dict[str, dict[str, str | None]]  # study label → domain key / overall → judgement


def consensus_judgements(store: Store) -> dict[str, Judgements]:
    """tool key → study label → its consensus judgements (domains and overall)."""
    out: dict[str, Judgements] = {}
    for a in sorted(consensus(store).values(), key=lambda a: a.study):
        ev = a.evaluation
        row = {k: j.value for k, j in ev.domains.items()} | {OVERALL: ev.overall.value}
        out.setdefault(a.tool.key, {})[a.study] = row
    return out


def overall_by_study(store: Store) -> dict[str, str]:
    """study label → its consensus overall judgement (studies with one)."""
    out: dict[str, str] = {}
    for by_study in consensus_judgements(store).values():
        for study, js in by_study.items():
            value = js[OVERALL]
            if value is not None:
                out[study] = value
    return out


def forest_column(store: Store) -> list[Any]:
    """A "Risk of bias" column (the consensus overall judgement) for forest plots; none when
    no study has been assessed."""
    from reviewflow.pooling.forest import Column

    overall = overall_by_study(store)
    if not overall:
        return []
    return [Column("Risk of bias", 1.0, lambda s: overall.get(str(s.study), "not assessed"),
                   align="left")]  # fmt: skip


LEVELS = {"high": 2, "some-concerns": 1, "critical": 3}


def exclude_risk(frame: pd.DataFrame, store: Store, level: str) -> tuple[pd.DataFrame, list[str]]:
    """The study table without the studies whose consensus overall judgement is at ``level``
    or worse (``high`` also drops serious and critical; ``some-concerns`` everything not low).
    Returns the table and the labels left out."""
    if level not in LEVELS:
        raise InputError(f"--exclude-risk {level!r}: choose {', '.join(LEVELS)}")
    overall = overall_by_study(store)
    if not overall:
        raise InputError(
            "--exclude-risk: no study has a consensus risk-of-bias assessment yet "
            "(reviewflow rob agree / rob consensus)"
        )
    drop = (
        frame["study"].astype(str).map(lambda s: LEVEL.get(overall.get(s, ""), -1) >= LEVELS[level])
    )
    return frame.loc[~drop].reset_index(drop=True), [str(s) for s in frame.loc[drop, "study"]]


def rob_section(
    out: Path, store: Store, files: list[Path], pooled: Mapping[str, Any] | None = None
) -> html.Section:
    """The report's risk-of-bias section; writes its files into ``out`` (listed in ``files``).
    With ``pooled`` results (outcome → result), the summary plot is weighted by the studies'
    weights in the first outcome, as robvis weights by the meta-analysis."""
    from reviewflow.rob.plots import judgement_table, summary_bars, traffic_light

    weights, weighted_by = None, ""
    if pooled:
        weighted_by, first = next(iter(pooled.items()))
        weights = {str(s.study): float(s.weight) for s in first.studies}

    section = html.Section("risk-of-bias", "Risk of bias in included studies")
    by_tool = consensus_judgements(store)
    if not by_tool:
        section.absent = "No study has a consensus risk-of-bias assessment yet."
        return section
    table_rows: list[dict[str, str]] = []
    for key, judgements in by_tool.items():
        tool = TOOLS[key]
        tool_weights = weights if weights and any(s in weights for s in judgements) else None
        light, bars = f"rob_traffic_light_{key}", f"rob_summary_{key}"
        for name in (light, bars):
            for suffix in (".svg", ".png"):
                path = out / f"{name}{suffix}"
                if name == light:
                    traffic_light(tool, judgements, path)
                else:
                    summary_bars(tool, judgements, path, tool_weights)
                files.append(path)
        rows = judgement_table(tool, judgements)
        table_rows += [{"tool": tool.name} | r for r in rows]
        section.body.append(f"<h3>{escape(tool.name)}: {len(judgements)} studies</h3>")
        section.body.append(html.table(rows))
        for name, what in ((light, "traffic-light plot"), (bars, "summary plot")):
            section.body.append(
                f'<img class="forest" src="{name}.svg" alt="{escape(tool.name)}: {what}">'
            )
            section.files += [(f"{name}.svg", f"{what}, {tool.name}"), (f"{name}.png", "PNG")]
        section.body.append(
            f"<p class=meta>{escape(tool.citation)}. Consensus judgements of two reviewers; "
            + (
                f"summary weighted by the studies' weights in {escape(weighted_by)}."
                if tool_weights
                else "summary: share of studies."
            )
            + "</p>"
        )
    columns = list(dict.fromkeys(k for r in table_rows for k in r))
    (out / "risk_of_bias.csv").write_text(to_csv(table_rows, columns), encoding="utf-8")
    (out / "risk_of_bias.md").write_text(to_markdown(table_rows, columns), encoding="utf-8")
    files += [out / "risk_of_bias.csv", out / "risk_of_bias.md"]
    section.files[:0] = [("risk_of_bias.csv", "every judgement"), ("risk_of_bias.md", "Markdown")]
    return section


def certainty_section(
    out: Path,
    store: Store,
    root: Path,
    rows: Sequence[Any],
    results: Mapping[str, Any],
    files: list[Path],
) -> html.Section:
    """The GRADE summary-of-findings table of the pooled outcomes (``rows``: the report's
    PooledRow list; ``results``: outcome key → pooled result); ratings from the database
    (``reviewflow grade set``)."""
    from reviewflow.rob.grade import GRADE_NOTE, ratings, sof_row, write_sof

    section = html.Section("certainty", "Certainty of evidence (GRADE summary of findings)")
    if not rows:
        section.absent = "No outcome was pooled, so there is no summary of findings."
        return section
    rated = ratings(store)
    overall = overall_by_study(store)
    sof = [
        sof_row(r.outcome, r.label, results[r.outcome], r.result, rated.get(r.outcome), overall)
        for r in rows
    ]
    files += write_sof(sof, out)
    section.body.append(
        html.table([s.table_row() for s in sof], numeric=["Studies (k)", "Participants"])
    )
    unrated = [r.label for r in rows if r.outcome not in rated or not rated[r.outcome].complete]
    if unrated:
        section.body.append(
            "<p class=meta>Not rated yet (reviewflow grade set OUTCOME DOMAIN=RATING…): "
            f"{escape(', '.join(unrated))}.</p>"
        )
    if (root / "certainty.toml").exists():
        section.body.append(
            "<p class=meta>certainty.toml is no longer read: the ratings live in the database "
            "(reviewflow grade set, audited).</p>"
        )
    section.body.append(f"<p class=meta>{escape(GRADE_NOTE)}</p>")
    section.files += [
        ("summary_of_findings.md", "Markdown"),
        ("summary_of_findings.csv", "CSV"),
        ("summary_of_findings.html", "HTML"),
    ]
    return section
