"""Reading a big PubMed XML file in a worker process, in chunks, while the caller stores them.

``reviewflow import`` of a large file spends about three quarters of its time parsing and the
rest storing. Parsing in a second process, which hands back lists of :class:`RecordData`
(pickled) as it goes, lets the importing process store one chunk while the next is parsed: the
two overlap on a machine with two or more cores.

The worker is a new Python process (``python -m reviewflow.acquire.readers.worker FILE N``):
no fork of a process that holds database connections, and unlike ``multiprocessing``'s spawn
it does not re-run the caller's main script. It imports only the readers. Errors keep their meaning: a reader's
:class:`InputError` (naming the file and the line) is re-raised as is in the caller; a worker
that dies or fails unexpectedly becomes a :class:`ReviewflowError` naming the file. The caller
decides what a failure undoes (``reviewflow import`` keeps one transaction open for the file,
so nothing of a file with an error at its last record is kept).
"""

from __future__ import annotations

import dataclasses
import operator
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from reviewflow.acquire.readers.pubmed_xml import iter_pubmed_xml
from reviewflow.errors import InputError, ReviewflowError
from reviewflow.records import RecordData

# Records per chunk sent back: small enough that storing the last chunk, which cannot overlap
# with parsing, is short; 250-2000 measured on a 5,000-record file, 1000 was fastest.
CHUNK_RECORDS = 1000
# A chunk crosses as tuples of field values (in RecordData's field order): pickling those costs
# the worker, whose parse is the longer half of the work, half of what pickling dataclasses does.
_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(RecordData)))


class PubmedXmlInWorker:
    """The records of a PubMed XML file, parsed in a worker process, ``chunk_records`` at a time.

    The worker starts at once; iterating gives lists of records, the same records in the same
    order as :func:`iter_pubmed_xml`, and raises an error in the file when its chunk is reached.
    Use it as a context manager: leaving the block stops the worker if it is still running.
    """

    def __init__(self, path: Path | str, chunk_records: int | None = None) -> None:
        self.path = Path(path)
        chunk_records = chunk_records or CHUNK_RECORDS
        # a file, not a pipe: a worker that writes much to stderr can never block on it
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[3])  # the folder holding reviewflow/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(self.path), str(chunk_records)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        assert self._process.stdout is not None
        self._stdout: IO[bytes] = self._process.stdout

    def __iter__(self) -> Iterator[list[RecordData]]:
        while True:
            try:
                kind, payload = pickle.load(self._stdout)
            except (EOFError, pickle.UnpicklingError):
                raise ReviewflowError(
                    f"{self.path.name}: the reading process stopped unexpectedly "
                    f"({self._last_words()})"
                ) from None
            if kind == "records":
                yield [RecordData(*values) for values in payload]
            elif kind == "done":
                return
            elif kind == "input-error":
                raise InputError(payload)
            else:
                raise ReviewflowError(f"{self.path.name}: reading failed: {payload}")

    def _last_words(self) -> str:
        self.close()
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return f"exit code {self._process.returncode}" + (f": {lines[-1]}" if lines else "")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        self._stdout.close()

    def __enter__(self) -> PubmedXmlInWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._stderr.close()


def _parse(path: str, chunk_records: int, out: IO[bytes]) -> None:
    """The worker: parse ``path``, write ``("records", [...])`` chunks, then ``("done", n)``."""

    def send(kind: str, payload: object) -> None:
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        chunk: list[RecordData] = []
        count = 0
        for record in iter_pubmed_xml(path):
            chunk.append(record)
            if len(chunk) >= chunk_records:
                send("records", [_FIELDS(r) for r in chunk])
                count += len(chunk)
                chunk = []
        if chunk:
            send("records", [_FIELDS(r) for r in chunk])
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
    _parse(sys.argv[1], int(sys.argv[2]), sys.stdout.buffer)
