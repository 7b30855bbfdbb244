"""``reviewflow serve`` over HTTP (no browser): sign-in, cookies, refusals, limits, and the app
started for a session knowing who it serves from the server alone."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from reviewflow.serve import server as serve_module
from reviewflow.serve.limits import FailureLimiter
from reviewflow.serve.server import ReviewServer
from tests.team.conftest import PASSPHRASES, Team

SERVERS: dict[int, ReviewServer] = {}
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z~]|\x1b[()][A-Z0-9]|\x1b[=>]")


@pytest.fixture
async def client(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TestClient[Any, Any]]:
    monkeypatch.setattr(serve_module, "FAILURE_DELAY_S", 0.2)
    server = ReviewServer(team.ws, team.store, limiter=FailureLimiter(per_name=3, per_client=50))
    app = await server._make_app()
    test_client: TestClient[Any, Any] = TestClient(
        TestServer(app), cookie_jar=CookieJar(unsafe=True)
    )
    await test_client.start_server()
    SERVERS[id(test_client)] = server
    yield test_client
    SERVERS.pop(id(test_client))
    await test_client.close()


async def csrf(client: TestClient[Any, Any]) -> str:
    page = await (await client.get("/signin")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


async def sign_in(client: TestClient[Any, Any], name: str, secret: str) -> Any:
    token = await csrf(client)
    return await client.post("/signin", data={"csrf": token, "name": name, "passphrase": secret},
                             allow_redirects=False)  # fmt: skip


async def test_nothing_but_the_sign_in_page_without_a_session(client: TestClient[Any, Any]) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/signin"
    page = await client.get("/signin")
    body = await page.text()
    assert "Content-Security-Policy" in page.headers and "script-src 'self'" in page.headers[
        "Content-Security-Policy"]  # fmt: skip
    assert "<script>" not in body and page.headers["X-Frame-Options"] == "DENY"
    ws = await client.get("/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    assert ws.status == 403
    assert (await client.get("/download/anything")).status in (403, 404)


async def test_wrong_name_and_wrong_passphrase_get_the_same_answer(
    client: TestClient[Any, Any], team: Team
) -> None:
    answers = []
    for name in ("reviewer1", "nobody"):
        started = asyncio.get_running_loop().time()
        response = await sign_in(client, name, "not the passphrase")
        elapsed = asyncio.get_running_loop().time() - started
        body = await response.text()
        answers.append((response.status, re.sub(r'value="[^"]*"', "", body)))
        assert elapsed >= 0.2  # the delay after a failure
        assert "reviewflow_session" not in response.cookies
    assert answers[0] == answers[1] and answers[0][0] == 401
    assert "Unknown reviewer name or wrong passphrase." in answers[0][1]
    with team.store.engine.connect() as conn:
        logged = conn.execute(
            text("SELECT after FROM audit_log WHERE action = 'auth.failed'")
        ).all()
    assert len(logged) == 2 and "not the passphrase" not in str(logged)


async def test_repeated_failures_lock_the_name_even_for_the_right_passphrase(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        assert (await sign_in(client, "reviewer1", "guess guess guess")).status == 401
    response = await sign_in(client, "reviewer1", PASSPHRASES["reviewer1"])
    assert response.status == 429 and "Too many failed sign-ins" in await response.text()
    assert "reviewflow_session" not in response.cookies
    assert any("too many failures" in r.getMessage() for r in caplog.records)
    assert all(PASSPHRASES["reviewer1"] not in r.getMessage() for r in caplog.records)
    # another name from the same address is not locked
    assert (await sign_in(client, "reviewer2", PASSPHRASES["reviewer2"])).status == 303


async def test_a_forged_form_is_refused(client: TestClient[Any, Any]) -> None:
    await csrf(client)
    response = await client.post("/signin", data={"csrf": "forged", "name": "reviewer1",
                                                  "passphrase": PASSPHRASES["reviewer1"]})  # fmt: skip
    assert response.status == 400 and "reviewflow_session" not in response.cookies


async def test_signing_in_sets_a_strict_httponly_cookie_that_expires(
    client: TestClient[Any, Any], team: Team
) -> None:
    response = await sign_in(client, "reviewer1", PASSPHRASES["reviewer1"])
    assert response.status == 303 and response.headers["Location"] == "/"
    cookie = response.cookies["reviewflow_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and int(cookie["max-age"]) > 0
    assert not cookie["secure"]  # plain HTTP on loopback; set under TLS
    page = await (await client.get("/")).text()
    assert "signed in as <b>reviewer1</b>" in page and 'data-session-websocket-url="ws://' in page
    # sign out: the cookie no longer opens anything
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    out = await client.post("/signout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 303
    client.session.cookie_jar.update_cookies({"reviewflow_session": cookie.value})
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_the_app_learns_who_it_serves_from_the_session(client: TestClient[Any, Any]) -> None:
    """The websocket starts `python -m reviewflow home` for the session: it greets the person
    the session belongs to. A cross-site page cannot open it."""
    assert (await sign_in(client, "reviewer2", PASSPHRASES["reviewer2"])).status == 303
    origin = str(client.make_url("")).rstrip("/")
    refused = await client.get("/ws", headers={"Origin": "http://evil.example"})
    assert refused.status == 403
    ws = await client.ws_connect("/ws?width=100&height=30", headers={"Origin": origin})
    seen = ""
    try:
        async with asyncio.timeout(60):
            while "Signed in as reviewer2" not in ANSI.sub("", seen):
                message = await ws.receive()
                if isinstance(message.data, bytes):
                    seen += message.data.decode("utf-8", "replace")
    finally:
        await ws.close()
    text_seen = ANSI.sub("", seen)
    assert "Screen titles and abstracts" in text_seen
    assert "Reconcile" not in text_seen  # a reviewer's home offers no unblinded view


async def test_a_removed_reviewer_cannot_sign_in(client: TestClient[Any, Any], team: Team) -> None:
    toml = team.ws.root / "review.toml"
    toml.write_text(toml.read_text().replace('name = "reviewer2"', 'name = "reviewer3"'))
    from reviewflow.workspace import find_workspace

    SERVERS[id(client)].workspace = find_workspace(team.ws.root)
    response = await sign_in(client, "reviewer2", PASSPHRASES["reviewer2"])
    assert response.status == 401


def test_cookies_are_secure_under_tls(team: Team) -> None:
    import ssl

    server = ReviewServer(team.ws, team.store, ssl_context=ssl.create_default_context())
    assert server.public_url.startswith("https://")
    assert ClientSession  # imported for the async tests' fixture types
