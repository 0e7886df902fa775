"""Running a plan: send each case through the budget, run schemathesis' checks and apitwin's.

Nothing leaves except through :class:`BudgetSession`, so ``--max-requests`` is exact even for the
requests schemathesis' own checks send (the ``ignored_auth`` probes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import CheckContext, load_all_checks, not_a_server_error, run_checks
from schemathesis.core.transport import is_event_stream

from apitwin.contracts.fuzz.budget import Budget, BudgetExhausted, BudgetSession
from apitwin.contracts.fuzz.checks import Stream, run_stream_checks
from apitwin.contracts.fuzz.events import Exchange, Failure, OperationResult, RunReport
from apitwin.contracts.fuzz.plan import OperationPlan, PlannedCase
from apitwin.contracts.fuzz.sse import StreamSpecs, parse_events
from apitwin.contracts.fuzz.wire import WireJudge

BODY_LIMIT = 4000
FILTERED = "[Filtered]"


def standard_checks() -> list[Callable[..., Any]]:
    """The schemathesis checks the issue names, in the order a reader expects them."""
    load_all_checks()
    from schemathesis.specs.openapi import checks

    return [
        not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_headers_conformance,
        checks.response_schema_conformance,
        checks.negative_data_rejection,
        checks.positive_data_acceptance,
        checks.ignored_auth,
    ]


@dataclass(slots=True)
class Target:
    """Where and how requests go."""

    base_url: str
    api_key: str | None = None
    max_requests: int | None = None
    rate: float | None = None
    workers: int = 1
    timeout: float = 30.0


class Listener:
    """Progress hooks for the terminal; the default does nothing."""

    def started(self, plans: list[OperationPlan]) -> None: ...

    def case_done(self, plan: OperationPlan) -> None: ...

    def operation_done(self, result: OperationResult) -> None: ...


@dataclass(slots=True)
class Runner:
    document: dict[str, Any]
    target: Target
    listener: Listener = field(default_factory=Listener)
    budget: Budget = field(init=False)
    streams: StreamSpecs = field(init=False)
    checks: list[Callable[..., Any]] = field(init=False)
    wire: WireJudge = field(init=False)
    _local: threading.local = field(default_factory=threading.local)
    _enforced: set[str] = field(default_factory=set)
    _sessions: list[BudgetSession] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.budget = Budget(self.target.max_requests, self.target.rate)
        self.streams = StreamSpecs(self.document)
        self.checks = standard_checks()
        self.wire = WireJudge(self.document, self.target.base_url)

    def run(self, api: str, seed: int, plans: list[OperationPlan], shard: str | None = None) -> RunReport:
        started = time.monotonic()
        for schema in {id(plan.operation.schema): plan.operation.schema for plan in plans}.values():
            route_through_budget(schema, self._session)
        self.listener.started(plans)
        with ThreadPoolExecutor(max_workers=max(1, self.target.workers)) as pool:
            results = list(pool.map(self._run_operation, plans))
        for session in self._sessions:
            session.close()
        return RunReport(
            api=api,
            base_url=self.target.base_url,
            seed=seed,
            shards=[shard] if shard else [],
            max_requests=self.target.max_requests,
            requests_sent=self.budget.sent,
            budget_exhausted=self.budget.exhausted and any(result.skipped for result in results),
            duration=round(time.monotonic() - started, 3),
            operations=results,
        )

    def _session(self) -> BudgetSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = BudgetSession(self.budget)
            self._local.session = session
            self._sessions.append(session)
        return session

    def _run_operation(self, plan: OperationPlan) -> OperationResult:
        result = OperationResult(plan.label, plan.operation_id, planned=len(plan.cases), skipped=plan.skipped)
        started = time.monotonic()
        for index, planned in enumerate(plan.cases):
            try:
                self._run_case(plan, planned, result)
            except BudgetExhausted as error:
                result.skipped = f"{error}; {len(plan.cases) - index} of {len(plan.cases)} cases not sent"
                break
            self.listener.case_done(plan)
        result.duration = round(time.monotonic() - started, 3)
        self.listener.operation_done(result)
        return result

    def _run_case(self, plan: OperationPlan, planned: PlannedCase, result: OperationResult) -> None:
        case, session = planned.case, self._session()
        headers, params = credentials(self.document, plan.operation, self.target.api_key)
        before = session.sent
        try:
            response = case.call(
                base_url=self.target.base_url,
                session=session,
                headers=headers,
                params=params or None,
                timeout=self.target.timeout,
            )
            self._standard_checks(plan, planned, response, headers, params, result)
            self._stream_checks(plan, case, response, result)
        except requests.RequestException as error:
            result.errors.append(f"{case.method} {case.formatted_path}: {type(error).__name__}: {error}")
        finally:
            result.sent += session.sent - before

    def _standard_checks(
        self,
        plan: OperationPlan,
        planned: PlannedCase,
        response: Any,
        headers: dict[str, str],
        params: dict[str, str],
        result: OperationResult,
    ) -> None:
        case = planned.case
        transport = {
            "session": self._session(),
            "base_url": self.target.base_url,
            "headers": headers,
            "timeout": self.target.timeout,
        }
        if params:
            transport["params"] = params
        config = case.operation.schema.config.checks_config_for(operation=case.operation, phase=planned.phase)
        context = CheckContext(
            override=case._override,
            auth=None,
            headers=CaseInsensitiveDict(headers),
            config=config,
            transport_kwargs=transport,
            recorder=None,
            response_checks=None,
            auth_enforced_operations=self._enforced,
        )
        for check in self.checks:
            found: list[tuple[str, Any]] = []
            run_checks(
                case=case,
                response=response,
                ctx=context,
                checks=[check],
                on_failure=lambda name, _collected, failure: found.append((name, failure)),
            )
            if not found:
                result.checks_passed += 1
            for name, failure in found:
                if name == "negative_data_rejection" and self.wire.is_valid(response.request):
                    result.notes.append(
                        f"{case.method} {case.formatted_path}: generated as invalid, but valid as sent (e.g. a one-item array in a query is also a string); not judged"
                    )
                    continue
                result.failures.append(
                    self._failure(plan, case, response, name, failure.title, failure.message, _pointer(failure))
                )

    def _stream_checks(self, plan: OperationPlan, case: Any, response: Any, result: OperationResult) -> None:
        content_type = (response.headers.get("content-type") or [""])[0]
        if not is_event_stream(content_type):
            return
        spec = self.streams.for_response(case.operation.path, case.method, response.status_code, content_type)
        if spec is None:
            return
        arrival = self._session().arrival_of(response.request)
        reads = [size for _, size in arrival.reads] if arrival else []
        events = parse_events(response.content, reads)
        stream = Stream(
            spec,
            events,
            len(reads),
            bool(response.stream_cut_short),
            case.body if isinstance(case.body, dict) else None,
        )
        problems = run_stream_checks(stream)
        result.checks_passed += 1 if not problems else 0
        for problem in problems:
            result.failures.append(
                self._failure(plan, case, response, problem.check, problem.title, problem.message, problem.pointer)
            )

    def _failure(
        self, plan: OperationPlan, case: Any, response: Any, check: str, title: str, message: str, pointer: str
    ) -> Failure:
        secret = self.target.api_key
        return Failure(
            operation=plan.label,
            check=check,
            title=title,
            message=_hide(message, secret),
            pointer=pointer,
            curl=_hide(
                case.as_curl_command(headers=dict(response.request.headers), base_url=self.target.base_url), secret
            ),
            exchange=_exchange(response, secret),
        )


class _BudgetTransport:
    """The schema's transport, but a request sent without a session (schemathesis' auth probes drop
    the caller's) goes through this thread's budget session, so it is counted and refused like any other."""

    def __init__(self, inner: Any, session_for: Callable[[], BudgetSession]) -> None:
        self.inner = inner
        self.session_for = session_for

    def send(self, case: Any, *, session: requests.Session | None = None, **kwargs: Any) -> Any:
        return self.inner.send(case, session=session or self.session_for(), **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def route_through_budget(schema: Any, session_for: Callable[[], BudgetSession]) -> None:
    """Make ``schema.transport`` (a read-only property in schemathesis) the budgeted transport."""
    if getattr(schema, "_apitwin_budgeted", False):
        schema.__class__.transport = property(
            lambda _self, wrapper=_BudgetTransport(schema.transport.inner, session_for): wrapper
        )
        return
    wrapper = _BudgetTransport(schema.transport, session_for)
    schema.__class__ = type(
        f"Budgeted{type(schema).__name__}",
        (type(schema),),
        {"transport": property(lambda _self: wrapper), "_apitwin_budgeted": True},
    )


def credentials(document: dict[str, Any], operation: Any, api_key: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters carrying ``api_key`` the way the operation's security scheme says."""
    if not api_key:
        return {}, {}
    requirements = operation.definition.raw.get("security", document.get("security")) or []
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for requirement in requirements:
        for name in requirement or {}:
            scheme = schemes.get(name) or {}
            kind = scheme.get("type")
            if kind == "apiKey" and scheme.get("in") == "header":
                return {scheme["name"]: api_key}, {}
            if kind == "apiKey" and scheme.get("in") == "query":
                return {}, {scheme["name"]: api_key}
            if kind in ("http", "oauth2", "openIdConnect") and str(scheme.get("scheme", "bearer")).lower() == "bearer":
                return {"Authorization": f"Bearer {api_key}"}, {}
    return {"Authorization": f"Bearer {api_key}"}, {}


def _pointer(failure: Any) -> str:
    path = getattr(failure, "instance_path", None)
    if path is None:
        return ""
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)


def _hide(text: str, secret: str | None) -> str:
    return text.replace(secret, FILTERED) if secret else text


def _exchange(response: Any, secret: str | None) -> Exchange:
    request = response.request
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    return Exchange(
        method=str(request.method),
        url=_hide(str(request.url), secret),
        request_headers={name: _hide(str(value), secret) for name, value in request.headers.items()},
        request_body=_hide(body[:BODY_LIMIT], secret) if isinstance(body, str) else None,
        status=response.status_code,
        response_headers={name: ", ".join(values) for name, values in response.headers.items()},
        response_body=response.content[:BODY_LIMIT].decode("utf-8", errors="replace") if response.content else None,
        elapsed=round(response.elapsed, 4),
    )
