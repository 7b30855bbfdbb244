"""Fuzzing figure: mutated real inputs through the commands a user runs, for a time budget.

Each round picks one of:

- ``import FILE --again`` of a mutated real file (PubMed XML plain and gzip, a PubMed book
  record, MEDLINE, RIS, CSV; cut, bytes flipped or inserted, slices dropped or repeated, format
  tokens spliced in) into a review: after a failed import the database must be exactly as it was
  (row count and highest id of every table);
- standalone ``dedup FILE --out groups.csv`` of such a file, and now and then ``dedup`` on the
  review the imports fill;
- ``pool FILE.csv`` on a mutated real study table (dat.pritz1997 proportions, dat.bcg two-group
  counts): cells replaced by hostile values (empty, negative, 0, NaN, inf, 1e308, text, "1,5",
  events > total), rows dropped or repeated, with a random measure, method and options.

All through the real CLI in-process (click's runner). A traceback is an exit other than 0 and 1,
"internal error" on stderr, or an exception escaping; its input is kept for a repro. The review
is reset every --reset rounds so that it stays small.

    .venv/bin/python benchmarks/fuzz_inputs.py [--seconds 600] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from reviewflow.store import open_store  # noqa: E402
from tests.conftest import run_cli  # noqa: E402

DATA = ROOT / "tests" / "data"
SEEDS = {
    "pubmed.xml": DATA / "pubmed" / "biopython" / "pubmed4.xml",
    "book.xml": DATA / "pubmed" / "metapub" / "sample_article_20301577_book.xml",
    "efetch.xml": DATA / "entrez" / "efetch_pubmed2.xml",
    "medline.nbib": DATA / "pubmed" / "biopython" / "medline_pubmed_result2.txt",
    "refs.ris": DATA / "ris" / "example_full.ris",
    "bom.ris": DATA / "ris" / "example_utf_chars.ris",
    "refs.csv": DATA / "csv" / "bibdedupe_special_cases.csv",
}
TOKENS = [b"<", b">", b"&", b"&amp;", b"]]>", b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"\x00",
          b"\xef\xbb\xbf", b"\xff\xfe", b"ER  - \n", b"TY  - JOUR\n", b"PMID- 1\n", b"\r",
          b"\n", b'"', b",", b";", b"\t", b"\xe9", b"\xc3", b"</PubmedArticle>",
          b"<PubmedArticle>", b"<Year>0</Year>", b"<Year>99999</Year>", b"=1+1"]  # fmt: skip
VALUES = ["", " ", "-1", "0", "1", "0.5", "1e308", "-1e308", "nan", "NaN", "inf", "-inf", "abc",
          "1,5", " 3 ", "999999999999", "=1+1", "\u221e", "2.5", "-0", "1e-300", "NA"]  # fmt: skip
POOL_CASES = {
    "pritz": (DATA / "extraction" / "pritz1997.csv",
              ["--events", "outcome.improvement.events", "--total", "outcome.improvement.total"],
              ["PLO", "PFT", "PAS", "PR", "PLN"]),
    "bcg": (ROOT / "tests" / "pooling" / "data" / "bcg.csv",
            ["--events1", "events1", "--total1", "total1", "--events2", "events2",
             "--total2", "total2"], ["RR", "OR", "RD", "PETO"]),
}  # fmt: skip


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not out:
            break
        at = rng.randrange(len(out))
        action = rng.choice(["cut", "flip", "insert", "drop", "repeat", "token"])
        if action == "cut":
            del out[at:]
        elif action == "flip":
            out[at] = rng.randrange(256)
        elif action == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif action == "drop":
            del out[at : at + rng.randint(1, 300)]
        elif action == "repeat":
            out[at:at] = out[at : at + rng.randint(1, 300)]
        else:
            out[at:at] = rng.choice(TOKENS)
    return bytes(out)


def state(url: str) -> tuple[tuple[str, int, int], ...]:
    """Row count and highest id of every table."""
    store = open_store(url)
    try:
        with store.read() as s:
            out = []
            for table in SQLModel.metadata.sorted_tables:
                n = s.execute(select(func.count()).select_from(table)).scalar_one()
                top = s.execute(select(func.max(table.c.id))).scalar() if "id" in table.c else 0
                out.append((table.name, n, top or 0))
            return tuple(out)
    finally:
        store.dispose()


class Fuzz:
    def __init__(self, seed: int, keep: Path) -> None:
        self.rng = random.Random(seed)
        self.keep = keep
        self.work = Path(tempfile.mkdtemp(prefix="reviewflow-fuzz-"))
        self.counts: Counter[str] = Counter()
        self.tracebacks: list[str] = []
        self.changed_after_failure = 0
        self.seeds = {name: path.read_bytes() for name, path in SEEDS.items()}
        self.reset()

    def reset(self) -> None:
        self.root = self.work / "review"
        shutil.rmtree(self.root, ignore_errors=True)
        code, _out, err = run_cli("init", str(self.root))
        assert code == 0, err
        self.url = f"sqlite:///{self.root / 'db' / 'reviewflow.sqlite'}"

    def cli(self, what: str, args: list[str], keep: list[Path]) -> int:
        try:
            code, _out, err = run_cli(*args, cwd=self.root)
        except Exception:  # an exception past the CLI's own handler
            code, err = -1, traceback.format_exc()
        self.counts[f"{what} exit {code}"] += 1
        if code not in (0, 1) or "internal error" in err or "Traceback" in err:
            case = self.keep / f"{what}-{len(self.tracebacks) + 1}"
            case.mkdir(parents=True, exist_ok=True)
            for path in keep:
                if path.exists():
                    shutil.copy(path, case / path.name)
            (case / "command.txt").write_text(" ".join(args) + "\n\n" + err)
            self.tracebacks.append(f"{what}: {err.strip().splitlines()[-1] if err else code}")
        return code

    def a_file(self) -> Path:
        name = self.rng.choice(sorted(self.seeds))
        data = mutate(self.rng, self.seeds[name])
        if name.endswith(".xml") and self.rng.random() < 0.2:
            data, name = gzip.compress(data), name + ".gz"
            if self.rng.random() < 0.3:
                data = data[: self.rng.randrange(1, len(data))]
        path = self.work / f"in {self.counts.total()} {name}"
        path.write_bytes(data)
        return path

    def import_round(self) -> None:
        path = self.a_file()
        before = state(self.url)
        code = self.cli("import", ["import", str(path), "--again", "--source", "Fuzz"], [path])
        if code != 0 and state(self.url) != before:
            self.changed_after_failure += 1
            shutil.copy(path, self.keep / f"changed-db-{path.name}")
        path.unlink()

    def dedup_round(self) -> None:
        if self.rng.random() < 0.15:
            self.cli("dedup-review", ["dedup", "--json"], [])
            return
        path = self.a_file()
        out = self.work / "groups.csv"
        args = ["dedup", str(path), "--out", str(out)]
        if path.name.endswith(".csv"):
            args += ["--id-column", self.rng.choice(["ID", "title", "nope"])]
        self.cli("dedup", args, [path])
        path.unlink()

    def pool_round(self) -> None:
        name = self.rng.choice(sorted(POOL_CASES))
        source, columns, measures = POOL_CASES[name]
        lines = source.read_text(encoding="utf-8").splitlines()
        head, rows = lines[0], [line.split(",") for line in lines[1:]]
        for _ in range(self.rng.randint(0, 4)):
            row = self.rng.choice(rows)
            row[self.rng.randrange(1, len(row))] = self.rng.choice(VALUES)
        if self.rng.random() < 0.3:
            rows = rows[: self.rng.randint(0, len(rows))]
        if self.rng.random() < 0.2 and rows:
            rows += [self.rng.choice(rows)] * self.rng.randint(1, 3)
        path = self.work / f"{name} table.csv"
        path.write_text("\n".join([head, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
        args = ["pool", str(path), "--study", "study", *columns,
                "--measure", self.rng.choice(measures),
                "--method", self.rng.choice(["REML", "DL", "ML", "PM", "EE"])]  # fmt: skip
        if name == "bcg" and self.rng.random() < 0.3:
            args[-4:] = ["--method", "MH"]  # Mantel-Haenszel, with its default measure
        for flag in ("--knha", "--egger", "--trimfill", "--leave-one-out", "--json"):
            if self.rng.random() < 0.25:
                args.append(flag)
        if self.rng.random() < 0.2:
            args += ["--forest", str(self.work / "forest.svg")]
        self.cli("pool", args, [path])

    def run(self, seconds: float, reset: int) -> None:
        end = time.monotonic() + seconds
        rounds = 0
        while time.monotonic() < end:
            self.rng.choice([self.import_round, self.dedup_round, self.pool_round])()
            rounds += 1
            if rounds % reset == 0:
                self.reset()
        self.rounds = rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", type=int, default=150)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "rf-fuzz-cases")
    args = parser.parse_args()
    args.keep.mkdir(parents=True, exist_ok=True)
    os.environ.pop("REVIEWFLOW_DEBUG", None)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    t0 = time.monotonic()
    fuzz = Fuzz(args.seed, args.keep)
    fuzz.run(args.seconds, args.reset)
    took = time.monotonic() - t0
    by_command: Counter[str] = Counter()
    for key, n in fuzz.counts.items():
        by_command[key.split(" exit ")[0]] += n
    print(f"{fuzz.rounds:,} rounds in {took:.0f} s (seed {args.seed}): "
          + ", ".join(f"{k} {n:,}" for k, n in sorted(by_command.items())))  # fmt: skip
    print("exits: " + ", ".join(f"{k}: {n:,}" for k, n in sorted(fuzz.counts.items())))
    print(f"tracebacks: {len(fuzz.tracebacks)}; database changed after a failed import: "
          f"{fuzz.changed_after_failure}")  # fmt: skip
    for line in Counter(fuzz.tracebacks).most_common(10):
        print(f"  {line[1]} × {line[0]}")
    if fuzz.tracebacks:
        print(f"inputs kept in {args.keep}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    shutil.rmtree(fuzz.work, ignore_errors=True)
    sys.exit(1 if fuzz.tracebacks or fuzz.changed_after_failure else 0)


if __name__ == "__main__":
    main()
