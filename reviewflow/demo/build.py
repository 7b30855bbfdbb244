"""``reviewflow demo``: a complete review built offline from real data shipped with reviewflow.

1. search — the real Entrez client replays recorded PubMed EFetch replies (real records) behind
   an ESearch reply built in NCBI's documented layout;
2. import — the 393 real PubMed records of Cohen et al.'s (2006) NSAIDs review, and a second
   database's export of some of them (simulated, see ``simulate.py``);
3. dedup — finds the overlap; the few pairs it is unsure of are settled against the known origin;
4. screening — two reviewers at title/abstract and full text (simulated key presses that follow
   the original review's labels), conflicts resolved by the adjudicator;
5. studies — each included report linked to a study;
6. report — PRISMA 2020 flow, search log, agreement, included studies.

Beside the review, ``pooling-example/`` pools a published study-level dataset (Hannum et al.
2020, olfactory loss in COVID-19) on its own: it is not the NSAIDs review, and says so.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from lxml import etree
from sqlmodel import col, select

from reviewflow.errors import WorkspaceError
from reviewflow.store import Store
from reviewflow.store.models import DuplicateCandidate, Record, RecordSource, SearchRun, Study
from reviewflow.workspace import Workspace, create_workspace

from .simulate import RobAssessors, Screeners, simulated_export

REVIEWERS = ("reviewer1", "reviewer2")
ADJUDICATOR = "adjudicator"
QUERY_NAME = "recorded_pubmed"
NSAIDS_SOURCE = "PubMed export (Cohen et al. 2006)"
EXPORT_SOURCE = "Embase (simulated)"
SETTLED = "simulated: settled with the original review's label"

REVIEW_TOML = """# The reviewflow demonstration review. Built by `reviewflow demo` from real, published data;
# the reviewers' decisions are SIMULATED (see the report's "About this demo").

[review]
title = "Demo: NSAIDs drug-class review (records and labels from Cohen et al. 2006)"
question = "Which studies compare the efficacy or harms of non-steroidal anti-inflammatory drugs?"

[eligibility]
include = ["Controlled studies comparing NSAIDs (or an NSAID with placebo)", "Efficacy or adverse-event outcomes"]
exclude = ["Animal studies", "Narrative reviews, editorials, letters", "No NSAID comparison"]

[highlight]
include = ["NSAID", "nonsteroidal", "anti-inflammatory", "celecoxib", "rofecoxib", "naproxen",
           "ibuprofen", "diclofenac", "randomized", "double-blind"]
exclude = ["rats", "mice", "in vitro", "review", "editorial", "case report"]

[screening]
reviewers_per_record = 2
fulltext_exclusion_reasons = [
    "Wrong population",
    "Wrong intervention or comparator",
    "No outcome of interest",
    "Wrong study design",
    "Duplicate report of an included study",
]

[[reviewers]]
name = "reviewer1"
role = "reviewer"

[[reviewers]]
name = "reviewer2"
role = "reviewer"

[[reviewers]]
name = "adjudicator"
role = "adjudicator"

[[reviewers]]
name = "you"
role = "reviewer"

