"""XML attacks on every path that parses XML from outside: ``import`` (plain, gzip, the worker
processes that parse big files in parts), standalone ``dedup``, and the E-utilities replies of a
search (ESearch, EFetch PMIDs, EFetch records).

Each attack is a real efetch reply (tests/data/entrez/efetch_pubmed1.xml) with a DOCTYPE
added: an external entity naming a local file, one naming a URL, a parameter entity pulling an
external DTD, a billion-laughs bomb, a quadratic blow-up. A web server on the loopback interface
counts requests: nothing may be fetched, not even the public DTD a real file names. Every attack
must be one error naming the file (or the reply), the secret file's text must appear nowhere,
and the review database must be as it was.
"""

from __future__ import annotations

import gzip
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from reviewflow.acquire.entrez.responses import (
    ReplyError,
    body_errors,
    efetch_pmids,
    parse_esearch,
)
from reviewflow.acquire.readers.worker import PubmedXmlInWorker
from reviewflow.acquire.search import _records
from reviewflow.errors import InputError, NetworkError
from reviewflow.store import open_store
from reviewflow.store.models import Record, SearchRun
from reviewflow.workspace import Workspace
from tests.conftest import run_cli

ENTREZ = Path(__file__).parents[1] / "data" / "entrez"
REAL = (ENTREZ / "efetch_pubmed1.xml").read_bytes()
PMIDS = ["12091962", "9997"]
DOCTYPE = (
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)
TITLE = b"<ArticleTitle>The treatment of AIDS"
SECRET = "TOP-SECRET-7f3a"


class Server:
    """A web server on 127.0.0.1 that answers anything with a DTD and counts what it is asked."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(f'<!ENTITY leak "{SECRET}">'.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.httpd.shutdown()


def _lol() -> bytes:
    decls = b'<!ENTITY a "' + b"lol" * 10 + b'">'
    for i in range(1, 10):
        decls += b'<!ENTITY %s "%s">' % (bytes([97 + i]), b"&%s;" % bytes([96 + i]) * 10)
    return decls


def attacks(server: Server, secret: Path) -> dict[str, tuple[bytes, bytes]]:
    """name → (internal DTD subset, what replaces the start of the first title)."""
    return {
        "file entity": (b'<!ENTITY x SYSTEM "%s">' % secret.as_uri().encode(), b"&x;"),
        "network entity": (b'<!ENTITY x SYSTEM "%s/x">' % server.url.encode(), b"&x;"),
        "parameter entity": (
            b'<!ENTITY %% p SYSTEM "%s/p.dtd"> %%p;' % server.url.encode(),
            b"&leak;",
        ),  # fmt: skip
        "billion laughs": (_lol(), b"&j;"),
        "quadratic blow-up": (b'<!ENTITY q "' + b"Q" * 50_000 + b'">', b"&q;" * 2000),
    }


NAMES = ["file entity", "network entity", "parameter entity", "billion laughs",
         "quadratic blow-up"]  # fmt: skip


def hostile(server: Server, tmp_path: Path, name: str) -> bytes:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    subset, ref = attacks(server, secret)[name]
    doctype = b"<!DOCTYPE PubmedArticleSet [" + subset + b"]>"
    body = REAL.replace(DOCTYPE, doctype).replace(TITLE, b"<ArticleTitle>" + ref + TITLE[14:])
    assert body != REAL and doctype in body
    return body


def _assert_refused(message: str, server: Server, where: str) -> None:
    assert where in message, message
    assert "entities" in message, message
    assert SECRET not in message and "\n" not in message.strip()
    assert server.paths == [], server.paths


def _counts(ws: Workspace) -> tuple[int, int]:
    store = open_store(ws.database_url())
    try:
        with store.read() as s:
            return (
                s.execute(select(func.count()).select_from(Record)).scalar_one(),
                s.execute(select(func.count()).select_from(SearchRun)).scalar_one(),
            )
    finally:
        store.dispose()


def test_a_real_file_naming_a_dtd_url_is_read_without_fetching_it(
    server: Server, tmp_path: Path, sqlite_workspace: Workspace
) -> None:
    """The DOCTYPE of a real file names NCBI's DTD by URL: it is never fetched."""
    path = tmp_path / "real.xml"
    path.write_bytes(REAL.replace(b"https://dtd.nlm.nih.gov", server.url.encode()))
    code, _out, err = run_cli("import", str(path), "--source", "PubMed",
                              cwd=sqlite_workspace.root)  # fmt: skip
    assert code == 0, err
    assert _counts(sqlite_workspace) == (2, 1) and server.paths == []


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name", NAMES)
def test_import_refuses_the_attack(
    server: Server, tmp_path: Path, sqlite_workspace: Workspace, name: str, gz: bool
) -> None:
    path = tmp_path / ("attack.xml.gz" if gz else "attack.xml")
    body = hostile(server, tmp_path, name)
    path.write_bytes(gzip.compress(body) if gz else body)
    before = _counts(sqlite_workspace)
    code, out, err = run_cli("import", str(path), "--source", "PubMed", "--format", "pubmed-xml",
                             cwd=sqlite_workspace.root)  # fmt: skip
    assert code == 1
    _assert_refused(err, server, path.name)
    assert SECRET not in out
    assert _counts(sqlite_workspace) == before


