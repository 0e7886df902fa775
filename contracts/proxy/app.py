"""The proxy as an ASGI app: forward, pass the answer back as it arrives, then judge and record it.

The request body is read whole and forwarded at once (with ``--reject-invalid`` it is judged first); the
answer is sent on piece by piece as the upstream framed it (:mod:`~apitwin.contracts.proxy.upstream`: the bytes
unchanged, content encoding included), so a stream reaches the client event by event. A stream's events are
judged as each one has passed (:mod:`~apitwin.contracts.proxy.live_events`), so a broken one is reported
mid-stream; the request, the rest of the answer and the recording follow its last byte. Nothing the proxy judges
changes what the client receives, or when.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from apitwin.contracts.fuzz.events import Exchange
from apitwin.contracts.proxy import admin, entries
from apitwin.contracts.proxy.findings import Finding
from apitwin.contracts.proxy.headers import forwarded, masked_headers, masked_query, secret_values
from apitwin.contracts.proxy.journal import Journal, Seen, scrubbed
from apitwin.contracts.proxy.judge import Judge, RequestVerdict
from apitwin.contracts.proxy.live_events import LiveEvents
from apitwin.contracts.proxy.record import Chunk, Recorder, WireExchange
from apitwin.contracts.proxy.reject import rejection
from apitwin.contracts.proxy.upstream import Upstream, UpstreamError
from apitwin.recordings.records import RecordedExchange, RecordedRequest, RecordedResponse, join_headers

if TYPE_CHECKING:
    from apitwin.contracts.sse import Problem
    from apitwin.mockserver.operations import Operation

DROPPED_REQUEST_HEADERS = frozenset({b"host", b"content-length", b"expect"})
"""The upstream client writes the first two for its connection; ``Expect: 100-continue`` was met already (uvicorn
answered it, the proxy holds the whole body)."""
REPORTED_BODY_LIMIT = 20_000
INLINE_JUDGING_BYTES = 256 * 1024
"""Answers up to this size are judged on the event loop once their last byte is sent: a thread would cost more
in switching (and in waiting for the GIL) than judging them takes; larger ones go to a thread."""


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
        clock: Callable[[], float] = time.perf_counter,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.judge = judge
        self.journal = journal
        self.options = options
        self.upstream = options.upstream.rstrip("/")
        self.recorder = recorder
        self.clock = clock
        self.wall_clock = wall_clock
        self.client: Upstream | None = None
        self.numbers = 0
        self.secret_names = tuple(
            scheme.get("name", "")
            for scheme in judge.api.security_schemes.values()
            if scheme.get("type") == "apiKey" and scheme.get("name")
        )

    def _client(self) -> Upstream:
        if self.client is None:
            self.client = Upstream(self.upstream, self.options.timeout)
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
        target = raw_path.decode("latin-1") + (f"?{query}" if query else "")
        url = self.upstream + target
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in raw_headers]
        secrets = _Secrets(headers, query, self.secret_names)
        recorded = RecordedExchange(
            number, f"exchange {number}", RecordedRequest(method, url, join_headers(headers), body), None
        )
        arrived = entries.Arrived(self.journal.api, method, scope["path"], query, wall, raw_headers, body)
        verdict = None
        if self.options.reject_invalid:  # judged before it may go upstream; otherwise after the answer has passed
            verdict = self._judged_request(recorded, secrets)
            if verdict.findings:
                answer = rejection(self.judge.api, verdict.operation, verdict.path, verdict.findings)
                await _send_whole(send, answer.status, [("content-type", answer.media_type)], answer.body)
                self.journal.judged += 1
                arrived.status = answer.status
                arrived.response_headers = [(b"content-type", answer.media_type.encode("latin-1"))]
                arrived.response_body, arrived.latency_ms = answer.body, (self.clock() - started) * 1000
                self._entry(arrived, verdict, verdict.findings, secrets)
                self._show(recorded, headers, arrived, verdict.label)
                return
        try:
            response = await self._client().send(
                method, target, forwarded(raw_headers, drop=DROPPED_REQUEST_HEADERS), body
            )
        except UpstreamError as error:
            if verdict is None:
                verdict = self._judged_request(recorded, secrets)
            message = f"#{number} {method} {scope['path']}: the upstream {self.upstream} did not answer: {error}"
            self.journal.error(message)
            await _send_whole(
                send, 502, [("content-type", "text/plain; charset=utf-8")], f"apitwin proxy: {message}\n".encode()
            )
            self.journal.judged += 1
            arrived.status, arrived.response_body = 502, f"apitwin proxy: {message}\n".encode()
            arrived.latency_ms = (self.clock() - started) * 1000
            self._entry(arrived, verdict, verdict.findings, secrets)
            self._show(recorded, headers, arrived, verdict.label)
            return
        wait_ms = (self.clock() - started) * 1000
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": forwarded(response.raw_headers)}
        )
        response_headers = join_headers(response.headers)
        chunks: list[bytes] = []
        arrivals: list[float] = []
        cut_short = False
        encoding = response_headers.get("content-encoding")
        operation = (
            verdict.operation if verdict is not None else self.judge.route(method, url, recorded.request.headers)
        )
        live = _live(self.judge, operation, response.status_code, response_headers, encoding)
        live_findings: list[Finding] = []
        clock = self.clock
        try:
            async for chunk in response.pieces():
                if not chunk:
                    continue
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                chunks.append(chunk)
                arrivals.append(clock())
                if live is not None:
                    problems = live.feed(chunk)
                    if problems:
                        live_findings += self._live_problems(recorded, operation, problems, secrets)
        except UpstreamError as error:
            cut_short = True
            self.journal.error(f"#{number} {method} {scope['path']}: the upstream broke off the answer: {error.kind}")
        finally:
            await response.aclose()
        if not cut_short:
            # Ending a broken answer normally would tell the client it is whole (a chunked one gets its last
            # chunk); left unfinished, uvicorn drops the connection once this exchange is judged and journaled.
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if live is not None:
            live_findings += self._live_problems(recorded, operation, live.finish(), secrets)
        raw = b"".join(chunks)
        decoded = _decoded(raw, encoding)
        recorded.response = RecordedResponse(
            response.status_code, response_headers, decoded, truncated=cut_short or decoded is None
        )
        latency_ms = (clock() - started) * 1000
        reads = [len(chunk) for chunk in chunks]
        inline = len(raw) + len(body) <= INLINE_JUDGING_BYTES
        if verdict is None:
            verdict = self.judge.request(recorded) if inline else await asyncio.to_thread(self.judge.request, recorded)
            self._note_request(verdict, secrets)
        judged_events = live.events if live is not None and verdict.operation is operation else None
        judging = functools.partial(
            self.judge.response, recorded, verdict.operation, reads, cut_short=cut_short, judged_events=judged_events
        )
        findings = judging() if inline else await asyncio.to_thread(judging)
        if findings:
            self.journal.found(findings, secrets.values)
        findings = live_findings + findings
        self.journal.judged += 1
        arrived.status, arrived.response_headers = response.status_code, response.raw_headers
        arrived.response_body, arrived.latency_ms = decoded, latency_ms
        offsets = [(at - started) * 1000 for at in arrivals]
        arrived.chunks = list(zip(offsets, chunks, strict=True)) if decoded is raw else [(latency_ms, decoded or b"")]
        self._entry(arrived, verdict, [*verdict.findings, *findings], secrets)
        self._show(recorded, headers, arrived, verdict.label)
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
                    response_headers=_without_encoding(response.headers) if decoded is not raw else response.headers,
                    response_body=decoded if decoded is not None else raw,
                    chunks=[Chunk(offset, len(chunk)) for offset, chunk in zip(offsets, chunks, strict=True)],
                    wait_ms=wait_ms,
                    total_ms=(clock() - started) * 1000,
                ),
            )

    def _entry(
        self, arrived: entries.Arrived, verdict: RequestVerdict, findings: list[Finding], secrets: _Secrets
    ) -> None:
        """The exchange in the journal the proxy's ``/_apitwin/`` pages read."""
        clean = [scrubbed(finding, secrets.values) for finding in findings]
        operation = verdict.operation.operation_id if verdict.operation is not None else ""
        entries.write(self.journal.entries, arrived, operation, clean, self.secret_names)

    def _show(
        self, recorded: RecordedExchange, headers: list[tuple[str, str]], arrived: entries.Arrived, label: str
    ) -> None:
        """The exchange as the reports show it (``label``: its operation), made only for one that broke the spec
        first in some way."""
        if not self.journal.shows(recorded.number):
            return
        exchange = _report_exchange(recorded, headers, self.secret_names)
        exchange.status = arrived.status
        exchange.response_headers = dict(masked_headers(_text_pairs(arrived.response_headers), self.secret_names))
        exchange.response_body = _shown(arrived.response_body)
        exchange.elapsed = arrived.latency_ms / 1000
        curl = _curl(recorded, arrived.request_headers, self.secret_names)
        self.journal.keep(Seen(recorded.number, label, exchange, curl))

    def _live_problems(
        self, recorded: RecordedExchange, operation: Operation | None, problems: list[Problem], secrets: _Secrets
    ) -> list[Finding]:
        """Findings of events judged as they passed, each a journal line right away."""
        if not problems or operation is None:
            return []
        findings = self.judge.event_findings(recorded, operation, problems)
        self.journal.found(findings, secrets.values)
        return findings

    def _judged_request(self, recorded: RecordedExchange, secrets: _Secrets) -> RequestVerdict:
        verdict = self.judge.request(recorded)
        self._note_request(verdict, secrets)
        return verdict

    def _note_request(self, verdict: RequestVerdict, secrets: _Secrets) -> None:
        self.journal.saw(verdict.label)
        if verdict.findings:
            self.journal.found(verdict.findings, secrets.values)