[contact]
email = "demo@reviewflow.invalid"
"""

QUERY_TOML = '''name = "recorded_pubmed"
database = "pubmed"
query = "reviewflow demo replay"
notes = """The demo replays recorded real PubMed EFetch replies (Biopython's and metapub's test
recordings: real records, from other searches) through the real Entrez client. The ESearch reply
listing their PMIDs is built in NCBI's documented layout. With the network, a real strategy
runs the same way: see queries/ in the reviewflow repository."""
'''


@dataclass
class DemoSummary:
    root: Path
    report_dir: Path
    lines: list[str]


def _data(name: str) -> Path:
    with as_file(files("reviewflow.demo").joinpath("data", name)) as path:
        return Path(path)


def _replay_session(folder: Path, query: str) -> tuple[Path, int]:
    """Write a replayable ESearch + EFetch session over the shipped recorded EFetch replies."""
    articles: list[etree._Element] = []
    for path in sorted(_data("pubmed").glob("*.xml")):
        root = etree.parse(
            str(path), etree.XMLParser(resolve_entities=False, no_network=True)
        ).getroot()
        articles.extend(root)
    pmids = [a.findtext(".//PMID") or "" for a in articles]
    fetch = etree.Element("PubmedArticleSet")
    fetch.extend(articles)
    (folder / "002-efetch.xml").write_bytes(
        etree.tostring(fetch, xml_declaration=True, encoding="UTF-8")
    )
    ids = "".join(f"<Id>{p}</Id>" for p in pmids)
    esearch = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult>'
        f"<Count>{len(pmids)}</Count><RetMax>{len(pmids)}</RetMax><RetStart>0</RetStart>"
        "<QueryKey>1</QueryKey><WebEnv>MCID_reviewflow_demo</WebEnv>"
        f"<IdList>{ids}</IdList><TranslationSet/>"
        f"<QueryTranslation>{query}[All Fields]</QueryTranslation></eSearchResult>"
    )
    (folder / "001-esearch.xml").write_text(esearch, encoding="utf-8")
    session = {"exchanges": [
        {"method": "GET", "endpoint": "esearch", "params": {"db": "pubmed"}, "body": "001-esearch.xml",
         "note": "BUILT in NCBI's ESearch layout, listing the PMIDs of the recorded replies"},
        {"method": "GET", "endpoint": "efetch", "params": {"db": "pubmed"}, "body": "002-efetch.xml",
         "note": "recorded EFetch records (Biopython and metapub test recordings), in one reply"},
    ]}  # fmt: skip
    (folder / "session.json").write_text(json.dumps(session, indent=1), encoding="utf-8")
    return folder / "session.json", len(pmids)


def _search(ws: Workspace, store: Store) -> str:
    from reviewflow.acquire.entrez.transport import ReplayTransport
    from reviewflow.acquire.pubmed import Contact, PubMedClient
    from reviewflow.acquire.search import run_search
    from reviewflow.acquire.strategy import load_query

    (ws.queries_dir / f"{QUERY_NAME}.toml").write_text(QUERY_TOML, encoding="utf-8")
    saved = load_query(ws.queries_dir / f"{QUERY_NAME}.toml")
    with tempfile.TemporaryDirectory() as tmp:
        session, n = _replay_session(Path(tmp), saved.query)
        client = PubMedClient(Contact(email=ws.config.email), ReplayTransport.load(session))
        run_search(store, saved, client)
    return f"search: {n} PubMed records through the Entrez client (recorded replies replayed)"


def _import(ws: Workspace, store: Store) -> tuple[list[str], dict[str, str]]:
    from reviewflow.acquire.importer import import_file
    from reviewflow.acquire.readers import read_file

    nsaids = ws.root / "sources" / "nsaids_cohen2006.csv"
    nsaids.parent.mkdir(exist_ok=True)
    shutil.copyfile(_data("nsaids_cohen2006.csv"), nsaids)
    first = import_file(store, nsaids, source=NSAIDS_SOURCE)
    ris_text, origin = simulated_export(read_file(nsaids))
    ris = ws.root / "sources" / "embase_simulated.ris"
    ris.write_text(ris_text, encoding="utf-8")
    second = import_file(store, ris, source=EXPORT_SOURCE)
    return [
        f"import: {first.added} records from {nsaids.name} ({NSAIDS_SOURCE})",
        f"import: {second.added} records from {ris.name} (a SIMULATED second database's export)",
    ], origin


def _dedup(store: Store, origin: dict[str, str]) -> str:
    from reviewflow.dedup import review as dedup

    summary = dedup.run(store, actor="system")
    with store.read() as s:
        rows = s.execute(
            select(Record.id, Record.pmid, RecordSource.source_key, SearchRun.source)
            .join(RecordSource, col(RecordSource.record_id) == col(Record.id))
            .join(SearchRun, col(SearchRun.id) == col(RecordSource.run_id))
        ).all()
        pairs = s.exec(
            select(
                DuplicateCandidate.id,
                DuplicateCandidate.record_a_id,
                DuplicateCandidate.record_b_id,
            ).where(DuplicateCandidate.status == "maybe")
        ).all()
    pmid_of = {
        rid: (origin.get(key, "") if source == EXPORT_SOURCE else pmid)
        for rid, pmid, key, source in rows
    }
    for candidate_id, a, b in pairs:
        same = pmid_of.get(a) == pmid_of.get(b) != ""
        assert candidate_id is not None
        dedup.decide(store, candidate_id, "duplicate" if same else "distinct", "simulated")
    with store.read() as s:
        removed = dedup.duplicates_removed(s)
    return (
        f"dedup: {summary.links_added} duplicates found automatically; {len(pairs)} uncertain "
        f"pairs settled (SIMULATED: against the export's known origin); {removed} removed in all"
    )


def _labels(store: Store) -> dict[int, dict[str, str]]:
    with store.read() as s:
        rows = s.exec(select(Record.id, Record.extra)).all()
    return {rid: (extra or {}).get("columns", {}) for rid, extra in rows if rid is not None}


def _screen(ws: Workspace, store: Store) -> list[str]:
    from reviewflow.screening import flow
    from reviewflow.screening.conflicts import resolve
    from reviewflow.screening.decisions import ScreeningRules, decide, set_retrieval

    rules = ScreeningRules.from_config(ws.config)
    screeners = Screeners(ws.config.exclusion_reasons)
    labels = _labels(store)
    with store.read() as s:
        ta_ids = flow.title_abstract_ids(s)
    for rid in ta_ids:
        keys = screeners.title_abstract(labels[rid].get("label_abstract_screening"))
        decide(store, REVIEWERS[0], rid, flow.TITLE_ABSTRACT, keys.reviewer1, rules=rules)
        decide(store, REVIEWERS[1], rid, flow.TITLE_ABSTRACT, keys.reviewer2, rules=rules)
        if keys.reviewer1 != keys.reviewer2:
            resolve(store, ADJUDICATOR, rid, flow.TITLE_ABSTRACT, keys.final, SETTLED, rules=rules)
    with store.read() as s:
        sought = flow.review_flow(s, rules.reviewers_per_record).sought
    missing = screeners.not_retrieved(sought)
    for rid in missing:
        set_retrieval(store, ADJUDICATOR, rid, retrieved=False, note="simulated: not retrieved")
    for rid in sought:
        if rid in missing:
            continue
        keys = screeners.full_text(labels[rid].get("label_included"))
        decide(store, REVIEWERS[0], rid, flow.FULL_TEXT, keys.reviewer1, keys.reason1, rules=rules)
        decide(store, REVIEWERS[1], rid, flow.FULL_TEXT, keys.reviewer2, keys.reason2, rules=rules)
        if (keys.reviewer1, keys.reason1) != (keys.reviewer2, keys.reason2):
            resolve(store, ADJUDICATOR, rid, flow.FULL_TEXT, keys.final, keys.reason1 or SETTLED,
                    SETTLED, rules=rules)  # fmt: skip
    with store.read() as s:
        f = flow.review_flow(s, rules.reviewers_per_record)
    return [
        f"screening: {len(ta_ids)} records screened by two reviewers (SIMULATED decisions); "
        f"{len(f.title_abstract.resolved)} title/abstract conflicts resolved",
        f"full text: {len(sought)} reports sought, {len(missing)} not retrieved, "
        f"{f.full_text.count(flow.INCLUDE)} included",
    ]


def _studies(ws: Workspace, store: Store) -> str:
    from reviewflow.extraction.studies import sync_studies

    created = sync_studies(store, ws.config.reviewers_per_record, actor=ADJUDICATOR)
    return f"studies: each of the {len(created)} included reports linked to a study of its own"


def _risk_of_bias(store: Store) -> str:
    """Both reviewers answer RoB 2 for every included study (SIMULATED), blinded from each
    other; the agreed answers become consensus; the adjudicator settles the rest."""
    from reviewflow.rob import assess
    from reviewflow.rob.tools import ROB2

    with store.read() as s:
        study_ids = [sid for sid in s.exec(select(Study.id).order_by(col(Study.id))).all()]
    questions = [(q.key, q.answers) for d in ROB2.domains for q in d.questions]
    assessors = RobAssessors()
    for sid in study_ids:
        assert sid is not None
        first, second = assessors.assess(questions)
        for who, answers in zip(REVIEWERS, (first, second), strict=True):
            assess.set_answers(store, who, sid, ROB2.key, answers)
    agreed = assess.agree(store, ADJUDICATOR, ROB2.key)
    settled = assess.discrepancies(store, ROB2.key)
    for d in settled:
        assess.set_consensus(store, ADJUDICATOR, d.study_id, ROB2.key, d.item,
                             d.values[REVIEWERS[0]])  # fmt: skip
    overall = [a.evaluation.overall.value for a in assess.consensus(store, ROB2.key).values()]
    counts = ", ".join(f"{overall.count(j)} {j}" for j in ROB2.scale)
    return (
        f"risk of bias: RoB 2 for {len(study_ids)} studies by two reviewers (SIMULATED answers); "
        f"{agreed} answers agreed, {len(settled)} settled by the adjudicator; overall: {counts}"
    )


POOLING_README = """# Pooling example (NOT the demo review)