@pytest.mark.parametrize("name", NAMES)
def test_the_worker_processes_refuse_the_attack(server: Server, tmp_path: Path, name: str) -> None:
    """Big files are parsed in two worker processes, cut at a record start: the second part has
    no DOCTYPE, the re-read of the whole file names the attack."""
    path = tmp_path / "big attack.xml"
    articles = REAL.split(b"<PubmedArticleSet>", 1)[1].split(b"</PubmedArticleSet>")[0]
    end = b"</PubmedArticleSet>"
    path.write_bytes(hostile(server, tmp_path, name).replace(end, articles * 4 + end))
    records = []
    with pytest.raises(InputError) as exc, PubmedXmlInWorker(path, processes=2) as chunks:
        assert chunks.split  # really cut in two
        for chunk in chunks:
            records += chunk
    _assert_refused(exc.value.message, server, path.name)
    assert all(SECRET not in r.title for r in records)


@pytest.mark.parametrize("name", NAMES)
def test_standalone_dedup_refuses_the_attack(server: Server, tmp_path: Path, name: str) -> None:
    path = tmp_path / "attack.xml"
    path.write_bytes(hostile(server, tmp_path, name))
    out = tmp_path / "groups.csv"
    code, _out, err = run_cli("dedup", str(path), "--out", str(out))
    assert code == 1 and not out.exists()
    _assert_refused(err, server, path.name)


@pytest.mark.parametrize("name", NAMES)
def test_entrez_replies_refuse_the_attack(server: Server, tmp_path: Path, name: str) -> None:
    body = hostile(server, tmp_path, name)
    with pytest.raises(ReplyError) as exc:
        efetch_pmids(body)
    assert exc.value.permanent  # not retried: NCBI never sends this
    _assert_refused(str(exc.value), server, "EFetch reply")
    with pytest.raises(NetworkError) as net:
        _records([body], set(PMIDS))
    _assert_refused(net.value.message, server, "efetch reply")

    esearch = (ENTREZ / "esearch1.xml").read_bytes()
    subset = body.split(b"[", 1)[1].split(b"]>", 1)[0]
    head, rest = esearch.split(b"<eSearchResult>", 1)
    attack = (b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult [' + subset
              + b"]>\n<eSearchResult><ERROR>" + attacks(server, tmp_path / "secret.txt")[name][1]
              + b"</ERROR>" + rest)  # fmt: skip
    assert head.startswith(b"<?xml")
    assert body_errors(attack) == []  # the reader of the reply says what is wrong
    with pytest.raises(ReplyError) as exc:
        parse_esearch(attack)
    assert exc.value.permanent
    _assert_refused(str(exc.value), server, "ESearch reply")
