"""The seam between the E-utilities client and HTTP.

The client talks to any object with a ``requests.Session``-shaped ``request`` method; the
default is a real ``requests.Session``. Tests hand it a :class:`ReplayTransport` that plays a
recorded session back (no network), and :class:`RecordingTransport` wraps a live transport to
write such a recording. Recordings never hold the API key or the contact e-mail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

# parameters that identify the user: never written to a recording
PRIVATE_PARAMS = ("api_key", "email")


class Transport(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        """Return an object with ``status_code``, ``content`` (bytes) and ``headers``."""
        ...


def default_transport() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "reviewflow (https://github.com/reviewflow/reviewflow)"
    return session


def endpoint_of(url: str) -> str:
    """``https://…/eutils/esearch.fcgi`` → ``esearch``."""
    return url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")


def public_params(params: Mapping[str, str] | None) -> dict[str, str]:
    """The parameters without the API key and the e-mail address."""
    return {k: str(v) for k, v in (params or {}).items() if k not in PRIVATE_PARAMS}


@dataclass
class Reply:
    """A recorded or replayed HTTP reply."""

    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


@dataclass
class Exchange:
    """One request and its reply (or the transport error it raised) in a recording."""

    method: str
    endpoint: str
    params: dict[str, str]
    status: int = 200
    body: str = ""  # file name of the body, beside the session file
    headers: dict[str, str] = field(default_factory=dict)
    raises: str = ""  # "timeout" | "connection": the transport raised instead of replying
    note: str = ""  # where the body came from (recorded, or built from the documented format)


@dataclass
class SentRequest:
    """What a replay transport was asked (for tests to assert which requests were made)."""

    method: str
    endpoint: str
    params: dict[str, str]


def _raise_transport_error(kind: str, endpoint: str) -> None:
    if kind == "timeout":
        raise requests.ReadTimeout(f"read timed out ({endpoint})")
    if kind == "connection":
        raise requests.ConnectionError(
            f"Failed to establish a new connection: [Errno 111] Connection refused ({endpoint})"
        )
    raise ValueError(f"unknown transport error kind {kind!r}")


class ReplayTransport:
    """Plays exchanges back in order, checking each request against the recording.

    A request that does not match the next exchange (endpoint, method, and every recorded
    parameter) raises ``AssertionError``: the client asked for something the recording does not
    hold. ``sent`` lists every request made, without private parameters.
    """

    def __init__(self, exchanges: list[Exchange], folder: Path | None = None) -> None:
        self.exchanges = list(exchanges)
        self.folder = folder
        self.position = 0
        self.sent: list[SentRequest] = []
        self.raw_params: list[dict[str, str]] = []  # what was really sent, key included

    @classmethod
    def load(cls, session_file: Path) -> ReplayTransport:
        data = json.loads(session_file.read_text(encoding="utf-8"))
        exchanges = [Exchange(**item) for item in data["exchanges"]]
        return cls(exchanges, session_file.parent)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Reply:
        sent = {**(params or {}), **(data or {})}
        self.raw_params.append({k: str(v) for k, v in sent.items()})
        endpoint = endpoint_of(url)
        request = SentRequest(method.upper(), endpoint, public_params(sent))
        self.sent.append(request)
        if self.position >= len(self.exchanges):
            raise AssertionError(f"request beyond the recording: {request}")
        ex = self.exchanges[self.position]
        self.position += 1
        if ex.method.upper() != request.method or ex.endpoint != endpoint:
            raise AssertionError(f"expected {ex.method} {ex.endpoint}, got {request}")
        for key, value in ex.params.items():
            if request.params.get(key) != value:
                raise AssertionError(
                    f"exchange {self.position}: {key}={request.params.get(key)!r}, "
                    f"recording has {value!r}"
                )
        if ex.raises:
            _raise_transport_error(ex.raises, endpoint)
        body = b""
        if ex.body:
            if self.folder is None:
                raise AssertionError("a replay with body files needs its folder")
            body = (self.folder / ex.body).read_bytes()
        return Reply(ex.status, body, dict(ex.headers))

    @property
    def exhausted(self) -> bool:
        return self.position == len(self.exchanges)


class RecordingTransport:
    """Wraps a live transport and writes every exchange to ``folder`` (``session.json`` plus one
    body file per reply). The API key and the e-mail are left out of the recording."""

    def __init__(self, inner: Transport, folder: Path) -> None:
        self.inner = inner
        self.folder = folder
        self.exchanges: list[Exchange] = []
        folder.mkdir(parents=True, exist_ok=True)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        endpoint = endpoint_of(url)
        sent = public_params({**(params or {}), **(data or {})})
        number = len(self.exchanges) + 1
        try:
            reply = self.inner.request(method, url, params=params, data=data, timeout=timeout)
        except requests.Timeout:
            self._add(Exchange(method.upper(), endpoint, sent, raises="timeout"))
            raise
        except requests.ConnectionError:
            self._add(Exchange(method.upper(), endpoint, sent, raises="connection"))
            raise
        body = reply.content
        # a 429 reply echoes the api-key in its JSON body: scrub private values from bodies too
        for key in PRIVATE_PARAMS:
            value = str({**(params or {}), **(data or {})}.get(key) or "")
            if value:
                body = body.replace(value.encode(), b"***")
        suffix = "json" if body.lstrip()[:1] == b"{" else "xml"
        name = f"{number:03d}-{endpoint}.{suffix}"
        (self.folder / name).write_bytes(body)
        keep = {
            k: v for k, v in reply.headers.items() if k.lower() in ("retry-after", "content-type")
        }
        self._add(
            Exchange(method.upper(), endpoint, sent, reply.status_code, name, keep, note="recorded")
        )
        return reply

    def _add(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        payload = {"exchanges": [vars(e) for e in self.exchanges]}
        (self.folder / "session.json").write_text(
            json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