A published study-level dataset pooled with reviewflow: olfactory loss in 35 COVID-19 studies
(Hannum ME et al., Chem Senses 2020;45(9):865-874; R package metadat, `dat.hannum2020`).
It is not the NSAIDs review in the folder above: those records carry no outcome data offline,
so nothing was extracted or pooled there. The counts here are the published ones, unchanged.

    reviewflow pool hannum2020.csv --events events --total total --subgroup subgroup

Pooled (random effects, REML, logit scale; the same as metafor): {result}.
Open `index.html`: the pooled result, the forest plot and the GRADE summary-of-findings table.
Files: `pooled_results.md`, `forest_olfactory_loss.svg`, and `summary_of_findings.md/.csv/.html`:
the GRADE table's numbers (k, participants, I², the CI, Egger's test). Its ratings say "not
rated": GRADE ratings are reviewers' judgements, and this example has no reviewers (and no
risk-of-bias assessment). In a review the adjudicator sets them with `reviewflow grade set`
(audited; see `reviewflow/rob/grade.py`).
"""
POOLING_NOTICES = (
    "NOT the demo review: a published dataset (olfactory loss in 35 COVID-19 studies, Hannum "
    "et al., Chem Senses 2020;45:865-874; metadat dat.hannum2020) pooled on its own, to show "
    "pooling and the summary of findings. The counts are the published ones, unchanged.",
    "Every GRADE rating is 'not rated': ratings are reviewers' judgements, this example has no "
    "reviewers, and reviewflow does not invent them. The numbers in brackets are computed.",
)


def _pooling_page(row: Any, sof: Any) -> str:
    from reviewflow.report import html
    from reviewflow.rob.grade import GRADE_NOTE

    pooled = html.Section("pooled", "Pooled result")
    pooled.body.append(
        f"<p>{escape(row.measure_label)}: {escape(row.result)}, k = {row.k}, "
        f"{row.patients:,} patients (random effects, REML, logit scale)</p>"
        f'<img class="forest" src="{escape(row.forest_plot, quote=True)}" '
        f'alt="Forest plot: {escape(row.label, quote=True)}">'
    )
    pooled.files += [("pooled_results.md", "Markdown"), ("hannum2020.csv", "the data"),
                     (row.forest_plot, "forest plot")]  # fmt: skip
    certainty = html.Section("certainty", "Certainty of evidence (GRADE summary of findings)")
    certainty.body += [
        html.table([sof.table_row()], numeric=["Studies (k)", "Participants"]),
        f"<p class=meta>{escape(GRADE_NOTE)}</p>",
    ]
    certainty.files += [(f"summary_of_findings.{x}", x.upper() if x != "md" else "Markdown")
                        for x in ("md", "csv", "html")]  # fmt: skip
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return html.page("Pooling example (not the demo review)", generated, "hannum2020.csv",
                     POOLING_NOTICES, [pooled, certainty])  # fmt: skip


def _pooling_example(root: Path) -> str:
    """The published dataset pooled on its own, in its own folder beside the review, with its
    own page (index.html): the pooled result, the forest plot, the summary of findings."""
    import pandas as pd

    from reviewflow.pooling.analysis import pool
    from reviewflow.pooling.forest import forest_plot
    from reviewflow.report.tables import pooled_row, to_markdown
    from reviewflow.rob.grade import sof_row, write_sof

    folder = root / "pooling-example"
    folder.mkdir()
    sheet = folder / "hannum2020.csv"
    shutil.copyfile(_data("hannum2020.csv"), sheet)
    result = pool(pd.read_csv(sheet), source=sheet.name)
    forest_plot(result, folder / "forest_olfactory_loss.svg", title="Olfactory loss")
    row = pooled_row("olfactory_loss", "Olfactory loss", result, "forest_olfactory_loss.svg", "")
    (folder / "pooled_results.md").write_text(to_markdown([row.table_row()]), encoding="utf-8")
    # the GRADE table's numbers; the ratings are reviewers' judgements, and nobody rated these
    sof = sof_row(row.outcome, row.label, result, row.result, None, {})
    write_sof([sof], folder)
    (folder / "index.html").write_text(_pooling_page(row, sof), encoding="utf-8")
    (folder / "README.md").write_text(POOLING_README.format(result=row.result), encoding="utf-8")
    return (
        f"pooling example (published data, NOT this review): {result.k} COVID-19 studies of "
        f"Hannum et al. 2020 pooled, {row.result}, with its forest plot and GRADE summary of "
        f"findings (ratings: not rated), in {folder.name}/index.html"
    )


def build_demo(root: Path, say: Callable[[str], None] = print) -> DemoSummary:
    """Build the demonstration review in ``root`` (a new or empty folder)."""
    root = root.resolve()
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root} is not empty: give 'reviewflow demo' a new folder")
    ws, store = create_workspace(root, review_toml=REVIEW_TOML, copy_forms=False)
    lines: list[str] = []
    try:
        lines.append(_search(ws, store))
        say(lines[-1])
        imported, origin = _import(ws, store)
        lines += imported
        for line in imported:
            say(line)
        lines.append(_dedup(store, origin))
        say(lines[-1])
        for line in _screen(ws, store):
            lines.append(line)
            say(line)
        lines.append(_studies(ws, store))
        say(lines[-1])
        lines.append(_risk_of_bias(store))
        say(lines[-1])
        report = _report(ws, store)
        lines.append(f"report: {report.index}")
        say(lines[-1])
    finally:
        store.dispose()
    lines.append(_pooling_example(root))
    say(lines[-1])
    return DemoSummary(root, report.index.parent, lines)


NOTICES = (
    "This is reviewflow's demonstration review, built offline by 'reviewflow demo'.",
    "Records are real: 35 PubMed records replayed through the Entrez client from recorded "
    "E-utilities replies (Biopython's and metapub's test recordings, from other searches), and "
    "the 393 PubMed records of Cohen et al.'s (2006) NSAIDs drug-class review.",
    "SIMULATED: the 'Embase' export (15% of those records re-formatted as another database "
    "would), and every screening decision: reviewer 1 follows the original review's published "
    "labels, reviewer 2 differs on a seeded few, the adjudicator settles conflicts with the "
    "original label; full-text exclusion reasons and two unretrieved reports are seeded choices.",
    "SIMULATED: the risk-of-bias assessments. Both reviewers' RoB 2 answers for the included "
    "studies are seeded draws (reviewflow/demo/simulate.py), not an appraisal of these trials; "
    "the judgements follow from them by the RoB 2 algorithm.",
    "Nothing is extracted or pooled in this review: the NSAIDs records carry no outcome data "
    "offline. A separate pooling example on a published dataset (olfactory loss in 35 COVID-19 "
    "studies, Hannum et al., Chem Senses 2020;45:865-874; metadat dat.hannum2020), with its "
    "forest plot and GRADE summary-of-findings table (ratings: not rated), is "
    "pooling-example/index.html in the review's folder; it is not this review.",
)


def _report(ws: Workspace, store: Store) -> Any:
    from reviewflow.report.folder import build_report

    return build_report(store, ws, ws.root / "report", notices=NOTICES)
