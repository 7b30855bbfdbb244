"""``reviewflow grade …``: the review team's GRADE ratings of each outcome (the adjudicator
sets them; audited), which the report's summary-of-findings table shows."""

from __future__ import annotations

from typing import Any

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import InputError


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    from reviewflow.rob.grade import normalise

    out = {}
    for v in values:
        domain, sep, value = v.partition("=")
        if not sep or not domain.strip():
            raise InputError(f"grade: {what} {v!r}: write DOMAIN={what.upper()} "
                             "(for example imprecision=serious)")  # fmt: skip
        key, norm = normalise(domain, value)
        out[key] = norm if what == "rating" else value.strip()
    return out


def _outcomes(app: AppContext) -> set[str]:
    from reviewflow.extraction.forms import load_form

    forms_dir = app.workspace().forms_dir
    paths = sorted(forms_dir.glob("*.toml")) if forms_dir.is_dir() else []
    return {o.key for p in paths for o in load_form(p).outcomes}


def _shown(r: Any) -> dict[str, Any]:
    from reviewflow.rob.grade import ALLOWED

    return {
        "ratings": {d: r.values[d] for d in ALLOWED if d in r.values},
        "reasons": {d: r.reasons[d] for d in ALLOWED if d in r.reasons},
        "decided_by": {d: r.decided_by[d] for d in ALLOWED if d in r.decided_by},
        "certainty": r.certainty,
    }


@click.group("grade")
def grade() -> None:
    """GRADE certainty of evidence: the team's ratings of each outcome (adjudicator)."""


@grade.command("set")
@click.argument("outcome")
@click.argument("ratings", nargs=-1, required=True, metavar="DOMAIN=RATING…")
@click.option("--reason", "reasons", multiple=True, metavar="DOMAIN=TEXT",
              help="Why a downgrade (serious, very serious, strongly suspected) or an "
                   "upgrade; required for those.")  # fmt: skip
@pass_app
def grade_set(app: AppContext, outcome: str, ratings: tuple[str, ...],
              reasons: tuple[str, ...]) -> None:  # fmt: skip
    """Rate OUTCOME (a form's outcome key): design=randomised|observational;
    risk_of_bias, inconsistency, indirectness, imprecision = not-serious|serious|very-serious;
    publication_bias = undetected|strongly-suspected; upgrade = 0|1|2. DOMAIN= clears one.
    All are checked first: a bad one sets none. Audited."""
    from reviewflow.rob.grade import set_ratings

    store = app.as_lead()
    actor = store.identity.name if store.identity else "adjudicator"
    r = set_ratings(store, actor, outcome, _pairs(ratings, "rating"), _pairs(reasons, "reason"),
                    _outcomes(app))  # fmt: skip
    todo = "not rated yet (rate the design and all five domains)"
    click.echo(f"{outcome}: certainty {r.certainty or todo}")


@grade.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def grade_show(app: AppContext, as_json: bool) -> None:
    """Every rated outcome: its ratings, the reasons and the certainty they give."""
    from reviewflow.rob.grade import ALLOWED, LABELS, ratings

    data = {o: _shown(r) for o, r in ratings(app.as_user()).items()}
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("no outcome rated yet (reviewflow grade set OUTCOME DOMAIN=RATING…)")
    for outcome, r in data.items():
        click.echo(f"{outcome}: certainty {r['certainty'] or 'not rated yet'}")
        for d in ALLOWED:
            if d in r["ratings"]:
                why = f" — {r['reasons'][d]}" if d in r["reasons"] else ""
                click.echo(f"  {LABELS[d]}: {r['ratings'][d]}{why}")


COMMANDS = [grade]
