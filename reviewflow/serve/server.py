"""The web server of ``reviewflow serve``: sign-in, sessions, and the review's Textual apps.

Built on textual-serve: its static files (xterm.js front end), its process protocol
(:class:`AppService`) and its downloads; the routes are reviewflow's own, so that nothing but
the sign-in page is served to someone who has not signed in.

- ``GET /`` the app page for a signed-in session, else a redirect to ``/signin``.
- ``POST /signin`` checks name and passphrase (scrypt, off the event loop). A failure answers
  the same for an unknown name and a wrong passphrase, after a delay, and is logged; after
  repeated failures for a name or from an address, attempts are refused for a while
  (:mod:`reviewflow.serve.limits`). Success opens a session (``review_session``) and sets its
  random token in an HttpOnly, SameSite=Strict cookie (Secure under TLS) that expires.
- ``GET /ws`` (the app's websocket) starts ``python -m reviewflow home`` for the session, with
  the token in its environment: the app finds out who it serves from the database, never from
  anything the browser sent. Cross-origin websockets are refused.
- ``POST /signout`` ends the session and stops its apps. Sessions that end (signed out
  elsewhere, passphrase changed, expired) have their apps stopped within a minute.
- ``GET /download/KEY`` a file the session's own app delivered (the report, the PRISMA SVG).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import secrets
import shlex
import socket
import ssl
import sys
from asyncio.subprocess import PIPE, Process
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from reviewflow.access import identity as access
from reviewflow.errors import AccessError, ReviewflowError
from reviewflow.serve.limits import FAILURE_DELAY_S, FailureLimiter
from reviewflow.serve.pages import SECURITY_HEADERS, app_page, sign_in_page
from reviewflow.store.engine import Store
from reviewflow.workspace import Workspace

log = logging.getLogger("reviewflow.serve")

SESSION_COOKIE = "reviewflow_session"
CSRF_COOKIE = "reviewflow_csrf"
# what the app process must not inherit from the server's environment
SCRUBBED_ENV = ("REVIEWFLOW_PASSPHRASE", "REVIEWFLOW_USER", "REVIEWFLOW_SESSION")
SESSION_CHECK_S = 30.0
CSRF_KEY = web.RequestKey("csrf", str)


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SessionApp(AppService):
    """One app process for one browser tab, signed in as the session's reviewer. The process
    was started ahead (:class:`Spares`); its session reaches it on its standard input."""

    def __init__(self, command: str, *, token: str, spares: Spares, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.token, self.spares = token, spares

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        process = await self.spares.take()
        assert process.stdin is not None
        process.stdin.write(f"{self.token} {width} {height}\n".encode("ascii"))
        await process.stdin.drain()
        self._process, self._stdin = process, process.stdin
        return process


class Spares:
    """One app process started ahead of the next sign-in: Python started, reviewflow and
    textual imported, the database open; it waits for a session on its standard input
    (``REVIEWFLOW_SESSION=-``), so a person does not wait for all that after signing in."""

    def __init__(self, command: str, env: dict[str, str]) -> None:
        base = AppService(command, write_bytes=_ignore, write_str=_ignore, close=_nothing,
                          download_manager=None)  # type: ignore[arg-type]  # fmt: skip
        self.env = base._build_environment()
        for name in SCRUBBED_ENV:
            self.env.pop(name, None)
        self.env.update(env)
        self.env["REVIEWFLOW_SESSION"] = "-"
        # Textual repaints 1/FPS after a change: 120 halves that wait on every keypress
        # (textual-serve asks for 60); idle apps do not repaint at all
        self.env["TEXTUAL_FPS"] = os.environ.get("TEXTUAL_FPS", "120")
        self.command = command
        self._next: asyncio.Task[Process] | None = None

    def _spawn(self) -> asyncio.Task[Process]:
        # exec, not a shell: a kill must reach the app itself, or an orphaned app keeps
        # the pipes open and waiting for it never ends
        return asyncio.create_task(asyncio.create_subprocess_exec(
            *shlex.split(self.command), stdin=PIPE, stdout=PIPE, stderr=PIPE, env=self.env))  # fmt: skip

    def warm(self) -> None:
        if self._next is None:
            self._next = self._spawn()

    async def take(self) -> Process:
        """A started process (the one waiting if it is alive), and the next one started."""
        task, self._next = self._next or self._spawn(), self._spawn()
        process = await task
        if process.returncode is not None:  # it failed on its own: start one now
            process = await self._spawn()
        return process

    async def close(self) -> None:
        if self._next is not None:
            process = await self._next
            if process.returncode is None:
                process.kill()
                await asyncio.wait_for(process.wait(), timeout=10)
            self._next = None


class ReviewServer(Server):
    def __init__(
        self,
        workspace: Workspace,
        store: Store,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        ssl_context: ssl.SSLContext | None = None,
        session_hours: float = access.SESSION_HOURS,
        limiter: FailureLimiter | None = None,
    ) -> None:
        scheme = "https" if ssl_context else "http"
        shown_host = f"[{host}]" if ":" in host else host
        super().__init__("reviewflow home", host=host, port=port,
                         title=workspace.config.title,
                         public_url=f"{scheme}://{shown_host}:{port}")  # fmt: skip
        self.workspace, self.store = workspace, store
        self.ssl_context = ssl_context
        self.session_hours = session_hours
        self.limiter = limiter or FailureLimiter()
        self.running: dict[str, set[tuple[SessionApp, web.WebSocketResponse]]] = defaultdict(set)
        self.app_command = shlex.join(
            [sys.executable, "-m", "reviewflow", "-w", str(workspace.root), "home"]
        )
        # the app processes open the same database as the server (a password stays out of `ps`)
        app_env = {"REVIEWFLOW_DATABASE_URL": store.url.replace("+psycopg", "", 1)}
        self.spares = Spares(self.app_command, app_env)
        self.static_dir = Path(__file__).parent / "static"
        self._watch: asyncio.Task[None] | None = None

    # -- the aiohttp application -------------------------------------------------------------
    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._headers])
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/signin", self.handle_sign_in_form),
                web.post("/signin", self.handle_sign_in),
                web.post("/signout", self.handle_sign_out),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.get("/favicon.ico", _no_content),
                web.static("/static", self.statics_path, name="static"),
                web.static("/reviewflow-static", self.static_dir),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _headers(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def on_startup(self, app: web.Application) -> None:
        self._watch = asyncio.create_task(self._watch_sessions())
        self.spares.warm()

    def share_urls(self) -> list[str]:
        """The addresses others can open: this computer's names when listening everywhere."""
        if self.host not in ("0.0.0.0", "::", ""):
            return [f"{self.public_url}/"]
        scheme = "https" if self.ssl_context else "http"
        names = [socket.getfqdn()]
        with contextlib.suppress(OSError):
            names += socket.gethostbyname_ex(socket.gethostname())[2]
        seen = [n for i, n in enumerate(names) if n and n not in names[:i]]
        found = [n for n in seen if n != "localhost" and not n.startswith("127.")]
        return [f"{scheme}://{n}:{self.port}/" for n in found] or [
            f"{scheme}://THIS-COMPUTER'S-ADDRESS:{self.port}/ (listening on every network)"
        ]

    def _announce(self, _message: str) -> None:
        """Once listening (aiohttp calls this after binding): the address to share."""
        print(f"reviewflow: serving {self.workspace.config.title!r}", flush=True)
        for url in self.share_urls():
            print(f"  share this address: {url}", flush=True)
        print("  each person signs in with their reviewer name and passphrase; Ctrl+C stops",
              flush=True)  # fmt: skip

    async def on_shutdown(self, app: web.Application) -> None:
        if self._watch:
            self._watch.cancel()
        for apps in list(self.running.values()):
            for service, websocket in list(apps):
                await websocket.close()
                await service.stop()
        await self.spares.close()

    def serve(self, debug: bool = False) -> None:
        logging.basicConfig(level=logging.INFO, format="reviewflow serve: %(message)s")
        loop = asyncio.new_event_loop()
        web.run_app(self._make_app(), host=self.host, port=self.port, loop=loop,
                    ssl_context=self.ssl_context, print=self._announce, access_log=None)  # fmt: skip

    # -- sessions ----------------------------------------------------------------------------
    async def _db(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def session_of(self, request: web.Request) -> tuple[str, access.Identity] | None:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        try:
            who = await self._db(access.session_identity, self.store, token)
        except AccessError:
            return None
        return token, who

    def _csrf(self, request: web.Request) -> str:
        """The browser's anti-forgery token (made once per browser, kept for the request)."""
        if CSRF_KEY not in request:
            request[CSRF_KEY] = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        return request[CSRF_KEY]

    def _cookie(self, response: web.StreamResponse, name: str, value: str, hours: float) -> None:
        response.set_cookie(name, value, max_age=int(hours * 3600), path="/", httponly=True,
                            samesite="Strict", secure=self.ssl_context is not None)  # fmt: skip

    def _html(self, request: web.Request, text: str, status: int = 200) -> web.Response:
        response = web.Response(text=text, status=status, content_type="text/html")
        self._cookie(response, CSRF_COOKIE, self._csrf(request), self.session_hours)
        return response

    def _form_csrf_ok(self, request: web.Request, form: Any) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return bool(cookie) and secrets.compare_digest(cookie, str(form.get("csrf", "")))

    async def _watch_sessions(self) -> None:
        """Stop the apps of sessions that have ended (signed out, passphrase changed, expired)."""
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            for token in list(self.running):
                try:
                    await self._db(access.session_identity, self.store, token)
                except AccessError:
                    await self._stop_apps(token)

    async def _stop_apps(self, token: str) -> None:
        for service, websocket in list(self.running.pop(token, set())):
            await websocket.close()
            await service.stop()

    # -- pages -------------------------------------------------------------------------------
    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        found = await self.session_of(request)
        if found is None:
            raise web.HTTPSeeOther("/signin")
        _token, who = found
        scheme = "wss" if self.ssl_context else "ws"
        page = app_page(self.workspace.config.title, who.name, who.role, self._csrf(request),
                        f"{scheme}://{request.host}/ws")  # fmt: skip
        return self._html(request, page)

    async def handle_sign_in_form(self, request: web.Request) -> web.StreamResponse:
        if await self.session_of(request) is not None:
            raise web.HTTPSeeOther("/")
        return self._html(request, sign_in_page(self.workspace.config.title, self._csrf(request)))

    def _refused(self, request: web.Request, message: str, name: str, status: int) -> web.Response:
        page = sign_in_page(self.workspace.config.title, self._csrf(request), message, name)
        return self._html(request, page, status)

    async def handle_sign_in(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        name = str(form.get("name", "")).strip()[:100]
        passphrase = str(form.get("passphrase", ""))
        client = request.remote or "?"
        if not self._form_csrf_ok(request, form):
            return self._refused(request, "The sign-in form expired: please try again.", name, 400)
        wait = self.limiter.wait_seconds(name, client)
        if wait > 0:
            log.warning("sign-in refused for %r from %s: too many failures", name, client)
            minutes = max(1, round(wait / 60))
            return self._refused(
                request, f"Too many failed sign-ins: try again in {minutes} minute(s).", name, 429
            )
        try:
            who = await self._db(access.check_passphrase, self.store, name, passphrase)
            if all(r.name != who.name for r in self.workspace.config.reviewers):
                raise AccessError(access.SIGN_IN_FAILED)  # no longer on the team
        except AccessError:
            count = self.limiter.failed(name, client)
            log.warning("sign-in failed for %r from %s (%d in 15 min)", name, client, count)
            await self._db(access.record_failed_sign_in, self.store, name, client, count)
            await asyncio.sleep(FAILURE_DELAY_S)
            return self._refused(request, access.SIGN_IN_FAILED.capitalize() + ".", name, 401)
        self.limiter.succeeded(name)
        token = await self._db(access.open_session, self.store, who, client, self.session_hours)
        log.info("%s signed in from %s", who.name, client)
        response = web.HTTPSeeOther("/")
        self._cookie(response, SESSION_COOKIE, token, self.session_hours)
        raise response

    async def handle_sign_out(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        found = await self.session_of(request)
        if found is not None and self._form_csrf_ok(request, form):
            token, who = found
            await self._db(access.close_session, self.store, token)
            await self._stop_apps(token)
            log.info("%s signed out", who.name)
        response = web.HTTPSeeOther("/signin")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    # -- the app -----------------------------------------------------------------------------
    def _same_origin(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin", "")
        scheme = "https" if self.ssl_context else "http"
        return origin == f"{scheme}://{request.host}"

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        found = await self.session_of(request)
        if found is None or not self._same_origin(request):
            raise web.HTTPForbidden(text="sign in first")
        token, who = found
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        await websocket.prepare(request)
        service = SessionApp(self.app_command, token=token, spares=self.spares,
                             write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                             close=websocket.close, download_manager=self.download_manager)  # fmt: skip
        entry = (service, websocket)
        self.running[token].add(entry)
        log.info("%s opened the app", who.name)
        try:
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a broken connection: log it, keep serving the others
            log.warning("%s: app connection failed: %s", who.name, error)
        finally:
            await service.stop()
            await _reap(service)
            self.running.get(token, set()).discard(entry)
            if not self.running.get(token):
                self.running.pop(token, None)
        return websocket

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        found = await self.session_of(request)
        key = request.match_info["key"]
        try:
            download = await self.download_manager.get_download_metadata(key)
        except KeyError:
            raise web.HTTPNotFound(text="no such download") from None
        owner = getattr(download.app_service, "token", None)
        if found is None or owner != found[0]:
            raise web.HTTPForbidden(text="not your download")
        return await super().handle_download(request)


async def _reap(service: AppService) -> None:
    """Wait for the app process to end (it was asked to quit); kill it if it does not."""
    process = service._process
    if process is None or process.returncode is not None:
        return
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


async def _ignore(_data: Any) -> None:
    return None


async def _nothing() -> None:
    return None


async def _no_content(_request: web.Request) -> web.Response:
    return web.Response(status=204)


def _int(value: str | None, default: int) -> int:
    try:
        return max(10, min(int(value or default), 1000))
    except ValueError:
        return default


def tls_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ReviewflowError(
            f"{certfile} / {keyfile}: cannot load the TLS key pair ({exc})"
        ) from None
    return context
