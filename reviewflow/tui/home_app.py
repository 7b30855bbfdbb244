"""``reviewflow home`` and what ``reviewflow serve`` shows after sign-in: what this person may do.

Everyone screens (title/abstract, full text), extracts and sees their own progress. The
adjudicator (the review's lead) also reconciles, sees agreement and the PRISMA flow, and builds
the report (delivered to the browser when served). Each task opens the same screen as its own
command (``reviewflow screen``, ``reconcile``, ``extract``); leaving it comes back here.

Who is signed in lives on the store (``store.identity``): the core's role guard checks it on
every read, so a task this screen does not offer is refused there too. In a terminal, a review
protected by passphrases starts at the sign-in screen; served, the server has signed the
person in before this app starts and passes the session, never a name the browser sent.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from reviewflow.access import identity as access
from reviewflow.errors import ReviewflowError, user_message
from reviewflow.screening import flow
from reviewflow.screening.decisions import ScreeningRules
from reviewflow.store.engine import Store
from reviewflow.tui.extract_app import EXTRACTION_CSS, Extraction
from reviewflow.tui.reconcile_app import ReconcileScreen, ReconcileSetup
from reviewflow.tui.rob_app import ROB_CSS
from reviewflow.tui.screen_app import ScreeningScreen, ScreeningSetup
from reviewflow.tui.widgets.text_screen import TextScreen
from reviewflow.workspace import Workspace

TA, FT = flow.TITLE_ABSTRACT, flow.FULL_TEXT


@dataclass(frozen=True)
class HomeSetup:
    store: Store
    workspace: Workspace
    session_token: str | None = None  # served: the session to close on sign-out


@dataclass(frozen=True)
class Task:
    key: str
    label: str
    lead_only: bool = False
    reviewers_only: bool = False  # risk of bias: the adjudicator settles, does not assess


TASKS = (
    Task("screen-ta", "Screen titles and abstracts"),
    Task("screen-ft", "Screen full texts"),
    Task("extract", "Extract data"),
    Task("rob", "Assess risk of bias (RoB 2)", reviewers_only=True),
    Task("progress", "My progress"),
    Task("reconcile-ta", "Reconcile title/abstract conflicts", lead_only=True),
    Task("reconcile-ft", "Reconcile full-text conflicts", lead_only=True),
    Task("consensus", "Settle the extraction consensus", lead_only=True),
    Task("agreement", "Agreement between the reviewers (Cohen's kappa)", lead_only=True),
    Task("prisma", "PRISMA 2020 flow", lead_only=True),
    Task("report", "Build the report and download it", lead_only=True),
    Task("sign-out", "Sign out"),
)


def tasks_for(who: access.Identity) -> list[Task]:
    return [
        t
        for t in TASKS
        if not (t.lead_only and not who.is_lead) and not (t.reviewers_only and who.is_lead)
    ]


class Done(Message):
    """A task's work (in a thread) finished: text to show, a file to deliver, or an error."""

    def __init__(self, title: str, text: str, file: Path | None = None, error: str = "") -> None:
        super().__init__()
        self.title, self.text, self.file, self.error = title, text, file, error


