"""Reading a big PubMed XML file in worker processes, in chunks, while the caller stores them.

``reviewflow import`` of a large file spends most of its time parsing. Worker processes parse
and hand back lists of records (encoded, pickled) as they go, so the importing process
stores one chunk while the next is parsed. With ``processes=2`` a plain ``PubmedArticleSet``
file is also cut in two at a record start (:func:`split_file`) and each half parsed by its own
worker: on two or more cores the halves and the storing all overlap.

A worker is a new Python process (``python -m reviewflow.acquire.readers.worker FILE N
[START STOP]``): no fork of a process that holds database connections, and unlike
``multiprocessing``'s spawn it does not re-run the caller's main script. It imports only the
readers. A thread per worker drains its pipe into memory, so a worker ahead of the caller never
waits for it.

Errors keep their meaning: a reader's :class:`InputError` (naming the file and the line) is
re-raised as is. When a *part* of a cut file fails, its line numbers are the part's, and the cut
itself might be the cause (a namespace or an entity declared at the top of the file), so the
whole file is read again in one worker: that gives the true error with the file's line numbers,
or, if the cut was to blame, the rest of the records. A worker that dies or fails unexpectedly
becomes a :class:`ReviewflowError` naming the file. The caller decides what a failure undoes
(``reviewflow import`` keeps one transaction open for the file, so nothing of a file with an
error at its last record is kept).
"""

from __future__ import annotations

import os
import pickle
import queue
import re
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from reviewflow.acquire.readers._common import file_sha256
from reviewflow.acquire.readers.pubmed_xml import iter_pubmed_xml
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.records import RecordData, decode, encode

# Records per chunk sent back: small enough that storing the last chunk, which cannot overlap
# with parsing, is short; 250-2000 measured on a 5,000-record file, 1000 was fastest.
CHUNK_RECORDS = 1000
# A chunk crosses as encoded records (records.encode: flat tuples, JSON fields as text): cheap
# to pickle and unpickle, and already what the database stores, so the importing process, the
# busier one, does not convert them.

# On a machine with two or more cores, PubMed XML from this size on (bytes on disk) is parsed in
# two worker processes (the file cut in two at a record start; one when it cannot be cut, e.g.
# gzip) while the caller stores the records. Below it, starting workers costs what the overlap
# saves: measured on 2 cores, median of 5, plain / one worker / two workers: 8 MB (500 records)
# 0.136 / 0.202 / 0.153 s; 24 MB 0.378 / 0.445 / 0.363 s; 48 MB 0.834 / 0.752 / 0.606 s.
PARALLEL_FROM_BYTES = 24 * 1024 * 1024
PARSE_PROCESSES = min(2, os.cpu_count() or 1)

