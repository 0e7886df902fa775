"""The mock server: one ASGI app serving one or more compiled specs.

Request path: pick the API → route → authenticate → read and parse the body → validate →
choose the response (``Prefer``, ``stream``, ``Accept``) → produce it. Everything derived
from a spec is compiled in ``create_app``; a request only looks things up.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from apitwin import specs
from apitwin.mockserver import admin, admin_access, replay
from apitwin.mockserver.admin import ADMIN_PREFIX
from apitwin.mockserver.answer_cache import DEFAULT_CACHE_BYTES, AnswerCache
from apitwin.mockserver.auth import Guard
from apitwin.mockserver.base_path import strip as strip_base
from apitwin.mockserver.behaviours import Behaviour, Exchange, behaviours_for
from apitwin.mockserver.behaviours.jobs import media_answer
from apitwin.mockserver.behaviours.services import JobTiming, Services
from apitwin.mockserver.behaviours.skeleton import Skeletons
from apitwin.mockserver.error_responses import error_response, refusal
from apitwin.mockserver.errors import (
    INVALID_REQUEST,
    NOT_FOUND,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAUTHENTICATED,
    error_answer,
    problem_response,
)
from apitwin.mockserver.errors import validation_status as _validation_status
from apitwin.mockserver.faults import HEADER as FAULTS_HEADER
from apitwin.mockserver.faults import (
    FaultDice,
    FaultError,
    Faults,
    delayed,
    error_headers,
    for_request,
    quiet_cut_logs,
)
from apitwin.mockserver.faults import parse as parse_faults
from apitwin.mockserver.generate import GenerationError
from apitwin.mockserver.journal import DEFAULT_BODY_LIMIT
from apitwin.mockserver.journal import DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES
from apitwin.mockserver.json_body import OFF_LOOP_BYTES, off_loop, parse_json
from apitwin.mockserver.live_settings import LiveSettings
from apitwin.mockserver.media import MEDIA_PREFIX
from apitwin.mockserver.operations import (
    CompiledApi,
    Media,
    Operation,
    RequestBody,
    ResponseSpec,
    answer_random,
    compile_api,
    is_json,
    sent_media_type,
)
from apitwin.mockserver.pacing import HEADER as PACING_HEADER
from apitwin.mockserver.pacing import Pacing, PacingError, Streams, checked, parse_header
from apitwin.mockserver.produce import SelfCheckError, iterate, produce, response_headers
from apitwin.mockserver.request_body import DEFAULT_BODY_TIMEOUT, BodyReader
from apitwin.mockserver.request_log import (
    RequestLog,
    note_api,
    note_body,
    note_operation,
    note_violations,
)
from apitwin.mockserver.routing import Match, from_decoded, from_raw
from apitwin.mockserver.selection import (
    NO_PREFERENCES,
    PreferenceError,
    choose_example,
    choose_media,
    choose_status,
    parse_prefer,
    wants_stream,
)
from apitwin.mockserver.state import DEFAULT_MAX_BYTES, DEFAULT_TTL, StoreLimits, open_store
from apitwin.mockserver.state.scoped import CURRENT_SCOPE, ScopedStore, scope_for
from apitwin.mockserver.validation import form_fields, validate_body, validate_parameters
from apitwin.mockserver.violations import Violation
from apitwin.mockserver.xml_body import XmlBodyError, is_xml

logger = logging.getLogger("apitwin.mock")

DEFAULT_MAX_BODY = 10 * 1024 * 1024


@dataclass(slots=True)
class Options:
    seed: int = 0
    api_key: str | None = None
    admin_key: str | None = None
    """Callers of ``/_apitwin/requests`` presenting this bearer token see the values other clients sent;
    others see their types. Without it, values are shown only while the mock is open (no ``api_key``)."""
    admin_token: str | None = None
    """Every ``/_apitwin/`` route but media asks for this token, and shows values to those who present it (see
    ``mockserver.admin_access``); None: open, as on loopback."""
    self_check: bool = False
    max_body: int = DEFAULT_MAX_BODY
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    """Seconds to wait for the next piece of a request body before answering 408."""
    state: str = "memory"
    """Where jobs, stored responses and sessions live: ``memory``, ``sqlite[:///file.db]``, ``redis://…``."""
    state_ttl: float = DEFAULT_TTL
    """Seconds a stored object lives after it was last written."""
    state_max_bytes: int = DEFAULT_MAX_BYTES
    """Bytes all stored objects may take together (memory and SQLite; Redis bounds itself)."""
    cache_max_bytes: int = DEFAULT_CACHE_BYTES
    """Bytes of remembered answers per process (see ``mockserver.answer_cache``)."""
    job_polls: int = 2
    """Polls a job answers in each status before it moves to the next one."""
    job_seconds: float | None = None
    """When set, a job moves on after this many seconds per status instead (whichever comes first)."""
    job_paths: dict[str, list[str]] | None = None
    """Per job family (its create path), the statuses a job walks before it is done, instead of the overlay's."""
    ttft_ms: float = 0.0
    """Milliseconds before the first event of a stream (``X-Apitwin-Pacing`` overrides it per request)."""
    tokens_per_second: float = 0.0
    """Rate of the text in a stream after its first event; 0 sends everything at once."""
    request_log: RequestLog | None = None
    """Where every exchange and its violations are recorded (a fresh journal when not given)."""
    journal_body_bytes: int = DEFAULT_BODY_LIMIT
    """Bytes of each body (and of a stream's events) the journal keeps; the rest is cut, and the entry says so."""
    journal_max_bytes: int = DEFAULT_JOURNAL_BYTES
    """Bytes of text all journal entries may hold together; the oldest go first."""
    reject_invalid: bool = True
    """False: a request that breaks the spec is recorded in the log and answered as if it were valid."""
    responder: Callable[[Operation], tuple[int, str | None, Any] | None] | None = None
    """Gives the answer ``(status, media_type, body)`` for a valid request instead of the generator (None: generate)."""
    clock: Callable[[], float] = time.time
    """Seconds since the epoch: job progress by time and stored timestamps read it (tests pass a fake one)."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    """How pacing, latency and first-byte delays are waited out (tests pass a recorder)."""
    faults: str | None = None
    """Error statuses injected at rates, ``429:0.05,500:0.01`` (see ``mockserver.faults``)."""
    latency_ms: float = 0.0
    """Added before every answer."""
    first_byte_ms: float = 0.0
    """Headers at once, the body this much later."""
    cut_stream_after: int | None = None
    """Event streams are dropped mid-body after this many events."""
    replay: str | None = None
    """Recordings (a HAR file or a directory, as ``apitwin proxy --record`` writes): a request recorded there
    gets the recorded answer (see ``mockserver.replay``)."""
    replay_pace: str = "recorded"
    """``recorded``: streams keep their recorded timing; ``none``: sent at once."""
    replay_strict: bool = False
    """A request no recording matches gets a 404 naming the nearest recorded requests, not a generated answer."""
    replay_ignore: tuple[str, ...] = ("user", "metadata")
    """Top-level request fields left out when a request is matched to a recording."""
    answer_templates: bool = True
    """Keep the skeletons answers start from between requests (see ``behaviours.skeleton``); False draws
    them on every request: the slow path, with the same answers, that the fast one is tested against."""


def create_app(apis: Iterable[str | Path] | Mapping[str, dict[str, Any]] | None = None, **options: Any) -> MockApp:
    """The ASGI app serving ``apis``: shipped API names, OpenAPI files, or ``{name: document}``.

    One API is served at the root; several (or none given: all shipped) each under ``/<name>/``.
    Options: the fields of :class:`Options` (``seed``, ``api_key``, ``self_check``, ``state``, …).
    """
    compiled = [compile_api(name, document) for name, document in _documents(apis)]
    return MockApp(MockServer(compiled, Options(**options)))


class MockApp:
    """The ASGI app: every HTTP request goes straight to the server (every path is the mock's, so
    there is no router to consult), and the lifespan opens and closes the state store."""

    def __init__(self, server: MockServer) -> None:
        self.server = server

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            try:
                response = await self.server.handle(request)
            except ClientDisconnect:
                logger.warning("client went away mid-request: %s %s", scope.get("method"), scope.get("path"))
                return  # nobody is left to answer
            except Exception:  # a bug in apitwin: say so in a 500 rather than drop the connection
                logger.exception("apitwin failed on %s %s", scope.get("method"), scope.get("path"))
                response = problem_response(
                    500, "apitwin failed on this request (see the server log)", scope.get("path", "")
                )
            await response(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        async with contextlib.AsyncExitStack() as stack:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    try:
                        await stack.enter_async_context(self.server.lifespan())
                    except Exception as error:  # noqa: BLE001 -- any start-up failure is reported to the server
                        await send({"type": "lifespan.startup.failed", "message": str(error)})
                        return
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await stack.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return


def _documents(apis: Iterable[str | Path] | Mapping[str, dict[str, Any]] | None) -> list[tuple[str, dict[str, Any]]]:
    if apis is None:
        return [(name, specs.load(name)) for name in specs.names()]
    if isinstance(apis, Mapping):
        return list(apis.items())
    result = []
    for item in apis:
        name = str(item) if specs.shipped(str(item)) else Path(item).stem
        result.append((name, specs.load(item)))
    return result


class MockServer:
    def __init__(self, apis: list[CompiledApi], options: Options) -> None:
        self.apis = {api.name: api for api in apis}
        self.at_root = len(apis) == 1
        self.options = options
        self.request_log = (
            options.request_log
            if options.request_log is not None
            else RequestLog(max_bytes=options.journal_max_bytes, body_limit=options.journal_body_bytes)
        )
        limits = StoreLimits(options.state_ttl, options.state_max_bytes, options.clock)
        self.store = ScopedStore(open_store(options.state, limits))
        self.pacing: Pacing = checked(options.ttft_ms, options.tokens_per_second)
        self.streams = Streams(self.pacing, options.sleep, _cut_after)
        self.faults: Faults = parse_faults(
            options.faults,
            latency_ms=options.latency_ms,
            first_byte_ms=options.first_byte_ms,
            cut_after=options.cut_stream_after,
        )
        self.live = LiveSettings(list(self.apis), self.faults, self.pacing)
        """Faults and pacing per API, as the dashboard changes them (the options' values until then)."""
        self.dice = FaultDice(options.seed)
        quiet_cut_logs()
        self._behaviours: dict[int, tuple[list[Behaviour], bool]] = {}
        """By operation, chosen on its first request (see ``behaviours_of``)."""
        self._plans: dict[int, OperationPlan] = {}
        """By operation, what its requests need from it alone (see ``plan_of``)."""
        self._prepared: set[int] = set()
        """Operations whose lazily built parts exist (see ``prepared``)."""
        self._preparing = threading.Lock()
        self.freeze_prepared = False
        """Keep what ``prepared`` builds out of the garbage collector's scans too (``gc.freeze``), as ``apitwin serve``
        does with what it compiled at start: left to scan, a warmed-up server's full collections take tens of
        milliseconds, each one holding every request. Off in-process (tests, the pytest plugin): freezing is for the
        whole interpreter."""
        self.answers = AnswerCache(max_bytes=options.cache_max_bytes)
        self.bodies = BodyReader(options.max_body, options.body_timeout)
        self.skeletons = Skeletons(keep=options.answer_templates)
        self.services = Services(
            store=self.store,
            clock=options.clock,
            self_check=options.self_check,
            skeletons=self.skeletons,
            jobs=JobTiming(options.job_polls, options.job_seconds, options.job_paths),
            streams=self.streams,
        )
        """What behaviours may use of this server."""
        self.replay = (
            replay.load(
                options.replay,
                apis,
                pace=options.replay_pace,
                strict=options.replay_strict,
                ignore=options.replay_ignore,
            )
            if options.replay
            else None
        )

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Reach the state store before serving (a wrong path or a Redis that is down fails the start,
        not the first request), and close it when the server stops."""
        await self.store.get("apitwin", "startup")
        try:
            yield
        finally:
            await self.store.close()

    async def prepared(self, api: CompiledApi, operation: Operation) -> None:
        """Build, once and in a worker thread, what an operation builds on first use (validators, generators, its
        behaviours: near a second of Python for a Responses operation), so that its first request does not hold
        the event loop; requests for other operations are answered meanwhile."""
        if id(operation) not in self._prepared:
            await asyncio.to_thread(self._prepare, api, operation)

    def _prepare(self, api: CompiledApi, operation: Operation) -> None:
        with self._preparing:  # a second first request waits here, in its thread, for the first one's build
            if id(operation) in self._prepared:
                return
            operation.build_deferred()
            with contextlib.suppress(Exception):  # it fails again, where it is used, as it would have
                self.behaviours_of(api, operation)
            self._prepared.add(id(operation))
            if self.freeze_prepared:
                gc.collect(1)  # the young garbage the build left, so that freezing keeps none of it
                gc.freeze()

    def behaviours_of(self, api: CompiledApi, operation: Operation) -> tuple[list[Behaviour], bool]:
        """The behaviours that answer ``operation``, and whether its answers depend on the request alone (see
        ``answer_cache``). Chosen on first use: for all 288 operations of OpenAI's spec it took seconds of start-up."""
        chosen = self._behaviours.get(id(operation))
        if chosen is None:
            chosen = self._behaviours[id(operation)] = behaviours_for(api, operation)
        return chosen

    def plan_of(self, api: CompiledApi, operation: Operation) -> OperationPlan:
        """What every request to ``operation`` needs from it alone, worked out on its first request."""
        plan = self._plans.get(id(operation))
        if plan is None:
            success = choose_status(operation, NO_PREFERENCES) if operation.responses else None
            media = (
                (None, None)
                if success is None
                else (
                    choose_media(success[1], accept=None, wants_stream=False),
                    choose_media(success[1], accept=None, wants_stream=True),
                )
            )
            plan = self._plans[id(operation)] = OperationPlan(
                Guard(operation.security, api.security_schemes), success, media
            )
        return plan

    def base_paths(self) -> dict[str, str]:
        return {name: "" if self.at_root else f"/{name}" for name in self.apis}

    async def handle(self, request: Request) -> Response:
        started = self.options.clock()
        token = _FAULTS.set(None)
        try:
            answer = await self._handle(request)
            faults = _FAULTS.get()
        finally:
            _FAULTS.reset(token)
        if faults is not None and faults.latency_ms > 0:
            await self.options.sleep(faults.latency_ms / 1000)
        if faults is not None and faults.first_byte_ms > 0:
            answer = await delayed(answer, faults.first_byte_ms, self.options.sleep)
        if not request.scope["path"].startswith(ADMIN_PREFIX):
            answer = self.request_log.record(
                request, answer, api=note_api(request), started=started, clock=self.options.clock
            )
        return answer

    async def _handle(self, request: Request) -> Response:
        path = request.scope["path"]
        if path.startswith(MEDIA_PREFIX):
            return await self._media(path, request.method)
        if path.startswith(ADMIN_PREFIX):
            refused = admin_access.guard(
                request, self.options.admin_token, ADMIN_PREFIX, admin_key=self.options.admin_key
            )
            return refused or await admin.answer(self, request, self._reveals(request))
        api, path = self._pick_api(routing_path(request.scope))
        note_api(request, api.name if api is not None else "")
        if api is None:
            return problem_response(
                404,
                f"no API is served at {request.scope['path']}; APIs: " + ", ".join(f"/{n}/" for n in self.apis),
                request.scope["path"],
            )
        try:
            answer = await self._serve(api, path, request)
            return _bodiless(answer) if answer.status_code in NO_CONTENT else answer
        except SelfCheckError as error:
            logger.error("self-check failed for %s %s: %s", request.method, request.scope["path"], error)
            return problem_response(500, f"apitwin self-check: {error}", request.scope["path"])
        except GenerationError as error:  # the spec's fault, not apitwin's: said in a line, without a traceback
            logger.warning("no answer the spec allows for %s %s: %s", request.method, request.scope["path"], error)
            message = f"apitwin cannot draw an answer the spec allows: {error}"
            return problem_response(500, message, request.scope["path"])

    def _pick_api(self, path: str) -> tuple[CompiledApi | None, str]:
        if self.at_root:
            return next(iter(self.apis.values())), path
        name, _, rest = path.lstrip("/").partition("/")
        return self.apis.get(name), "/" + rest

    async def _media(self, path: str, method: str) -> Response:
        """A media file a job answer pointed to (``/_apitwin/media/<name>``)."""
        if method not in ("GET", "HEAD"):
            return problem_response(405, f"{method} is not allowed on {path}; allowed: GET, HEAD", path)
        answer = await media_answer(self.store, path[len(MEDIA_PREFIX) :])
        return (
            answer
            if answer is not None
            else problem_response(404, f"no media file at {path} (unknown name, or the server's state was reset)", path)
        )

    def _reveals(self, request: Request) -> bool:
        """Whether the caller may see the values other clients sent (see ``Options.admin_key``); a caller that
        got past the admin token holds it, and may."""
        if self.options.admin_token is not None:
            return True
        if self.options.admin_key is None:
            return self.options.api_key is None
        return admin_access.matches(admin_access.presented(request), self.options.admin_key)

    async def _serve(self, api: CompiledApi, path: str, request: Request) -> Response:
        query_string = _query(request)
        method = request.scope["method"]
        headers = _headers(request)
        path, match = _route(api, path, method, query_string, headers)
        if not match.found_path:
            return error_response(api, None, 404, f"no operation at {request.method} {path}", path)
        operation = match.target
        if operation is None:
            assert match.route is not None
            allowed = ", ".join(api.router.allowed(match.route))
            answer = error_response(
                api, None, 405, f"{request.method} is not allowed on {path}; allowed: {allowed}", path
            )
            answer.headers["Allow"] = allowed
            return answer
        note_operation(request, operation.operation_id)

        query = parse_qs(query_string, keep_blank_values=True) if query_string else {}
        cookies = _cookies(request, headers)
        guard = self.plan_of(api, operation).guard
        reason = guard.refusal(headers=headers, query=query, cookies=cookies, api_key=self.options.api_key)
        if reason is not None:
            return error_response(api, operation, 401, reason, path, kind=UNAUTHENTICATED)
        CURRENT_SCOPE.set(scope_for(api.name, guard.secret(headers=headers, query=query, cookies=cookies)))

        try:
            preferences = parse_prefer(headers.get("prefer"))
        except PreferenceError as error:
            return problem_response(400, str(error), path)
        live = self.live[api.name]
        try:
            pacing = parse_header(headers.get(PACING_HEADER), live.pacing)
        except PacingError as error:
            return error_response(api, operation, 400, str(error), path)
        try:
            faults = for_request(headers.get(FAULTS_HEADER), live.faults)
        except FaultError as error:
            return error_response(api, operation, 400, str(error), path)

        if id(operation) not in self._prepared:
            await self.prepared(api, operation)
        raw, refused = await self.bodies.read(request, headers.get("content-length"))
        note_body(request, raw)
        if refused == 413:
            return error_response(
                api, operation, 413, f"request body is larger than the limit of {self.options.max_body} bytes", path
            )
        if refused == 408:
            message = f"request body not received within {self.options.body_timeout:g} s of its last piece"
            return error_response(api, operation, 408, message, path)
        if self.replay is not None and (recorded := self.replay.find(api.name, method, path, query_string, raw)):
            return self.replay.answer(recorded, self.options.sleep)
        repeat = self._repeat_key(api, operation, request, path, raw, faults)
        if repeat is not None and (remembered := self.answers.repeated(repeat)) is not None:
            return remembered
        violations = validate_parameters(
            operation, path=match.path_parameters, query=query, headers=headers, cookies=cookies
        )
        body, status, problem, form = await _parse_body(operation, request, raw, headers.get("content-type"))
        if problem is not None:
            return error_response(api, operation, status, problem.message, path, [problem])
        if form is not None:
            violations += (
                validate_body(operation, form, body)
                if len(raw) <= OFF_LOOP_BYTES
                else await off_loop(partial(validate_body, operation, form, body), len(raw))
            )
        if violations and not self.options.reject_invalid:
            note_violations(request, violations)
        elif violations:
            message = "; ".join(violation.message for violation in violations[:3])
            return error_response(api, operation, _validation_status(operation), message, path, violations)
        if self.replay is not None and self.replay.strict:
            missed = self.replay.miss(api.name, method, path, query_string, raw)
            return refusal(api, operation, 404, missed, path, location="replay", kind=NOT_FOUND)
        if self.options.responder is not None and (given := self.options.responder(operation)) is not None:
            return _given_answer(*given)
        if faults.active:
            _FAULTS.set(faults)
            injected = self.dice.status(faults)
            if injected is not None:
                return self._injected(api, operation, injected, path)
        if not self.behaviours_of(api, operation)[1] or faults.active or self.options.responder is not None:
            return await self._answer(
                api, operation, path, request, match.path_parameters, query, headers, preferences, pacing, body, raw
            )
        key = AnswerCache.key(api.name, operation.operation_id, method, path, query_string, raw, headers)
        remembered = self.answers.get(key, repeat)
        if remembered is not None:
            return remembered
        answer = await self._answer(
            api, operation, path, request, match.path_parameters, query, headers, preferences, pacing, body, raw
        )
        self.answers.put(key, answer, repeat)
        return answer

    def _repeat_key(
        self, api: CompiledApi, operation: Operation, request: Request, path: str, raw: bytes, faults: Faults
    ) -> tuple[Any, ...] | None:
        """The whole request (path, query, every header, body), when an identical one may get the answer remembered
        for it without being checked again (see ``AnswerCache.repeated``): requests that break the spec are refused
        (so a remembered answer was given to a request that passed every check, and every check reads only what this
        key holds), and no replay, test responder or fault stands between the checks and the answer."""
        if not self.options.reject_invalid or self.replay is not None or self.options.responder is not None:
            return None
        if faults.active or not self.behaviours_of(api, operation)[1]:
            return None
        scope = request.scope
        return (api.name, scope["method"], path, scope["query_string"], raw, tuple(scope["headers"]))

    async def _answer(
        self,
        api: CompiledApi,
        operation: Operation,
        path: str,
        request: Request,
        path_parameters: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        preferences: Any,
        pacing: Pacing,
        body: Any,
        raw: bytes,
    ) -> Response:
        """The answer to a valid request: the chosen response, from a behaviour or the generator."""
        try:
            plan = self.plan_of(api, operation)
            success = plan.success if preferences.code is None else None
            status_code, response = success or choose_status(operation, preferences)
            accept, stream = headers.get("accept"), wants_stream(body)
            media = (
                plan.success_media[stream]
                if success is not None and not accept
                else choose_media(response, accept=accept, wants_stream=stream)
            )
            example = choose_example(media, preferences) if media is not None else (False, None)
        except PreferenceError as error:
            return problem_response(400, str(error), path)
        seed = preferences.seed if preferences.seed is not None else self.options.seed
        parsed = body if is_json(headers.get("content-type") or "application/json") else None
        rng = answer_random(seed, request.method, path, _query(request), raw, parsed)
        behaviours = self.behaviours_of(api, operation)[0]
        exchange: Exchange | None = None
        if behaviours and preferences.code is None and not example[0]:
            exchange = Exchange(
                self.services,
                api,
                operation,
                path,
                path_parameters,
                query,
                headers,
                None if body is _ABSENT else body,
                status_code,
                response,
                media,
                rng,
                seed=seed,
                pacing=pacing,
                request=request,
                body_size=len(raw),
            )
            for behaviour in behaviours:
                answer = await behaviour(exchange)
                if answer is not None:
                    return answer
        if status_code >= 400 and media is not None and media.media_type.endswith("json") and not example[0]:
            failure = error_answer(api, response, status_code, response.description or "error", path=path)
            return Response(
                failure.body,
                status_code=status_code,
                media_type=failure.media_type,
                headers={**response_headers(response, rng), **error_headers(status_code)},
            )
        produced = produce(media, rng, example=example, self_check=self.options.self_check)
        extra = {
            **response_headers(response, rng),
            **error_headers(status_code),  # every 429 says when to come back, asked for or injected
            **(exchange.reply_headers if exchange is not None else {}),
        }
        if produced.events is not None:
            return self.streams.answer(
                iterate(produced.events),
                pacing=pacing,
                status_code=status_code,
                media_type=produced.media_type,
                headers={**extra, "Cache-Control": "no-cache"},
            )
        return Response(produced.content, status_code=status_code, media_type=produced.media_type, headers=extra)

    def _injected(self, api: CompiledApi, operation: Operation, status: int, path: str) -> Response:
        """An injected error: the API's error shape for the status, ``Retry-After`` on a 429."""
        kind = RATE_LIMITED if status == 429 else SERVER_ERROR if status >= 500 else INVALID_REQUEST
        message = f"injected fault: {status} {HTTPStatus(status).phrase} (apitwin --faults / X-Apitwin-Faults)"
        answer = refusal(api, operation, status, message, path, location="fault", kind=kind)
        answer.headers.update(error_headers(status))
        return answer


@dataclass(frozen=True, slots=True)
class OperationPlan:
    """What every request to an operation needs that depends on the operation alone."""

    guard: Guard
    """How a request is authenticated."""
    success: tuple[int, ResponseSpec] | None
    """The status and response answered unless ``Prefer: code=`` asks for another (None: the operation declares no
    response, which ``choose_status`` then says)."""
    success_media: tuple[Media | None, Media | None]
    """The media of ``success`` for a request without ``Accept``: not asking for a stream, and asking for one."""


def _route(
    api: CompiledApi, path: str, method: str, query: str = "", headers: Mapping[str, str] | None = None
) -> tuple[str, Match[Operation]]:
    """The operation for a path under the spec's server path (``/v1/…``) or at the root; the path
    returned is the one the operation matched, so both spellings get the same answer."""
    inner = strip_base(api.base_path, path)
    if inner is not None:
        match = api.router.match(inner, method, query, headers)
        if match.found_path:
            return inner, match
    return path, api.router.match(path, method, query, headers)


def routing_path(scope: Mapping[str, Any]) -> str:
    """The request's path as the router reads it (see ``routing.from_raw``): a slash the client percent-encoded
    inside a segment stays in that segment. Read from the raw path when it decodes to the scope's path (an app
    mounted under a prefix is routed from the decoded path, as before)."""
    path: str = scope["path"]
    raw = scope.get("raw_path")
    if not raw or b"%" not in raw:
        return path  # nothing was encoded
    text = raw.decode("ascii", "replace")
    return from_raw(text) if unquote(text) == path else from_decoded(path)


def _given_answer(status: int, media_type: str | None, body: Any) -> Response:
    """An answer a test supplied (``Options.responder``): JSON-encoded unless it is already bytes."""
    if media_type is None:
        return Response(status_code=status)
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=status, media_type=media_type)


NO_CONTENT = frozenset({204, 304})


def _bodiless(answer: Response) -> Response:
    """RFC 9110: a 204 or 304 carries no content, whatever the spec declares for it (60 APIs.guru specs give a
    204 a JSON body). The body drawn for one broke the framing: uvicorn sent the headers, then failed. The
    declared Content-Type stays, as metadata a client and schemathesis check against the spec."""
    stripped = Response(status_code=answer.status_code)
    stripped.raw_headers = [(name, value) for name, value in answer.raw_headers if name != b"content-length"]
    return stripped


def _query(request: Request) -> str:
    """The raw query string (``request.url`` would build a whole URL object each time)."""
    return request.scope["query_string"].decode("latin-1")


def _headers(request: Request) -> dict[str, str]:
    """The request's headers by lower-case name (the last of a repeated one), read from the ASGI scope as
    starlette's ``Headers`` would read them, without building one."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.scope["headers"]}


def _cookies(request: Request, headers: Mapping[str, str]) -> dict[str, str]:
    """The request's cookies, as starlette's ``Request.cookies`` parses them (from the first ``Cookie`` header)."""
    return request.cookies if "cookie" in headers else {}


_ABSENT = object()
_FAULTS: contextvars.ContextVar[Faults | None] = contextvars.ContextVar("apitwin_faults", default=None)
"""The faults of the request being served (read where its stream is wrapped and its answer sent)."""


def _cut_after() -> int | None:
    """After how many events the stream being answered is dropped (an injected fault), if at all."""
    faults = _FAULTS.get()
    return faults.cut_after if faults is not None else None


def _body_form(operation: Operation, content_type: str | None) -> RequestBody:
    media_type = sent_media_type(content_type)
    for declared, body in operation.bodies.items():
        if declared.lower() == media_type:
            return body
    for declared, body in operation.bodies.items():
        if (declared.endswith("/*") and media_type.startswith(declared[:-1])) or declared == "*/*":
            return body
    if is_json(media_type):
        for declared, body in operation.bodies.items():
            if is_json(declared):
                return body
    raise LookupError(media_type)


async def _parse_body(
    operation: Operation, request: Request, raw: bytes, content_type: str | None
) -> tuple[Any, int, Violation | None, RequestBody | None]:
    """(value, status, problem, form): status 0 means parsed (or absent) and ready to validate against ``form``
    (None when there is no body to validate)."""
    label = operation.operation_id
    if not operation.bodies:
        return _ABSENT, 0, None, None
    if not raw:
        if operation.body_required:
            return (
                _ABSENT,
                _validation_status(operation),
                Violation(label, "body", "", "a request body", "nothing", "request body is required"),
                None,
            )
        return _ABSENT, 0, None, None
    try:
        form = _body_form(operation, content_type)
    except LookupError:
        accepted = ", ".join(operation.bodies)
        return (
            _ABSENT,
            415,
            Violation(
                label,
                "content-type",
                "",
                accepted,
                content_type or "nothing",
                f"content type {content_type or '(none)'} is not accepted; expected {accepted}",
            ),
            None,
        )
    media_type = form.media_type.lower()
    if "*" in media_type:  # */*, application/*: the body is read as what the client says it sent
        media_type = sent_media_type(content_type)
    if is_json(media_type):
        value, limit_status, violation = (  # a small body is read here: a worker thread costs more than it takes
            parse_json(label, raw)
            if len(raw) <= OFF_LOOP_BYTES
            else await off_loop(partial(parse_json, label, raw), len(raw))
        )
        if violation is not None:
            return _ABSENT, limit_status or _validation_status(operation), violation, None
        return value, 0, None, form
    if media_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return form_fields(pairs, form.field_types), 0, None, form
    if media_type.startswith("multipart/"):
        try:
            form_data = await request.form()
        except Exception as error:  # noqa: BLE001 -- the multipart parser's errors are not one class
            return (
                _ABSENT,
                _validation_status(operation),
                Violation(
                    label, "body", "", "multipart form data", "unparseable", f"malformed multipart body: {error}"
                ),
                None,
            )
        pairs = [(key, value if isinstance(value, str) else "<file>") for key, value in form_data.multi_items()]
        return form_fields(pairs, form.field_types), 0, None, form
    if form.xml is not None and is_xml(media_type):
        try:
            return form.xml.read(raw), 0, None, form
        except XmlBodyError as error:
            problem = Violation(label, "body", "", "well-formed XML", "unparseable", f"malformed XML body: {error}")
            return _ABSENT, _validation_status(operation), problem, None
    return raw.decode("utf-8", "replace"), 0, None, form
