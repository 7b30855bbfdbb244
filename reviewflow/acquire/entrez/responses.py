"""Reading E-utilities replies: ESearch results, errors inside a 200 reply, PMIDs in an EFetch.

E-utilities report many failures with HTTP 200 and an error in the body: an ``<ERROR>`` element
(``<eSearchResult><ERROR>…``, ``<ePostResult><ERROR>…``, ``<eFetchResult><ERROR>…``) or a JSON
object ``{"error": "…"}``. :func:`body_errors` finds them; :func:`classify_error` says whether
retrying can help.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lxml import etree

from reviewflow.acquire.xml_guard import (
    SAFE,
    declared_entities,
    entity_problem,
    expansion_problem,
    is_expansion_error,
)

# Messages that retrying does not change (seen in real replies or in NCBI's documentation).
PERMANENT_ERRORS = (
    "invalid db name",
    "empty id list",
    "some ids have invalid value",
    "cannot be larger than 9998",
    "cannot retrieve history data",
    "invalid query_key",
    "unknown query_key",
    "declares xml entities",  # a reply NCBI never sends (reviewflow.acquire.xml_guard)
    "declares nested xml entities",
)
HISTORY_LOST = ("cannot retrieve history data", "invalid query_key", "unknown query_key")
CAP_REACHED = "cannot be larger than 9998"

_PARSER = etree.XMLParser(huge_tree=True, recover=False, **SAFE)


class ReplyError(Exception):
    """A reply that is not what was asked for. ``permanent`` says retrying will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent

    @property
    def history_lost(self) -> bool:
        low = str(self).lower()
        return any(p in low for p in HISTORY_LOST)

    @property
    def cap_reached(self) -> bool:
        return CAP_REACHED in str(self).lower()


def classify_error(message: str) -> bool:
    """True when an error message from E-utilities is permanent (retrying will not help)."""
    low = message.lower()
    return any(p in low for p in PERMANENT_ERRORS)


def parse_xml(body: bytes, what: str) -> etree._Element:
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        if is_expansion_error(exc.msg or ""):
            raise ReplyError(f"{what} reply {expansion_problem(exc.msg)}", permanent=True) from None
        # a truncated or garbled reply: worth retrying
        raise ReplyError(f"unreadable {what} reply ({exc.msg})") from None
    names = declared_entities(root)
    if names:
        raise ReplyError(f"{what} reply {entity_problem(names)}", permanent=True)
    return root


def body_errors(body: bytes) -> list[str]:
    """The error messages carried by a reply body (JSON ``error`` or XML ``ERROR`` elements)."""
    head = body.lstrip()[:1]
    if head == b"{":
        try:
            data = json.loads(body)
        except ValueError:
            return []
        if isinstance(data, dict):
            # only the message: a 429 body also echoes the api-key, which must never be shown
            if "error" in data:
                return [str(data["error"])]
            result = data.get("esearchresult")
            if isinstance(result, dict) and "ERROR" in result:
                return [str(result["ERROR"])]
        return []
    if b"<ERROR>" not in body and b"<ERROR " not in body:
        return []
    try:
        root = parse_xml(body, "E-utilities")
    except ReplyError:
        return []  # the reader of the reply (parse_esearch, efetch_pmids) says what is wrong
    return [" ".join((el.text or "").split()) for el in root.iter("ERROR")]


def raise_for_body(body: bytes) -> None:
    """Raise :class:`ReplyError` when the body carries an error."""
    errors = body_errors(body)
    if errors:
        message = "; ".join(e for e in errors if e) or "empty ERROR element"
        raise ReplyError(message, permanent=classify_error(message))


@dataclass
class SearchResult:
    """One ESearch reply."""

    count: int
    ids: list[str]
    translation: str = ""
    webenv: str = ""
    query_key: str = ""
    retstart: int = 0
    retmax: int = 0
    # terms PubMed did not find, and its warnings: a search strategy must not drop them silently
    not_found: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_esearch(body: bytes) -> SearchResult:
    """Read an ESearch XML reply (``eSearchResult``); an ``<ERROR>`` raises ReplyError."""
    raise_for_body(body)
    root = parse_xml(body, "ESearch")
    if root.tag != "eSearchResult":
        raise ReplyError(f"ESearch reply has root <{root.tag}>, expected <eSearchResult>")
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise ReplyError("ESearch reply has no <Count>")

    def _int(tag: str) -> int:
        text = (root.findtext(tag) or "0").strip()
        return int(text) if text.isdigit() else 0

    not_found = [
        " ".join((el.text or "").split())
        for el in root.iterfind("ErrorList/*")
        if el.tag in ("PhraseNotFound", "FieldNotFound")
    ]
    warnings = [
        f"{el.tag}: {' '.join((el.text or '').split())}"
        for el in root.iterfind("WarningList/*")
        if el.tag != "OutputMessage" or (el.text or "").strip() != "No items found."
    ]
    return SearchResult(
        count=int(count_text.strip()),
        ids=[(el.text or "").strip() for el in root.iterfind("IdList/Id")],
        translation=" ".join((root.findtext("QueryTranslation") or "").split()),
        webenv=(root.findtext("WebEnv") or "").strip(),
        query_key=(root.findtext("QueryKey") or "").strip(),
        retstart=_int("RetStart"),
        retmax=_int("RetMax"),
        not_found=not_found,
        warnings=warnings,
    )


def efetch_pmids(body: bytes) -> list[str]:
    """The PMIDs of the records in an EFetch PubMed XML reply, in order.

    Used to compare the PMIDs asked for with those received (a short batch is retried).
    ``<eFetchResult><ERROR>`` raises ReplyError.
    """
    raise_for_body(body)
    root = parse_xml(body, "EFetch")
    if root.tag == "eFetchResult":
        raise ReplyError("EFetch reply is an empty <eFetchResult>")
    if root.tag != "PubmedArticleSet":
        raise ReplyError(f"EFetch reply has root <{root.tag}>, expected <PubmedArticleSet>")
    pmids: list[str] = []
    for article in root:
        if article.tag == "PubmedArticle":
            pmid = article.findtext("MedlineCitation/PMID")
        elif article.tag == "PubmedBookArticle":
            pmid = article.findtext("BookDocument/PMID")
        else:
            continue
        if pmid:
            pmids.append(pmid.strip())
    return pmids
