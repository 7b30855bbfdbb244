"""``reviewflow demo``: a complete review built offline from real data shipped with reviewflow.

1. search — the real Entrez client replays recorded PubMed EFetch replies (real records) behind
   an ESearch reply built in NCBI's documented layout;
2. import — the 393 real PubMed records of Cohen et al.'s (2006) NSAIDs review, and a second
   database's export of some of them (simulated, see ``simulate.py``);
3. dedup — finds the overlap; the few pairs it is unsure of are settled against the known origin;
4. screening — two reviewers at title/abstract and full text (simulated key presses that follow
   the original review's labels), conflicts resolved by the adjudicator;
5. extraction — a published study-level dataset (Hannum et al. 2020, olfactory loss in
   COVID-19) imported as the consensus extraction sheet;
6. report — PRISMA 2020 flow, pooled results, forest plots, search log, agreement.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from lxml import etree
from sqlmodel import col, select

from reviewflow.errors import WorkspaceError
from reviewflow.store import Store
from reviewflow.store.models import DuplicateCandidate, Record, RecordSource, SearchRun
from reviewflow.workspace import Workspace, create_workspace

from .simulate import Screeners, simulated_export

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

FORM_TOML = """# Extraction form for the demo's published dataset (Hannum et al. 2020, via metadat).
[form]
title = "Olfactory loss in COVID-19 (Hannum et al. 2020)"

[[fields]]
key = "measurement"
label = "How smell was measured"
type = "choice"
choices = ["Objective", "Subjective"]
required = true
help = "Objective testing (e.g. UPSIT) or self-report"

[[outcomes]]
key = "olfactory_loss"
label = "Olfactory loss"
kind = "binary"
"""


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


def _extract(ws: Workspace, store: Store) -> str:
    from reviewflow.extraction.forms import load_form
    from reviewflow.extraction.sheet_import import import_sheet

    # The NSAIDs reports included at full text are not turned into studies here: the extraction
    # below is a different, published dataset, and mixing the two would make the report's
    # extraction table read as if it were theirs. `reviewflow extract` creates them on demand.
    form_path = ws.forms_dir / "olfactory_loss.toml"
    form_path.write_text(FORM_TOML, encoding="utf-8")
    sheet = ws.root / "sources" / "hannum2020_extraction.csv"
    with (
        _data("hannum2020.csv").open(encoding="utf-8") as fh,
        sheet.open("w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(
            [
                "study",
                "measurement",
                "outcome.olfactory_loss.events",
                "outcome.olfactory_loss.total",
            ]
        )
        for row in csv.DictReader(fh):
            writer.writerow([row["study"], row["subgroup"], row["events"], row["total"]])
    result = import_sheet(store, load_form(form_path), sheet, ADJUDICATOR, create_studies=True)
    return (
        f"extraction: {result.values} consensus values for {result.studies} studies imported from "
        f"{sheet.name} (published counts: Hannum et al. 2020, via metadat)"
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
        lines.append(_extract(ws, store))
        say(lines[-1])
        report = _report(ws, store)
        lines.append(f"report: {report.index}")
        say(lines[-1])
    finally:
        store.dispose()
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
    "The extraction and pooled results are a different, published dataset: olfactory loss in "
    "35 COVID-19 studies (Hannum et al., Chem Senses 2020;45:865-874; metadat dat.hannum2020), "
    "imported as the consensus extraction sheet. They are not the NSAIDs studies screened above.",
)


def _report(ws: Workspace, store: Store) -> Any:
    from reviewflow.report.folder import build_report

    return build_report(store, ws, ws.root / "report", notices=NOTICES)
