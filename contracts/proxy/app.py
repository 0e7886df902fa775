"""The proxy as an ASGI app: forward, pass the answer back as it arrives, then judge and record it.

The request body is read whole (it is judged before it is forwarded); the answer is sent on read by
read as it comes from the upstream (``aiter_raw``: the bytes unchanged, content encoding included),
so a stream reaches the client event by event. Judging and recording happen once the answer is
complete and never change what the client received.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httpx
from starlette.requests import Request

from apitwin.contracts.fuzz.events import Exchange
from apitwin.contracts.proxy import admin, entries
from apitwin.contracts.proxy.findings import Finding
from apitwin.contracts.proxy.headers import forwarded, masked_headers, masked_query, secret_values
from apitwin.contracts.proxy.journal import Journal, Seen, scrubbed
from apitwin.contracts.proxy.judge import Judge, RequestVerdict
from apitwin.contracts.proxy.record import Chunk, Recorder, WireExchange
from apitwin.contracts.proxy.reject import rejection
from apitwin.recordings.records import RecordedExchange, RecordedRequest, RecordedResponse, join_headers

DROPPED_REQUEST_HEADERS = ("host", "content-length")
"""httpx writes both for the upstream connection."""
HTTPX_DEFAULTS = ("accept", "accept-encoding", "user-agent")
"""Headers httpx adds on its own: the upstream sees only what the client sent."""
REPORTED_BODY_LIMIT = 20_000


@dataclass(slots=True)
class ProxyOptions:
    upstream: str
    reject_invalid: bool = False
    timeout: float = 600.0
    """Seconds without a byte from the upstream before the exchange is given up (streams may think long)."""
    admin_token: str | None = None
    """Asked for on ``/_apitwin/`` (the dashboard over the journal); None: open, as on loopback."""


class ProxyApp:
    def __init__(
        self,
        judge: Judge,
        journal: Journal,
        options: ProxyOptions,
        *,
        recorder: Recorder | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.perf_counter,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.judge = judge
        self.journal = journal
        self.options = options
        self.upstream = options.upstream.rstrip("/")
        self.recorder = recorder
        self.transport = transport
        self.clock = clock
        self.wall_clock = wall_clock
        self.client: httpx.AsyncClient | None = None
        self.numbers = 0
        self.secret_names = tuple(
            scheme.get("name", "")
            for scheme in judge.api.security_schemes.values()
            if scheme.get("type") == "apiKey" and scheme.get("name")
        )

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=60)
            timeout = httpx.Timeout(self.options.timeout, connect=10.0)
            self.client = httpx.AsyncClient(
                transport=self.transport, limits=limits, timeout=timeout, follow_redirects=False
            )
            for name in HTTPX_DEFAULTS:
                self.client.headers.pop(name, None)
        return self.client

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and admin.is_admin_path(scope["path"]):
            view = admin.JournalView(self.journal.entries, {self.judge.api.name: self.judge.api})
            answer = await admin.answer(view, Request(scope, receive), self.options.admin_token)
            await answer(scope, receive, send)
        elif scope["type"] == "http":
            await self._exchange(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def _exchange(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started, wall = self.clock(), self.wall_clock()
        self.numbers += 1
        number = self.numbers
        body = await _read_body(receive)
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"").decode("latin-1")
        url = self.upstream + raw_path.decode("latin-1") + (f"?{query}" if query else "")
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]]
        secrets = secret_values(headers, query, self.secret_names)
        recorded = RecordedExchange(
            number, f"exchange {number}", RecordedRequest(method, url, join_headers(headers), body), None
        )
        seen = Seen(
            number,
            "undocumented",
            _report_exchange(recorded, headers, self.secret_names),
            _curl(recorded, headers, self.secret_names),
        )
        arrived = entries.Arrived(self.journal.api, method, scope["path"], query, wall, headers, body)
        verdict = None
        if self.options.reject_invalid:  # judged before it may go upstream; otherwise after, off the loop
            verdict = self._judged_request(recorded, seen, secrets)
            if verdict.findings:
                answer = rejection(self.judge.api, verdict.operation, verdict.path, verdict.findings)
                await _send_whole(send, answer.status, [("content-type", answer.media_type)], answer.body)
                self.journal.judged += 1
                arrived.status, arrived.response_headers = answer.status, [("content-type", answer.media_type)]
                arrived.response_body, arrived.latency_ms = answer.body, (self.clock() - started) * 1000
                self._entry(arrived, verdict, verdict.findings, secrets)
                return
        request = self._client().build_request(
            method, url, headers=forwarded(headers, drop=DROPPED_REQUEST_HEADERS), content=body
        )
        try:
            response = await self._client().send(request, stream=True)
        except httpx.HTTPError as error:
            if verdict is None:
                verdict = self._judged_request(recorded, seen, secrets)
            message = (
                f"#{number} {method} {scope['path']}: the upstream {self.upstream} did not answer: "
                f"{type(error).__name__}: {error}"
            )
            self.journal.error(message)
            await _send_whole(
                send, 502, [("content-type", "text/plain; charset=utf-8")], f"apitwin proxy: {message}\n".encode()
            )
            self.journal.judged += 1
            arrived.status, arrived.response_body = 502, f"apitwin proxy: {message}\n".encode()
            arrived.latency_ms = (self.clock() - started) * 1000
            self._entry(arrived, verdict, verdict.findings, secrets)
            return
        wait_ms = (self.clock() - started) * 1000
        response_headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in response.headers.raw]
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [
                    (key.encode("latin-1"), value.encode("latin-1")) for key, value in forwarded(response_headers)
                ],
            }
        )
        chunks: list[bytes] = []
        timings: list[Chunk] = []
        cut_short = False
        try:
            async for chunk in response.aiter_raw():
                if not chunk:
                    continue
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                chunks.append(chunk)
                timings.append(Chunk((self.clock() - started) * 1000, len(chunk)))
        except httpx.HTTPError as error:
            cut_short = True
            self.journal.error(
                f"#{number} {method} {scope['path']}: the upstream broke off the answer: {type(error).__name__}"
            )
        finally:
            await response.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        raw = b"".join(chunks)
        decoded = _decoded(raw, response.headers.get("content-encoding"))
        recorded.response = RecordedResponse(
            response.status_code, join_headers(response_headers), decoded, truncated=cut_short or decoded is None
        )
        seen.exchange.status = response.status_code
        seen.exchange.response_headers = dict(masked_headers(response_headers, self.secret_names))
        seen.exchange.response_body = _shown(decoded)
        seen.exchange.elapsed = self.clock() - started
        reads = [timing.size for timing in timings]
        if verdict is None:
            verdict = await asyncio.to_thread(self.judge.request, recorded)
            self._note_request(verdict, seen, secrets)
        # judging is CPU work: in a thread, so the loop keeps forwarding other exchanges meanwhile
        findings = await asyncio.to_thread(self.judge.response, recorded, verdict.operation, reads, cut_short=cut_short)
        self.journal.found(findings, secrets)
        self.journal.judged += 1
        arrived.status, arrived.response_headers = response.status_code, response_headers
        arrived.response_body, arrived.latency_ms = decoded, seen.exchange.elapsed * 1000
        arrived.chunks = (
            [(timing.offset_ms, chunk) for timing, chunk in zip(timings, chunks, strict=True)]
            if decoded is raw
            else [(arrived.latency_ms, decoded or b"")]
        )
        self._entry(arrived, verdict, [*verdict.findings, *findings], secrets)
        if self.recorder is not None:
            await asyncio.to_thread(
                self.recorder.write,
                WireExchange(
                    started=wall,
                    method=method,
                    url=url,
                    request_headers=headers,
                    request_body=body,
                    status=response.status_code,
                    reason=response.reason_phrase or _phrase(response.status_code),
                    response_headers=_without_encoding(response_headers) if decoded is not raw else response_headers,
                    response_body=decoded if decoded is not None else raw,
                    chunks=timings,
                    wait_ms=wait_ms,
                    total_ms=(self.clock() - started) * 1000,
                ),
            )

    def _entry(
        self, arrived: entries.Arrived, verdict: RequestVerdict, findings: list[Finding], secrets: list[str]
    ) -> None:
        """The exchange in the journal the proxy's ``/_apitwin/`` pages read."""
        clean = [scrubbed(finding, secrets) for finding in findings]
        operation = verdict.operation.operation_id if verdict.operation is not None else ""
        entries.write(self.journal.entries, arrived, operation, clean, self.secret_names)

    def _judged_request(self, recorded: RecordedExchange, seen: Seen, secrets: list[str]) -> RequestVerdict:
        verdict = self.judge.request(recorded)
        self._note_request(verdict, seen, secrets)
        return verdict

    def _note_request(self, verdict: RequestVerdict, seen: Seen, secrets: list[str]) -> None:
        seen.operation = verdict.label
        self.journal.saw(seen)
        self.journal.found(verdict.findings, secrets)


