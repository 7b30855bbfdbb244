"""Driving ``reviewflow serve`` in a real browser: Debian's chromium through playwright (the
system binary; nothing is downloaded). What the app shows is read from the terminal stream the
page receives over its websocket (xterm.js draws on a canvas), with escape codes removed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (scripts/test installs it where it can)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (the test dependency group has it)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(root: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``reviewflow serve`` on a free loopback port; yields the address it prints."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWFLOW_PASSPHRASE")} | (
        env or {}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewflow", "-w", str(root), "serve", "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "share this address:" in line:
            break
    else:
        raise AssertionError("reviewflow serve did not start: " + "".join(lines))
    try:
        yield line.split("share this address:")[1].strip()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


class Person:
    """One browser context (its own cookies): a person at their own computer."""

    def __init__(self, browser: Any, url: str, size: tuple[int, int] = (1280, 800)) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        self.page = self.context.new_page()
        self.url = url
        self.frames: list[str] = []
        self.sockets = 0
        self.page.on("websocket", self._on_socket)

    def _on_socket(self, ws: Any) -> None:
        self.sockets += 1
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload: Any) -> None:
        self.frames.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        )

    def screen_text(self, since: int = 0) -> str:
        return ANSI.sub("", "".join(self.frames[since:]))

    def sign_in(self, name: str, secret: str) -> None:
        self.page.goto(self.url)
        self.page.fill("#name", name)
        self.page.fill("#passphrase", secret)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def wait_text(self, text: str, since: int = 0, timeout: float = 60) -> float:
        """Wait until ``text`` has been drawn (after frame ``since``); returns when (perf)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.screen_text(since):
                return time.perf_counter()
            self.page.wait_for_timeout(5)
        shot = Path(tempfile.mkdtemp(prefix="reviewflow-browser-")) / "screen.png"
        self.page.screenshot(path=str(shot))
        raise AssertionError(
            f"{text!r} never shown (screenshot {shot}); last: {self.screen_text()[-400:]!r}"
        )

    def press(self, key: str) -> int:
        """Press a key in the terminal; returns the frame count before it (for wait_text)."""
        mark = len(self.frames)
        self.page.keyboard.press(key)
        return mark

    def sign_out(self) -> None:
        self.page.click("header.bar button[type=submit]")
        self.page.wait_for_url("**/signin")

    def close(self) -> None:
        self.context.close()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