class ProgressCounted(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class HomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", show=True),
        Binding("r", "refresh", "Refresh"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, setup: HomeSetup) -> None:
        super().__init__()
        self.setup = setup
        who = setup.store.identity
        assert isinstance(who, access.Identity)
        self.who = who
        self.tasks = tasks_for(who)
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._who_text(), id="home-who")
        yield OptionList(*[Option(t.label, id=t.key) for t in self.tasks], id="tasks")
        yield Static("Counting your progress…", id="home-progress")
        yield Footer()

    def _who_text(self) -> str:
        if self.who.is_lead:
            return (
                f"Signed in as [b]{self.who.name}[/b] (adjudicator). You see every reviewer's "
                "decisions: reconcile, check agreement, build the PRISMA flow and the report."
            )
        return (
            f"Signed in as [b]{self.who.name}[/b] (reviewer). Blinded: you see only your own "
            "decisions and values until reconciliation."
        )

    def on_mount(self) -> None:
        cfg = self.setup.workspace.config
        self.title = f"reviewflow · {cfg.title}"
        self.sub_title = f"{self.who.name} · {self.who.role}"
        self.query_one(OptionList).focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    @property
    def rules(self) -> ScreeningRules:
        return ScreeningRules.from_config(self.setup.workspace.config)

    # -- progress --------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, exclusive=True, group="progress")
    def action_refresh(self) -> None:
        from reviewflow.screening.queue import ScreeningQueue

        store, me = self.setup.store, self.who.name
        parts = []
        for stage, name in ((TA, "Title/abstract"), (FT, "Full text")):
            p = ScreeningQueue(store, me, stage, self.rules).progress()
            parts.append(f"{name}: {p.decided:,} of {p.total:,} decided")
        if not self.who.is_lead:
            parts.append(self._extraction_progress())
        self.post_message(ProgressCounted("Your progress — " + " · ".join(parts)))

    def _extraction_progress(self) -> str:
        from reviewflow.extraction.studies import list_studies
        from reviewflow.extraction.values import my_finished

        per = self.setup.workspace.config.reviewers_per_record
        ids = [s.id for s in list_studies(self.setup.store, per)]
        done = my_finished(self.setup.store, self.who.name, ids)
        return f"Extraction: {len(done)} of {len(ids)} included studies finished"

    @on(ProgressCounted)
    def progress_counted(self, message: ProgressCounted) -> None:
        self.query_one("#home-progress", Static).update(message.text)

    @on(Done)
    def done(self, message: Done) -> None:
        self.busy = False
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
        else:
            self.app.push_screen(TextScreen(message.title, message.text))
            if message.file is not None:
                self._deliver(message.file)

    def _deliver(self, path: Path) -> None:
        if self.app.is_web:
            self.app.deliver_binary(path, save_filename=path.name)
            self.notify(f"{path.name}: download started", timeout=5)
        else:
            self.notify(f"written to {path}", timeout=8)

    # -- tasks -----------------------------------------------------------------------------
    @on(OptionList.OptionSelected)
    def selected(self, event: OptionList.OptionSelected) -> None:
        self.open(str(event.option.id))

    def action_open(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self.open(self.tasks[index].key)

    def open(self, key: str) -> None:
        if self.busy:
            self.notify("still working on the last task…", timeout=3)
            return
        cfg, store = self.setup.workspace.config, self.setup.store
        highlights = (tuple(cfg.highlight_include), tuple(cfg.highlight_exclude))
        if key in ("screen-ta", "screen-ft"):
            stage = TA if key == "screen-ta" else FT
            setup = ScreeningSetup(store, self.who.name, stage, self.rules, cfg.title, *highlights,
                                   criteria=cfg.criteria_text(),
                                   review_dir=self.setup.workspace.root)  # fmt: skip
            self.app.push_screen(ScreeningScreen(setup))
        elif key in ("reconcile-ta", "reconcile-ft"):
            stage = TA if key == "reconcile-ta" else FT
            rec = ReconcileSetup(store, (self.who.name,), stage, self.rules, cfg.title, *highlights,
                                 criteria=cfg.criteria_text(),
                                 review_dir=self.setup.workspace.root)  # fmt: skip
            self.app.push_screen(ReconcileScreen(rec))
        elif key in ("extract", "consensus"):
            self.run(self._extraction(consensus=key == "consensus"))
        elif key == "rob":
            from reviewflow.extraction.studies import sync_studies
            from reviewflow.tui.rob_app import RobSession, RobStudiesScreen

            per = self.setup.workspace.config.reviewers_per_record
            sync_studies(store, per, actor=self.who.name)
            session = RobSession.open(store, self.who.name, per=per,
                                      review_dir=self.setup.workspace.root)  # fmt: skip
            self.app.push_screen(RobStudiesScreen(session))
        elif key == "sign-out":
            if self.setup.session_token:  # served: the browser's cookie no longer signs in
                access.close_session(store, self.setup.session_token)
            self.app.exit(message="signed out")
        else:
            self.run({"progress": self._progress_text, "agreement": self._agreement_text,
                      "prisma": self._prisma_text, "report": self._report}[key])  # fmt: skip

    def run(self, job: Callable[[], Done | None]) -> None:
        self.busy = True
        self._run(job)

    @work(thread=True, exit_on_error=False, group="task")
    def _run(self, job: Callable[[], Done | None]) -> None:
        try:
            result = job()
        except ReviewflowError as exc:
            result = Done("", "", error=exc.message)
        except Exception as exc:  # a bug: say so on screen, keep the app running
            result = Done("", "", error=user_message(exc))
        if result is not None:
            self.post_message(result)
        else:
            self.busy = False

    def _extraction(self, consensus: bool) -> Callable[[], None]:
        def job() -> None:
            from reviewflow.extraction.forms import find_form
            from reviewflow.extraction.studies import sync_studies

            ws, store = self.setup.workspace, self.setup.store
            form = find_form(ws.forms_dir, None)
            per = ws.config.reviewers_per_record
            sync_studies(store, per, actor=self.who.name)
            extraction = Extraction(store, form, reviewer=self.who.name,
                                    reviewers_per_record=per,
                                    consensus_by=self.who.name if consensus else None,
                                    review_dir=ws.root)  # fmt: skip
            self.app.call_from_thread(self._open_extraction, extraction)

        return job

    def _open_extraction(self, extraction: Extraction) -> None:
        self.app.push_screen(extraction.first_screen())

    def _progress_text(self) -> Done:
        from reviewflow.screening.queue import ScreeningQueue

        lines = []
        for stage, name in ((TA, "Title/abstract"), (FT, "Full text")):
            p = ScreeningQueue(self.setup.store, self.who.name, stage, self.rules).progress()
            left = p.total - p.decided
            lines.append(f"{name}: {p.decided:,} of {p.total:,} decided, {left:,} to go")
        if not self.who.is_lead:
            lines.append(self._extraction_progress())
        lines.append("")
        lines.append("Only your own decisions are counted here; nobody else's are read.")
        return Done("My progress", "\n".join(lines))

    def _agreement_text(self) -> Done:
        from reviewflow.screening.agreement import agreement

        pairs = agreement(self.setup.store, self.rules)
        if not pairs:
            return Done("Agreement", "No record has been screened by two reviewers yet.")
        lines = []
        for p in pairs:
            kappa = "—" if p.kappa is None else f"{p.kappa:.3f}"
            ci = "" if p.ci95_low is None else f" (95% CI {p.ci95_low:.3f} to {p.ci95_high:.3f})"
            pct = "—" if p.percent_agreement is None else f"{p.percent_agreement:.1f}%"
            lines.append(
                f"{p.stage}: {p.reviewer_a} and {p.reviewer_b} both screened "
                f"{p.double_screened:,} records; agreed on {p.agreed:,} ({pct}); "
                f"Cohen's kappa {kappa}{ci}"
            )
        return Done("Agreement", "\n\n".join(lines))

    def _prisma_text(self) -> Done:
        from reviewflow.report.prisma import review_prisma
        from reviewflow.report.prisma_files import flow_summary, write_flow_files

        counts = review_prisma(self.setup.store, self.setup.workspace.config)
        out = Path(tempfile.mkdtemp(prefix="reviewflow-prisma-")) / "prisma_flow.svg"
        write_flow_files(counts, svg=out)
        return Done("PRISMA 2020 flow", "\n".join(flow_summary(counts)), out)

    def _report(self) -> Done:
        from reviewflow.report.folder import build_report

        ws = self.setup.workspace
        out = ws.root / "report"
        result = build_report(self.setup.store, ws, out)
        archive = Path(tempfile.mkdtemp(prefix="reviewflow-report-")) / "report"
        zipped = Path(shutil.make_archive(str(archive), "zip", out))
        text = [f"The report is in {out} ({len(result.files)} files): index.html and its parts."]
        text += [f"  note: {n}" for n in result.notes]
        return Done("Report", "\n".join(text), zipped)


class SignInScreen(Screen[None]):
    """In a terminal: who are you, and your passphrase (a protected review); or just who, when
    the review has no passphrases (one computer, one team)."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen > Vertical { width: 70; height: auto; border: thick $primary; padding: 1 2; }
    SignInScreen Label.title { text-style: bold; margin-bottom: 1; width: 100%; }
    SignInScreen .hint { color: $text-muted; margin-top: 1; }
    SignInScreen #sign-in-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.quit", "Quit")]

    def __init__(self, setup: HomeSetup, protected: bool) -> None:
        super().__init__()
        self.setup, self.protected = setup, protected

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"reviewflow · {self.setup.workspace.config.title}", classes="title")
            yield Input(placeholder="your reviewer name", id="name")
            if self.protected:
                yield Input(placeholder="your passphrase", password=True, id="passphrase")
            else:
                names = ", ".join(r.name for r in self.setup.workspace.config.reviewers)
                yield Static(
                    f"This review has no passphrases (one computer): type your name ({names}).",
                    classes="hint",
                )
            yield Static("", id="sign-in-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        name = self.query_one("#name", Input).value.strip()
        if self.protected and event.input.id == "name":
            self.query_one("#passphrase", Input).focus()
            return
        secret = self.query_one("#passphrase", Input).value if self.protected else ""
        self.check(name, secret)

    @work(thread=True, exit_on_error=False, exclusive=True)
    def check(self, name: str, secret: str) -> None:
        store = self.setup.store
        try:
            if self.protected:
                who = access.check_passphrase(store, name, secret)
            else:
                config = self.setup.workspace.config
                person = config.reviewer(name)
                who = access.Identity(person.name, person.role, "open")
        except ReviewflowError as exc:
            self.app.call_from_thread(self.failed, exc.message)
            return
        self.app.call_from_thread(self.signed_in, who)

    def failed(self, message: str) -> None:
        self.query_one("#sign-in-error", Static).update(message)
        if self.protected:
            self.query_one("#passphrase", Input).value = ""

    def signed_in(self, who: access.Identity) -> None:
        store = self.setup.store
        if self.protected:
            access.sign_in(store, who)
        else:
            store.identity = who  # one computer, no passphrases: who you said you are
        self.app.switch_screen(HomeScreen(self.setup))


class HomeApp(App[None]):
    CSS_PATH = Path(__file__).parent / "app.tcss"
    CSS = EXTRACTION_CSS + ROB_CSS
    TITLE = "reviewflow"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, setup: HomeSetup) -> None:
        super().__init__()
        self.setup = setup

    def on_mount(self) -> None:
        store = self.setup.store
        if store.identity is not None:
            self.push_screen(HomeScreen(self.setup))
        else:
            self.push_screen(SignInScreen(self.setup, access.is_protected(store)))
