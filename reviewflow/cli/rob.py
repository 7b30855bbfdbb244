"""``reviewflow rob …``: risk-of-bias assessment from the command line — the tools and their
items, a reviewer's own answers (blinded), and for the adjudicator discrepancies, agreement,
consensus and the consensus judgements."""

from __future__ import annotations

from typing import Any

import click

from reviewflow.cli.common import AppContext, echo_json, pass_app
from reviewflow.errors import InputError

TOOL_OPTION = click.option(
    "--tool", default="rob2", show_default=True, metavar="TOOL",
    help="rob2, robins-i, nos-cohort, nos-case-control or jbi-case-series.",
)  # fmt: skip
REVIEWER_OPTION = click.option("--reviewer", required=True, metavar="NAME",
                               help="The reviewer (review.toml).")  # fmt: skip
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        item, sep, value = v.partition("=")
        if not sep or not item:
            raise InputError(f"rob: {what} {v!r}: write ITEM=VALUE (for example 1.1=PY)")
        out[item.strip()] = value.strip()
    return out


def _study_id(app: AppContext, ref: str) -> tuple[int, str]:
    from reviewflow.extraction.studies import find_study, sync_studies

    sync_studies(app.store(), app.workspace().config.reviewers_per_record)
    with app.store().read() as s:
        study = find_study(s, ref)
        assert study.id is not None
        return study.id, study.label


def _evaluation(ev: Any) -> dict[str, Any]:
    return {
        "domains": {
            k: {"judgement": j.value, "source": j.source, "reason": j.reason}
            for k, j in ev.domains.items()
        },  # fmt: skip
        "overall": {
            "judgement": ev.overall.value,
            "source": ev.overall.source,
            "reason": ev.overall.reason,
        },  # fmt: skip
        "complete": ev.complete,
    }


def _print_assessment(a: Any) -> None:
    ev = a.evaluation
    click.echo(f"{a.study} — {a.tool.name}")
    for d in a.tool.domains:
        j = ev.domains[d.key]
        answers = "  ".join(f"{q.key}={a.answers.get(q.key, '·')}" for q in d.questions)
        why = f" ({j.source}: {j.reason})" if j.reason else f" ({j.source})"
        click.echo(f"  {d.key} {d.label}: {j.value or 'not yet'}{why}")
        if answers:
            click.echo(f"      {answers}")
    o = ev.overall
    click.echo(
        f"  Overall: {o.value or 'not yet'} ({o.source}{': ' + o.reason if o.reason else ''})"
    )


@click.group("rob")
def rob() -> None:
    """Risk of bias: assess included studies with a tool, blinded; discrepancies, consensus."""