async def _read_body(receive: Any) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(parts)


async def _send_whole(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw_headers = [(key.encode(), value.encode()) for key, value in headers]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _decoded(raw: bytes, encoding: str | None) -> bytes | None:
    """The body without its content encoding, for judging; None when it cannot be undone here."""
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return raw
    with contextlib.suppress(zlib.error):
        if coding in ("gzip", "x-gzip"):
            return zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            return zlib.decompress(raw)
    return None


def _without_encoding(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A recording keeps the decoded body, so the headers must not claim an encoding or the encoded length."""
    return [(key, value) for key, value in headers if key.lower() not in ("content-encoding", "content-length")]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _shown(body: bytes | None) -> str | None:
    if body is None:
        return None
    text = body.decode("utf-8", "replace")
    return text if len(text) <= REPORTED_BODY_LIMIT else text[:REPORTED_BODY_LIMIT] + "…"


def _report_exchange(
    recorded: RecordedExchange, headers: list[tuple[str, str]], secret_names: tuple[str, ...]
) -> Exchange:
    request = recorded.request
    base, _, query = request.url.partition("?")
    return Exchange(
        method=request.method,
        url=base + (f"?{masked_query(query, secret_names)}" if query else ""),
        request_headers=dict(masked_headers(headers, secret_names)),
        request_body=_shown(request.body),
        status=None,
        response_headers={},
        response_body=None,
        elapsed=0.0,
    )


def _curl(recorded: RecordedExchange, headers: list[tuple[str, str]], secret_names: tuple[str, ...]) -> str:
    """A command that repeats the request (credentials masked: put yours back)."""
    import shlex

    request = recorded.request
    base, _, query = request.url.partition("?")
    parts = [
        "curl",
        "-X",
        request.method,
        shlex.quote(base + (f"?{masked_query(query, secret_names)}" if query else "")),
    ]
    for name, value in masked_headers(forwarded(headers, drop=DROPPED_REQUEST_HEADERS), secret_names):
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body:
        parts += ["--data-raw", shlex.quote(request.body.decode("utf-8", "replace"))]
    return " ".join(parts)


__all__ = ["Finding", "ProxyApp", "ProxyOptions"]