class _Secrets:
    """The credentials a request carries, found only when some text is about to be written (a finding)."""

    __slots__ = ("_found", "_headers", "_names", "_query")

    def __init__(self, headers: list[tuple[str, str]], query: str, names: tuple[str, ...]) -> None:
        self._headers, self._query, self._names = headers, query, names
        self._found: list[str] | None = None

    @property
    def values(self) -> list[str]:
        if self._found is None:
            self._found = secret_values(self._headers, self._query, self._names)
        return self._found


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


def _text_pairs(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def _live(
    judge: Judge, operation: Operation | None, status: int, headers: dict[str, str], encoding: str | None
) -> LiveEvents | None:
    """A reader of the answer's events as they pass, when it is a stream the spec declares and not compressed."""
    if (encoding or "identity").strip().lower() != "identity":
        return None
    spec = judge.live(operation, status, headers.get("content-type") or "")
    return None if spec is None else LiveEvents(spec)


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


def _curl(recorded: RecordedExchange, headers: Sequence[tuple[bytes, bytes]], secret_names: tuple[str, ...]) -> str:
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
    sent = _text_pairs(forwarded(headers, drop=DROPPED_REQUEST_HEADERS))
    for name, value in masked_headers(sent, secret_names):
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body:
        parts += ["--data-raw", shlex.quote(request.body.decode("utf-8", "replace"))]
    return " ".join(parts)


__all__ = ["Finding", "ProxyApp", "ProxyOptions"]