@rob.command("tools")
@JSON_OPTION
def rob_tools(as_json: bool) -> None:
    """The tools, their domains, items and allowed answers."""
    from reviewflow.rob.tools import TOOLS

    data: list[dict[str, Any]] = [
        {"tool": t.key, "name": t.name, "citation": t.citation,
         "domains": [{"key": d.key, "label": d.label, "algorithm": d.judge is not None,
                      "questions": [{"key": q.key, "text": q.text, "answers": list(q.answers)}
                                    for q in d.questions],
                      "judgements": list(d.scale)} for d in t.domains],
         "overall_rule": t.overall_rule is not None, "overall": list(t.scale)}
        for t in TOOLS.values()
    ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    for t in data:
        click.echo(f"{t['tool']}: {t['name']}")
        for d in t["domains"]:
            how = "algorithm" if d["algorithm"] else "the reviewer judges"
            click.echo(f"  {d['key']} {d['label']} ({how}: {' / '.join(d['judgements'])})")
            for q in d["questions"]:
                if q["text"] != d["label"]:
                    click.echo(f"    {q['key']} {q['text']} [{'/'.join(q['answers'])}]")
        rule = "the tool's rule" if t["overall_rule"] else "the reviewers judge"
        click.echo(f"  overall ({rule}): {' / '.join(t['overall'])}")


@rob.command("assess")
@REVIEWER_OPTION
@TOOL_OPTION
@pass_app
def rob_assess(app: AppContext, reviewer: str, tool: str) -> None:
    """The assessment screen: the included studies with your progress; a study's questions
    beside its report. A number key answers the highlighted question (saved at once); the
    judgements follow by the tool's rule. You never see another reviewer's answers."""
    from reviewflow.extraction.studies import sync_studies
    from reviewflow.rob.tools import get_tool
    from reviewflow.tui.rob_app import RobApp

    if app.workspace().config.reviewer(reviewer).role == "adjudicator":
        raise InputError(f"{reviewer!r} is the adjudicator: the reviewers assess "
                         "(see reviewflow rob discrepancies)")  # fmt: skip
    get_tool(tool)
    store = app.as_reviewer(reviewer)
    per = app.workspace().config.reviewers_per_record
    sync_studies(store, per)
    RobApp(store, reviewer, tool, per, review_dir=app.workspace().root).run()


@rob.command("set")
@click.argument("study")
@click.argument("answers", nargs=-1, required=True, metavar="ITEM=VALUE…")
@REVIEWER_OPTION
@TOOL_OPTION
@click.option("--reason", "reasons", multiple=True, metavar="ITEM=TEXT",
              help="Why an override (D1=…, overall=…) departs from the tool's rule.")  # fmt: skip
@JSON_OPTION
@pass_app
def rob_set(app: AppContext, study: str, answers: tuple[str, ...], reviewer: str, tool: str,
            reasons: tuple[str, ...], as_json: bool) -> None:  # fmt: skip
    """Save the reviewer's answers for STUDY (label or #id), e.g. 1.1=PY 1.2=Y 1.3=N;
    ITEM= clears one. All are checked first: a bad one saves none."""
    from reviewflow.rob.assess import my_assessment, set_answers

    app.workspace().config.reviewer(reviewer)
    store = app.as_reviewer(reviewer)
    sid, _ = _study_id(app, study)
    set_answers(store, reviewer, sid, tool, _pairs(answers, "answer"), _pairs(reasons, "reason"))
    a = my_assessment(store, reviewer, sid, tool)
    echo_json(_evaluation(a.evaluation)) if as_json else _print_assessment(a)


@rob.command("show")
@click.argument("study")
@REVIEWER_OPTION
@TOOL_OPTION
@JSON_OPTION
@pass_app
def rob_show(app: AppContext, study: str, reviewer: str, tool: str, as_json: bool) -> None:
    """The reviewer's own answers and judgements for STUDY."""
    from reviewflow.rob.assess import my_assessment

    app.workspace().config.reviewer(reviewer)
    store = app.as_reviewer(reviewer)
    sid, _ = _study_id(app, study)
    a = my_assessment(store, reviewer, sid, tool)
    if as_json:
        echo_json({"study": a.study, "tool": a.tool.key, "answers": a.answers,
                   "reasons": a.reasons, **_evaluation(a.evaluation)})  # fmt: skip
    else:
        _print_assessment(a)


@rob.command("progress")
@REVIEWER_OPTION
@TOOL_OPTION
@JSON_OPTION
@pass_app
def rob_progress(app: AppContext, reviewer: str, tool: str, as_json: bool) -> None:
    """The reviewer's own progress: each included study, assessed completely or not."""
    from reviewflow.extraction.studies import list_studies, sync_studies
    from reviewflow.rob.assess import my_progress

    app.workspace().config.reviewer(reviewer)
    store = app.as_reviewer(reviewer)
    per = app.workspace().config.reviewers_per_record
    sync_studies(store, per)
    rows = my_progress(store, reviewer, [s.id for s in list_studies(store, per)], tool)
    data: list[dict[str, Any]] = [
        {"study": a.study, "answered": len(a.answers), "complete": a.evaluation.complete,
         "overall": a.evaluation.overall.value}
        for a in rows
    ]  # fmt: skip
    if as_json:
        echo_json(data)
        return
    for r in data:
        state = f"done: {r['overall']}" if r["complete"] else f"{r['answered']} answers"
        click.echo(f"  {r['study']}: {state}")
    done = sum(1 for r in data if r["complete"])
    click.echo(f"{done} of {len(data)} studies assessed")


@rob.command("discrepancies")
@TOOL_OPTION
@JSON_OPTION
@pass_app
def rob_discrepancies(app: AppContext, tool: str, as_json: bool) -> None:
    """Every item where the reviewers' complete assessments differ (adjudicator)."""
    from reviewflow.rob.assess import discrepancies

    found = discrepancies(app.as_lead(), tool)
    if as_json:
        echo_json([vars(d) for d in found])
        return
    for d in found:
        values = ", ".join(f"{who}: {v or '·'}" for who, v in d.values.items())
        agreed = f" → consensus {d.consensus}" if d.consensus else ""
        click.echo(f"  {d.study} {d.item}: {values}{agreed}")
    click.echo(f"{len(found)} discrepancies")


@rob.command("agree")
@TOOL_OPTION
@pass_app
def rob_agree(app: AppContext, tool: str) -> None:
    """Answers on which the reviewers agree become consensus (adjudicator; audited)."""
    from reviewflow.rob.assess import agree

    store = app.as_lead()
    n = agree(store, store.identity.name if store.identity else "adjudicator", tool)
    click.echo(f"{n} answers where the reviewers agree became consensus")


@rob.command("consensus")
@click.argument("study")
@click.argument("answers", nargs=-1, required=True, metavar="ITEM=VALUE…")
@TOOL_OPTION
@click.option("--reason", "reasons", multiple=True, metavar="ITEM=TEXT",
              help="Why an override departs from the tool's rule.")  # fmt: skip
@pass_app
def rob_consensus(app: AppContext, study: str, answers: tuple[str, ...], tool: str,
                  reasons: tuple[str, ...]) -> None:  # fmt: skip
    """Set consensus answers for STUDY (adjudicator; audited)."""
    from reviewflow.rob.assess import set_consensus

    store = app.as_lead()
    actor = store.identity.name if store.identity else "adjudicator"
    sid, label = _study_id(app, study)
    why = _pairs(reasons, "reason")
    ev = None
    for item, value in _pairs(answers, "answer").items():
        ev = set_consensus(store, actor, sid, tool, item, value, why.get(item, ""))
    assert ev is not None
    click.echo(f"{label}: consensus overall {ev.overall.value or 'not yet'}")


@rob.command("summary")
@JSON_OPTION
@pass_app
def rob_summary(app: AppContext, as_json: bool) -> None:
    """The consensus judgements of every assessed study, per tool."""
    from reviewflow.rob.report import consensus_judgements

    data = consensus_judgements(app.as_user())
    if as_json:
        echo_json(data)
        return
    for tool, studies in data.items():
        click.echo(f"{tool}:")
        for study, js in studies.items():
            click.echo(f"  {study}: " + "  ".join(f"{k}={v or '·'}" for k, v in js.items()))


COMMANDS = [rob]