_RECORD_STARTS = (b"<PubmedArticle>", b"<PubmedBookArticle>")
_PROLOG = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(<\?xml[^>]*\?>)?\s*(<!DOCTYPE[^>\[]*(?:\[[^\]]*\])?\s*>)?\s*"
)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']+)["']""")
_WINDOW = 8 << 20  # bytes searched for a record start at each cut


def start_workers(path: Path, kind: str) -> PubmedXmlInWorker | None:
    """Workers already parsing ``path`` if it is a PubMed XML file big enough for them to pay
    and the machine has two cores; None if it is to be read in the calling process."""
    if kind != "pubmed-xml" or PARSE_PROCESSES < 2:
        return None
    try:
        if path.stat().st_size < PARALLEL_FROM_BYTES:
            return None
    except OSError:
        return None  # the reader names the problem
    return PubmedXmlInWorker(path, processes=PARSE_PROCESSES)


def split_file(path: Path, parts: int) -> list[tuple[int, int]] | None:
    """Byte ranges cutting ``path`` into ``parts`` at ``<PubmedArticle>`` / ``<PubmedBookArticle>``
    start tags near equal sizes, or None where a file is not cut: gzip, a root other than a bare
    ``<PubmedArticleSet>`` (attributes could declare namespaces), an encoding other than UTF-8, or
    no record start found near a cut.

    Equal parts measured best for ``reviewflow import`` of the 20,000-record benchmark file
    (medians of 7 interleaved rounds, first part at 50 / 45 / 40% of the file: 3.50 / 3.61 /
    3.81 s).
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
            prolog = _PROLOG.match(head)
            if prolog is None or not head.startswith(b"<PubmedArticleSet>", prolog.end()):
                return None  # gzip, another root, or a root with attributes
            declaration = prolog.group(1) or b""
            encoding = _ENCODING.search(declaration)
            if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
                return None
            cuts = [0]
            for i in range(1, parts):
                fh.seek(max(size * i // parts, cuts[-1] + 1))
                window = fh.read(_WINDOW)
                found = [p for p in (window.find(tag) for tag in _RECORD_STARTS) if p >= 0]
                if not found:
                    return None
                cuts.append(fh.tell() - len(window) + min(found))
    except OSError:
        return None  # the reader names the problem
    cuts.append(size)
    return list(zip(cuts, cuts[1:], strict=False))


class PubmedXmlInWorker:
    """The records of a PubMed XML file, parsed in worker processes, ``chunk_records`` at a time.

    The workers start at once; iterating gives lists of records, the same records in the same
    order as :func:`iter_pubmed_xml`, and raises an error in the file when its chunk is reached.
    ``processes=2`` cuts a plain efetch file in two (one worker when it cannot be cut). Use it as
    a context manager: leaving the block stops the workers still running.
    """

    def __init__(
        self, path: Path | str, chunk_records: int | None = None, processes: int = 1
    ) -> None:
        self.path = Path(path)
        self.chunk_records = chunk_records or CHUNK_RECORDS
        ranges = split_file(self.path, processes) if processes > 1 else None
        self.split = ranges is not None
        parts: list[tuple[int, int] | None] = list(ranges) if ranges else [None]
        self._workers = [_Worker(self.path, self.chunk_records, r) for r in parts]
        # the file's digest, read in a thread meanwhile: the importing process needs it before
        # it stores anything, and it would otherwise be its first 0.25 s of work on 300 MB
        self._digest: list[str | BaseException] = []
        self._hashing = threading.Thread(target=self._hash, daemon=True)
        self._hashing.start()

    def _hash(self) -> None:
        try:
            self._digest.append(file_sha256(self.path))
        except OSError as exc:
            self._digest.append(exc)

    def sha256(self) -> str:
        """The SHA-256 of the file (hex)."""
        self._hashing.join()
        digest = self._digest[0]
        if isinstance(digest, BaseException):
            raise ReviewflowError(f"{self.path.name}: cannot read the file ({digest})")
        return digest

    def __iter__(self) -> Iterator[list[RecordData]]:
        for chunk in self.encoded():
            yield [decode(values) for values in chunk]

    def encoded(self) -> Iterator[list[tuple[Any, ...]]]:
        r"""The chunks as the workers send them: :func:`reviewflow.records.encode`\ d records."""
        given = 0
        try:
            for worker in self._workers:
                for chunk in worker.chunks():
                    given += len(chunk)
                    yield chunk
            return
        except InputError:
            if not self.split:
                raise
        # A part failed. Read the whole file as one: the true error, with the file's line
        # numbers, or (if cutting it was the trouble) the records after those already given.
        self.close()
        self._workers = [_Worker(self.path, self.chunk_records, None)]
        for chunk in self._workers[0].chunks():
            if given < len(chunk):
                yield chunk[given:]
            given = max(0, given - len(chunk))

    def close(self) -> None:
        for worker in self._workers:
            worker.close()

    def __enter__(self) -> PubmedXmlInWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Worker:
    """One worker process reading ``byte_range`` of the file (all of it for None)."""

    def __init__(self, path: Path, chunk_records: int, byte_range: tuple[int, int] | None) -> None:
        self.path = path
        # a file, not a pipe: a worker that writes much to stderr can never block on it
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[3])  # the folder holding reviewflow/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        args = [sys.executable, "-m", __name__, str(path), str(chunk_records)]
        self.process = subprocess.Popen(
            args + [str(b) for b in byte_range or ()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        assert self.process.stdout is not None
        self._stdout: IO[bytes] = self.process.stdout
        self._messages: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._drain = threading.Thread(target=self._read_messages, daemon=True)
        self._drain.start()

    def _read_messages(self) -> None:
        """In a thread: each length-prefixed message into the queue, then None at the end."""
        try:
            while len(header := self._stdout.read(8)) == 8:
                size = int.from_bytes(header, "little")
                message = self._stdout.read(size)
                if len(message) < size:
                    break
                self._messages.put(message)
        except (OSError, ValueError):
            pass  # the pipe was closed: the worker was stopped
        self._messages.put(None)

    def chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        while True:
            message = self._messages.get()
            if message is None:
                raise ReviewflowError(
                    f"{self.path.name}: the reading process stopped unexpectedly "
                    f"({self._last_words()})"
                )
            kind, payload = pickle.loads(message)
            if kind == "records":
                yield payload
            elif kind == "done":
                return
            elif kind == "input-error":
                raise InputError(payload)
            else:
                raise ReviewflowError(f"{self.path.name}: reading failed: {payload}")

    def _last_words(self) -> str:
        self.process.wait()
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return f"exit code {self.process.returncode}" + (f": {lines[-1]}" if lines else "")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()
        self._drain.join()
        self._stdout.close()
        self._stderr.close()


def _parse(
    path: str, chunk_records: int, byte_range: tuple[int, int] | None, out: IO[bytes]
) -> None:
    """The worker: parse, write ``("records", [...])`` messages, then ``("done", n)``."""

    def send(kind: str, payload: object) -> None:
        message = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(message).to_bytes(8, "little"))
        out.write(message)
        out.flush()

    try:
        chunk: list[RecordData] = []
        count = 0
        for record in iter_pubmed_xml(path, byte_range):
            chunk.append(record)
            if len(chunk) >= chunk_records:
                send("records", [encode(r) for r in chunk])
                count += len(chunk)
                chunk = []
        if chunk:
            send("records", [encode(r) for r in chunk])
            count += len(chunk)
        send("done", count)
    except InputError as exc:
        send("input-error", exc.message)
    except BrokenPipeError:
        pass  # the caller stopped reading (its own error); nothing to report
    except Exception as exc:  # a bug: say what it was, in one line, with where it happened
        frames = traceback.extract_tb(exc.__traceback__)
        place = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
        send("error", f"{type(exc).__name__}: {exc}{place}")


if __name__ == "__main__":
    _range = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else None
    _parse(sys.argv[1], int(sys.argv[2]), _range, sys.stdout.buffer)
