"""A mock for client tests: the app with a request log and a responder, served on loopback.

``RunningMock`` is one mock server (uvicorn in a background thread on a free loopback port,
started on first use of its URL and reused across tests); ``ApitwinMock`` is what one test sees
of it: its URLs, an in-process transport, the requests it received and the spec violations in
them, and ``answer_with`` to make it answer with a given response (e.g. one drawn by
:func:`contracts.strategies.responses`).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from apitwin.contracts.strategies import DrawnResponse
from apitwin.contracts.verification import Requests, SeenRequest
from apitwin.contracts.verification import assert_called as verify_called
from apitwin.mockserver.operations import Operation
from apitwin.mockserver.request_log import RequestLog, RequestRecord
from apitwin.mockserver.violations import Violation

RESPONSE_MODES = ("generate", "hypothesis")
DEFAULT_API_KEY = "apitwin-test-key"
START_TIMEOUT = 30.0
BODY_LIMIT = 1024 * 1024
"""Bytes of a request body a test's journal keeps, enough for ``requests()`` to parse what clients send."""


class MockConfigError(ValueError):
    """Options a mock cannot be started with; the message says which and why."""


@dataclass(frozen=True, slots=True)
class MockSettings:
    """What a test asks of its mock (``@pytest.mark.apitwin(...)`` keywords)."""

    api: str
    seed: int = 0
    strict: bool = True
    """Fail the test when a request it sent breaks the spec."""
    responses: str = "generate"
    """``generate``: answers come from the spec's generator unless ``answer_with`` set one;
    ``hypothesis``: every answer must be set with ``answer_with`` (an unset one is a loud 500)."""
    reject_invalid: bool = True
    """True: an invalid request gets the error the API would give; False: it is answered as if valid."""
    api_key: str | None = None
    self_check: bool = True
    replay: str | None = None
    """Recordings (a HAR file or a directory, e.g. from ``apitwin proxy --record``): a recorded request gets
    the recorded answer; a relative path starts at the pytest root directory."""
    replay_strict: bool = False
    """With ``replay``: a request nothing recorded matches gets a 404 naming the nearest recordings."""

    @classmethod
    def from_options(cls, api: str | None, options: dict[str, Any]) -> MockSettings:
        known = set(cls.__dataclass_fields__) - {"api"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise MockConfigError(f"unknown apitwin option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if not api:
            raise MockConfigError(
                "apitwin needs an API: @pytest.mark.apitwin(api='aimlapi') or apitwin_mock_factory('aimlapi')"
            )
        settings = cls(api=str(api), **options)
        if settings.responses not in RESPONSE_MODES:
            raise MockConfigError(f"responses={settings.responses!r}: expected one of {', '.join(RESPONSE_MODES)}")
        return settings

    def server_key(self) -> tuple[Any, ...]:
        """Settings that change the server itself; ``strict`` is judged per test, so it is not one."""
        return (
            self.api,
            self.seed,
            self.responses,
            self.reject_invalid,
            self.api_key,
            self.self_check,
            self.replay,
            self.replay_strict,
        )


class Responder:
    """The answers a test chose, by operation (``None``: any operation); the app asks it first."""

    def __init__(self, required: bool) -> None:
        self.required = required
        self._answers: dict[str | None, DrawnResponse] = {}
        self._lock = threading.Lock()
        self.unanswered: list[str] = []
        """Requests that came with no answer set: the test is told, whatever its client shows of a 500."""

    def set(self, answer: DrawnResponse | tuple[int, str | None, Any], operation: str | None) -> None:
        with self._lock:
            self._answers[operation] = DrawnResponse(*answer)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self.unanswered.clear()

    def __call__(self, operation: Operation) -> tuple[int, str | None, Any] | None:
        with self._lock:
            answer = (
                self._answers.get(operation.operation_id)
                or self._answers.get(operation.label)
                or self._answers.get(None)
            )
        if answer is not None:
            return tuple(answer)
        if self.required:
            detail = (
                f"apitwin: no answer was set for {operation.label} ({operation.operation_id}); "
                "responses='hypothesis' needs apitwin_mock.answer_with(...) before each request"
            )
            self.unanswered.append(detail)
            return (
                500,
                "application/problem+json",
                {"type": "about:blank", "title": "No answer set", "status": 500, "detail": detail},
            )
        return None


class RunningMock:
    """One mock app, its log and responder; served on loopback once someone asks for its URL."""

    def __init__(self, settings: MockSettings) -> None:
        from apitwin.mockserver.app import create_app

        self.settings = settings
        self.log = RequestLog(body_limit=BODY_LIMIT)
        self.responder = Responder(required=settings.responses == "hypothesis")
        self.app = create_app(
            [settings.api],
            seed=settings.seed,
            api_key=settings.api_key,
            self_check=settings.self_check,
            request_log=self.log,
            reject_invalid=settings.reject_invalid,
            responder=self.responder,
            replay=settings.replay,
            replay_strict=settings.replay_strict,
            replay_pace="none",  # a test waits for nothing
        )
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        with self._lock:
            if self._base_url is None:
                self._base_url = self._start()
            return self._base_url

    def reset(self) -> None:
        self.log.clear()
        self.responder.clear()

    def _start(self) -> str:
        import uvicorn

        sock = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # TCP proto: asyncio then sets TCP_NODELAY (else ~40 ms per request)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"apitwin-mock-{self.settings.api}-{port}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"the apitwin mock for {self.settings.api} did not start on 127.0.0.1:{port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None
        self._base_url = None


@dataclass(slots=True)
class ApitwinMock:
    """One test's view of a mock."""

    running: RunningMock
    settings: MockSettings
    _transport: httpx.ASGITransport | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # short: hypothesis prints it in every failing example
        return f"ApitwinMock(api={self.settings.api!r})"

    @property
    def api(self) -> str:
        return self.settings.api

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the API's paths start here (the server starts on first use)."""
        return self.running.base_url

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    @property
    def api_key(self) -> str:
        """A key the mock accepts (any well-formed one, unless the test fixed ``api_key``)."""
        return self.settings.api_key or DEFAULT_API_KEY

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def transport(self) -> httpx.ASGITransport:
        """In-process transport for ``httpx.AsyncClient(transport=..., base_url="http://apitwin")``."""
        if self._transport is None:
            self._transport = httpx.ASGITransport(app=self.running.app)
        return self._transport

    @property
    def requests(self) -> Requests:
        """The requests received (records of the journal); ``requests(operation=...)`` gives them parsed."""
        return Requests(self.running.log.records())

    def assert_called(self, operation: str, *, times: int | None = None, body_matches: Any = None) -> list[SeenRequest]:
        """Fail unless ``operation`` was called (``times`` times) with a body matching ``body_matches``
        (see ``contracts.verification``); the matching calls, parsed."""
        __tracebackhide__ = True
        return verify_called(
            self.running.log.records(), operation, times=times, body_matches=body_matches, api=self.api
        )

    @property
    def violations(self) -> list[Violation]:
        return self.running.log.violations()

    def answer_with(self, response: DrawnResponse | tuple[int, str | None, Any], operation: str | None = None) -> None:
        """Answer every following request (to ``operation``, an operationId or ``"POST /path"``;
        default: any) with ``response`` = ``(status, media_type, body)``, until set again."""
        self.running.responder.set(response, operation)

    def responses(self, operation: str, **options: Any) -> Any:
        """:func:`contracts.strategies.responses` for this mock's API."""
        from apitwin.contracts.strategies import responses

        return responses(self.settings.api, operation, **options)


def render_violations(records: list[RequestRecord], api: str) -> str:
    """The failure message: each offending request and, under it, each violation."""
    offending = [record for record in records if record.violations]
    count = sum(len(record.violations) for record in offending)
    lines = [f"apitwin: {len(offending)} request(s) broke the {api} spec ({count} violation(s)):"]
    for record in offending:
        lines.append(f"  {record.method} {record.path} [{record.operation or 'no operation'}] -> {record.status}")
        for violation in record.violations:
            lines.append("    " + render_violation(violation))
    return "\n".join(lines)


def render_violation(violation: Violation) -> str:
    """``body/max_tokens: '10' is not of type 'number' (expected type "number", received "10")``."""
    where = violation.field() or violation.location
    message = violation.message.removeprefix(f"{where}: ") or "breaks the spec"
    if not violation.expected and not violation.received:
        return f"{where}: {message}"
    return f"{where}: {message} (expected {violation.expected or '?'}, received {violation.received or '?'})"
