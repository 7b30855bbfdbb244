"""Risk-of-bias figures in the manner of robvis (McGuinness & Higgins 2021): a traffic-light
plot (a row per study, a coloured symbol per domain and overall) and a summary bar plot (per
domain, the share of studies, or of weight, at each judgement). SVG, PNG or PDF by suffix."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from reviewflow.errors import InputError
from reviewflow.rob.tools import (
    CRITICAL,
    HIGH,
    LOW,
    MODERATE,
    NO_INFO,
    OVERALL,
    SERIOUS,
    SOME,
    Tool,
)

# robvis's colours and symbols
COLOUR = {LOW: "#02C100", SOME: "#E2DF07", MODERATE: "#E2DF07", HIGH: "#BF0000",
          SERIOUS: "#BF0000", CRITICAL: "#820000", NO_INFO: "#4EA1F7"}  # fmt: skip
SYMBOL = {LOW: "+", SOME: "–", MODERATE: "–", HIGH: "×", SERIOUS: "×", CRITICAL: "!",
          NO_INFO: "?"}  # fmt: skip
NOT_YET = "#d9d9d9"


def _columns(tool: Tool) -> list[tuple[str, str]]:
    return [(d.key, d.label) for d in tool.domains] + [(OVERALL, "Overall")]


def _save(fig: object, path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".pdf"):
        raise InputError(f"{path}: the plot must be .svg, .png or .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {".svg": {"Date": None}, ".pdf": {"CreationDate": None}}.get(suffix, {})
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
            fig.savefig(path, dpi=200, metadata=meta, bbox_inches="tight")  # type: ignore[attr-defined]
    except OSError as exc:
        raise InputError(f"{path}: cannot write the plot ({exc.strerror})") from None
    finally:
        plt.close(fig)  # type: ignore[arg-type]
    return path


def traffic_light(
    tool: Tool, judgements: Mapping[str, Mapping[str, str | None]], path: Path
) -> Path:
    """``judgements``: study label → domain key (and ``"overall"``) → judgement (None: not yet)."""
    cols = _columns(tool)
    studies = list(judgements)
    width = 2.2 + 0.55 * len(cols)
    height = 1.2 + 0.32 * len(studies) + 0.18 * len(cols)
    fig, ax = plt.subplots(figsize=(width, height))
    fig.subplots_adjust(top=1 - 0.75 / height, bottom=0.5 / height)  # margins in inches
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(studies) - 0.5, -1.2)
    ax.axis("off")
    for x, (key, _) in enumerate(cols):
        ax.text(x, -0.9, "Overall" if key == OVERALL else key, ha="center", va="center",
                fontsize=8, fontweight="bold")  # fmt: skip
    for y, study in enumerate(studies):
        ax.text(-0.7, y, study, ha="right", va="center", fontsize=8)
        for x, (key, _) in enumerate(cols):
            value = judgements[study].get(key)
            ax.scatter([x], [y], s=150, color=COLOUR.get(value or "", NOT_YET), zorder=2)
            ax.text(x, y, SYMBOL.get(value or "", ""), ha="center", va="center", fontsize=8,
                    color="black", zorder=3)  # fmt: skip
    legend = "  ".join(f"{k}: {label}" for k, label in cols if k != OVERALL)
    fig.text(0.02, 0.01, legend, fontsize=6.5, wrap=True, va="bottom")
    used = sorted({v for j in judgements.values() for v in j.values() if v},
                  key=lambda v: tool.scale.index(v) if v in tool.scale else 99)  # fmt: skip
    fig.legend(handles=[Patch(color=COLOUR[v], label=f"{SYMBOL[v]} {v}") for v in used],
               loc="upper right", fontsize=7, frameon=False, title=tool.name,
               title_fontsize=7)  # fmt: skip
    return _save(fig, path)


def summary_bars(
    tool: Tool,
    judgements: Mapping[str, Mapping[str, str | None]],
    path: Path,
    weights: Mapping[str, float] | None = None,
) -> Path:
    """Per domain and overall, the share of studies (or of ``weights``) at each judgement."""
    cols = _columns(tool)
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.38 * len(cols)))
    scale = list(tool.scale)
    for y, (key, label) in enumerate(reversed(cols)):
        total = 0.0
        share: dict[str, float] = dict.fromkeys(scale, 0.0)
        for study, js in judgements.items():
            value = js.get(key)
            if value is None:
                continue
            w = 1.0 if weights is None else float(weights.get(study, 0.0))
            share[value] = share.get(value, 0.0) + w
            total += w
        left = 0.0
        for value in scale:
            if total and share[value]:
                part = 100 * share[value] / total
                ax.barh(y, part, left=left, color=COLOUR[value], edgecolor="white")
                left += part
        ax.text(-1, y, "Overall risk of bias" if key == OVERALL else label, ha="right",
                va="center", fontsize=8, fontweight="bold" if key == OVERALL else "normal")  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    ax.set_xlabel("% of studies" if weights is None else "% of weight", fontsize=8)
    ax.tick_params(labelsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.legend(handles=[Patch(color=COLOUR[v], label=v) for v in scale], ncol=len(scale),
              loc="upper center", bbox_to_anchor=(0.5, -0.25), fontsize=7, frameon=False)  # fmt: skip
    return _save(fig, path)


def judgement_table(
    tool: Tool, judgements: Mapping[str, Mapping[str, str | None]]
) -> list[dict[str, str]]:
    """The rows of the risk-of-bias table: study, each domain, overall."""
    return [
        {"Study": study}
        | {
            ("Overall" if key == OVERALL else f"{key} {label}"): (js.get(key) or "not yet")
            for key, label in _columns(tool)
        }
        for study, js in judgements.items()
    ]
