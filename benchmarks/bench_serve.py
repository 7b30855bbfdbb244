"""``reviewflow serve`` in a real browser: sign-in → home screen → first record, and keypress →
next record, on loopback.

A review of the 3,788 real PubMed records of the three Cohen (2006) reviews (``../shared/data/
screening``), reviewer1 and reviewer2 with passphrases; ``reviewflow serve`` in its own process;
Debian's chromium driven by playwright (the system binary). Timed inside the page: a keydown
listener and a wrapper on the page's WebSocket stamp ``performance.now()``; a frame counts as
shown at the animation frame after it arrived. So each figure is what the person waits for:

- sign-in: from the click on "Sign in" to the home screen drawn, and to the first record drawn
  (home → Enter → the title/abstract screen), over ``--rounds`` sign-in/sign-out rounds;
- keypress → next record: ``i`` (include, committed in the database before the next record is
  drawn) until "Record N+1" is drawn, ``--presses`` times; median and p95.

    .venv/bin/python benchmarks/bench_serve.py [--presses 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_screening import real_records  # noqa: E402

from reviewflow.acquire.importer import start_run, store_records  # noqa: E402
from reviewflow.store import open_store  # noqa: E402
from tests.team.browser import ANSI, Person, chromium, served  # noqa: E402

PASSPHRASES = {"adjudicator": "lead passphrase 1", "reviewer1": "first reviewer's words"}
STAMPS = """
window.__rf = {keys: [], frames: []};
document.addEventListener('keydown', e => window.__rf.keys.push(performance.now()), true);
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', ev => {
      const at = performance.now();
      const text = typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data);
      requestAnimationFrame(() => window.__rf.frames.push([at, performance.now(), text]));
    });
  }
};
"""


def build(root: Path) -> int:
    from click.testing import CliRunner

    from reviewflow.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["init", str(root), "--title", "Benchmark"]).exit_code == 0
    store = open_store(f"sqlite:///{root / 'db' / 'reviewflow.sqlite'}")
    records = real_records()
    with store.write() as s:
        run = start_run(s, kind="import", source="PubMed", file_name="bench", count=len(records))
        store_records(s, run, records)
    store.dispose()
    for name, secret in PASSPHRASES.items():
        args = ["-w", str(root)]
        env = {}
        if name != "adjudicator":
            args += ["--user", "adjudicator"]
            env = {"REVIEWFLOW_PASSPHRASE": PASSPHRASES["adjudicator"]}
        result = runner.invoke(main, [*args, "reviewer", "passphrase", name],
                               input=secret + "\n", env=env)  # fmt: skip
        assert result.exit_code == 0, result.output
    return len(records)


def stamps(person: Person) -> dict[str, Any]:
    person.page.wait_for_timeout(100)  # let the last frame reach its animation frame
    data: dict[str, Any] = person.page.evaluate("window.__rf")
    return data


def drawn_after(data: dict[str, Any], since: float, text: str, arrival: bool = False) -> float:
    """When the first frame after ``since`` that contains ``text`` was drawn (or arrived)."""
    for arrived, drawn, body in data["frames"]:
        if arrived >= since and text in ANSI.sub("", body):
            return float(arrived if arrival else drawn)
    raise AssertionError(f"{text!r} not drawn after {since}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reviewflow-bench-serve-")) / "review"
    n = build(root)
    home_ms, first_ms, press_ms, arrive_ms = [], [], [], []
    with served(root) as url, chromium() as browser:
        for round_ in range(args.rounds):
            person = Person(browser, url, size=(1280, 800))
            person.page.add_init_script(STAMPS)
            person.page.goto(url)
            person.page.fill("#name", "reviewer1")
            person.page.fill("#passphrase", PASSPHRASES["reviewer1"])
            # the click is on the sign-in page, the drawing on the app page: compare them on
            # the wall clock (each page's timeOrigin + its performance.now())
            clicked = person.page.evaluate("performance.timeOrigin + performance.now()")
            person.page.click("button[type=submit]")
            person.wait_text("Screen titles and abstracts")
            origin = person.page.evaluate("performance.timeOrigin")
            home_at = drawn_after(stamps(person), 0, "Screen titles and abstracts")
            mark = person.press("Enter")  # the terminal has the focus already
            person.wait_text("Record 1 of", since=mark)
            first_at = drawn_after(stamps(person), home_at, "Record 1 of")
            home_ms.append(origin + home_at - clicked)
            first_ms.append(origin + first_at - clicked)
            if round_ == args.rounds - 1:
                for k in range(1, args.presses + 1):
                    mark = person.press("i")
                    person.wait_text(f"Record {k + 1:,} of", since=mark)
                person.page.wait_for_timeout(300)  # the last frame's animation frame
                data = stamps(person)
                keys = data["keys"][-args.presses :]
                for k, down in enumerate(keys, 1):
                    press_ms.append(drawn_after(data, down, f"Record {k + 1:,} of") - down)
                    arrive_ms.append(
                        drawn_after(data, down, f"Record {k + 1:,} of", arrival=True) - down
                    )
            person.sign_out()
            person.close()
    print(f"reviewflow serve, {n:,} records, SQLite, loopback; Debian chromium (headless) via "
          f"playwright; {platform.machine()}, Python {platform.python_version()}")  # fmt: skip
    print(
        f"sign-in → home screen drawn:   median {statistics.median(home_ms):.0f} ms "
        f"(min {min(home_ms):.0f}, max {max(home_ms):.0f}; {len(home_ms)} sign-ins)"
    )
    print(
        f"sign-in → first record drawn:  median {statistics.median(first_ms):.0f} ms "
        f"(min {min(first_ms):.0f}, max {max(first_ms):.0f})"
    )
    print(
        f"keypress i → next record drawn: median {statistics.median(press_ms):.1f} ms, "
        f"p95 {pct(press_ms, 0.95):.1f} ms, max {max(press_ms):.1f} ms "
        f"({len(press_ms)} presses)"
    )
    print(
        f"  of which until the frame reached the page (server and app): median "
        f"{statistics.median(arrive_ms):.1f} ms, p95 {pct(arrive_ms, 0.95):.1f} ms"
    )
    target = pct(press_ms, 0.95) <= 100
    print(f"target p95 ≤ 100 ms: {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(benchmark ran {time.perf_counter() - started:.0f} s)")
