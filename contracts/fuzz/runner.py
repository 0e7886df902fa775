"""Running a plan: send each case through the budget, in the planned order, and run schemathesis'
checks and apitwin's.

Nothing leaves except through :class:`BudgetSession`, so ``--max-requests`` is exact even for the
requests schemathesis' own checks send (the ``ignored_auth`` probes). Cases go out in the order of
:func:`~apitwin.contracts.fuzz.plan.rounds` (workers take the next one as they free up), and the probes
wait while the budget left is needed for operations that have not had their first case yet.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from apitwin.contracts.fuzz.budget import Budget, BudgetExhausted, BudgetSession
from apitwin.contracts.fuzz.events import Exchange, Failure, NotCalled, OperationResult, RunReport
from apitwin.contracts.fuzz.lifecycles import Created, Follower, Lifecycle, discover, followed
from apitwin.contracts.fuzz.plan import OperationPlan, PlannedCase, rounds
from apitwin.contracts.fuzz.repro import basic_token, curl, hide
from apitwin.contracts.fuzz.shrink import fields, shrink
from apitwin.contracts.fuzz.wire import WireJudge
from apitwin.contracts.schemathesis_adapter import (
    check_context,
    is_event_stream,
    route_transport,
    run_check,
    standard_checks,
    with_body,
)
from apitwin.contracts.sse import Problem, Stream, StreamSpecs, parse_events, run_stream_checks
from apitwin.specs.pointer import join

BODY_LIMIT = 4000
VERDICT_FIRST = (
    "not_a_server_error",
    "negative_data_rejection",
    "positive_data_acceptance",
    "ignored_auth",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
"""Which check names a cause several checks saw: what went wrong before how the answer looks."""
NAMING_KEYWORDS = {"required", "additionalProperties", "unevaluatedProperties", "dependentRequired", "propertyNames"}
"""Schema keywords whose message names a field (``'id' is a required property``), not a received value."""
REJECTION_STATUSES = {"400", "422", "4XX", "DEFAULT"}
"""Documented statuses through which an operation says how it refuses invalid input."""
PROBES_PER_CHECK = 3
"""At most this many requests one ``ignored_auth`` check sends (no credentials, then a wrong one per scheme)."""


@dataclass(slots=True)
class Target:
    """Where and how requests go."""

    base_url: str
    api_key: str | None = None
    max_requests: int | None = None
    rate: float | None = None
    workers: int = 1
    timeout: float = 30.0
    shrink_requests: int = 10
    """Requests each cause may spend to shrink its request body (0: keep the smallest case seen)."""
    lifecycles: bool = True
    """After the cases, follow what create operations made (see :mod:`~apitwin.contracts.fuzz.lifecycles`)."""
    max_polls: int = 30
    poll_interval: float = 1.0


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
    ignored_auth: Callable[..., Any] = field(init=False)
    wire: WireJudge = field(init=False)
    _local: threading.local = field(default_factory=threading.local)
    _enforced: set[str] = field(default_factory=set)
    _sessions: list[BudgetSession] = field(default_factory=list)
    _unstarted: set[int] = field(default_factory=set)
    _stopped: bool = False
    _witnesses: dict[tuple[int, str], PlannedCase] = field(default_factory=dict)
    """Per (operation index, cause), the case that first showed it: where shrinking starts."""
    _shrinking: str = ""
    """The check of the cause being shrunk (``ignored_auth`` probes are skipped for any other)."""

    def __post_init__(self) -> None:
        self.budget = Budget(self.target.max_requests, self.target.rate)
        self.streams = StreamSpecs(self.document)
        self.checks = standard_checks()
        self.ignored_auth = self.checks[-1]
        self.wire = WireJudge(self.document, self.target.base_url)

    def run(
        self,
        api: str,
        seed: int,
        plans: list[OperationPlan],
        shard: str | None = None,
        unsafe: list[NotCalled] | None = None,
    ) -> RunReport:
        started = time.monotonic()
        for schema in {id(plan.operation.schema): plan.operation.schema for plan in plans}.values():
            route_transport(schema, self._session)
        results = [
            OperationResult(plan.label, plan.operation_id, planned=len(plan.cases), skipped=plan.skipped)
            for plan in plans
        ]
        order = rounds(plans)
        self._unstarted = {index for index, plan in enumerate(plans) if plan.cases}
        self.listener.started(plans)
        queue = iter(order)
        lock = threading.Lock()
        attempted = [0] * len(plans)

        def work() -> None:
            while not self._stopped:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                index, case_index = item
                plan = plans[index]
                self._unstarted.discard(index)
                try:
                    outcome = self._run_case(plan, plan.cases[case_index])
                except BudgetExhausted:
                    self._stopped = True
                    return
                with lock:
                    attempted[index] += 1
                    _merge(results[index], outcome)
                    for failure in outcome.failures:
                        self._witnesses.setdefault((index, failure.cause), plan.cases[case_index])
                self.listener.case_done(plan)

        workers = max(1, self.target.workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(work) for _ in range(workers)]:
                future.result()
        if self.target.lifecycles and not self._stopped:
            self._follow_lifecycles(plans, results, {item.label for item in unsafe or ()})
        if self.target.shrink_requests and not self._stopped:
            self._shrink_causes(plans, results)
        for session in self._sessions:
            session.close()
        for index, result in enumerate(results):
            left = result.planned - attempted[index]
            if left and self._stopped:
                spent = f"the budget of {self.target.max_requests} requests is spent"
                result.skipped = f"{spent}; {left} of {result.planned} cases not sent"
            self.listener.operation_done(result)
        return RunReport(
            api=api,
            base_url=self.target.base_url,
            seed=seed,
            shards=[shard] if shard else [],
            max_requests=self.target.max_requests,
            requests_sent=self.budget.sent,
            budget_exhausted=self._stopped,
            duration=round(time.monotonic() - started, 3),
            operations=results,
            unsafe=list(unsafe or []),
        )

    def _session(self) -> BudgetSession:
        session = getattr(self._local, "session", None)
        if session is None:
            session = BudgetSession(self.budget)
            self._local.session = session
            self._sessions.append(session)
        return session

    def _run_case(self, plan: OperationPlan, planned: PlannedCase) -> OperationResult:
        """One case: its request, the checks on its answer; what it found, to be merged into the operation."""
        case, session = planned.case, self._session()
        outcome = OperationResult(plan.label, plan.operation_id)
        headers, params = credentials(self.document, plan.operation, self.target.api_key)
        before = session.sent
        started = time.monotonic()
        try:
            response = self._send(case, session, headers, params)
            outcome.answered += 1
            key = str(response.status_code)
            outcome.statuses[key] = outcome.statuses.get(key, 0) + 1
            try:
                self._standard_checks(plan, planned, response, headers, params, outcome)
                self._stream_checks(plan, case, response, outcome)
                _fold_event_schema(outcome.failures)
                _fold_stream_order(outcome.failures)
            except BudgetExhausted:  # a check's own request (an auth probe) found the budget spent: keep the answer
                self._stopped = True
        except requests.RequestException as error:
            outcome.errors.append(f"{case.method} {case.formatted_path}: {type(error).__name__}: {error}")
        finally:
            outcome.sent += session.sent - before
            outcome.duration = time.monotonic() - started
        return outcome

    def _follow_lifecycles(self, plans: list[OperationPlan], results: list[OperationResult], unsafe: set[str]) -> None:
        """Create once more with a positive case of each create operation a lifecycle starts from, then
        follow it; what breaks is a cause of the create operation (it made what got lost)."""
        by_route = {(plan.operation.method.upper(), plan.operation.path): index for index, plan in enumerate(plans)}
        routes = {route: plans[index].label for route, index in by_route.items()}
        for lifecycle in followed(discover(self.document), routes, unsafe):
            index, follow = by_route[lifecycle.create], by_route[lifecycle.follow]
            planned = _create_case(plans[index])
            if planned is None:
                continue
            try:
                failures, note = self._follow_one(lifecycle, plans[index], plans[follow], planned, results[index])
            except BudgetExhausted:
                self._stopped = True
                results[index].notes.append(f"lifecycle {lifecycle.name}: not followed, the budget is spent")
                return
            except requests.RequestException as error:
                results[index].errors.append(f"lifecycle {lifecycle.name}: {type(error).__name__}: {error}")
                continue
            if note:
                results[index].notes.append(f"lifecycle {lifecycle.name}: {note}")
            for failure in failures:
                add_cause(results[index].failures, failure)

    def _follow_one(
        self,
        lifecycle: Lifecycle,
        create: OperationPlan,
        follow: OperationPlan,
        planned: PlannedCase,
        result: OperationResult,
    ) -> tuple[list[Failure], str]:
        case = planned.case
        if lifecycle.create_fields:
            if not isinstance(case.body, dict):
                return [], "the create case has no JSON object body to add its fields to"
            case = with_body(case, {**case.body, **lifecycle.create_fields})
        session = self._session()
        headers, params = credentials(self.document, create.operation, self.target.api_key)
        before = session.sent
        try:
            response = self._send(case, session, headers, params)
        finally:
            result.sent += session.sent - before
        if not 200 <= response.status_code < 300:
            return [], f"the create answered {response.status_code}, nothing to follow"
        try:
            answer = response.json()
        except ValueError:
            return [], "the create answer is not JSON, nothing to follow"
        created = Created(
            request_body=case.body,
            query={key: str(value) for key, value in (case.query or {}).items()},
            path_values={key: str(value) for key, value in (case.path_parameters or {}).items()},
            response_body=answer,
            response_headers={key: ", ".join(values) for key, values in response.headers.items()},
        )
        follow_headers, follow_params = credentials(self.document, follow.operation, self.target.api_key)
        follower = Follower(
            base_url=self.target.base_url,
            session=session,
            headers=follow_headers,
            params=follow_params,
            secret=self.target.api_key,
            timeout=self.target.timeout,
            max_polls=self.target.max_polls,
            poll_interval=self.target.poll_interval,
        )
        try:
            return follower.follow(lifecycle, create.label, created), ""
        finally:
            result.sent += follower.sent

    def _shrink_causes(self, plans: list[OperationPlan], results: list[OperationResult]) -> None:
        """Make each cause's request body as small as still shows the cause (:mod:`~apitwin.contracts.fuzz.shrink`);
        the report then shows the shrunk request and its ``curl``."""
        for (index, cause), planned in self._witnesses.items():
            failure = next((item for item in results[index].failures if item.cause == cause), None)
            body = planned.case.body
            if failure is None or failure.check == "ignored_auth" or not isinstance(body, dict) or not body:
                continue
            self._shrinking = failure.check
            try:
                self._shrink_one(plans[index], planned, body, failure, results[index])
            except BudgetExhausted:
                return  # what is left of the budget is spent: keep what shrank so far
            finally:
                self._shrinking = ""

    def _shrink_one(
        self, plan: OperationPlan, planned: PlannedCase, body: dict[str, Any], failure: Failure, result: OperationResult
    ) -> None:
        smallest: list[Failure] = []

        def still_fails(candidate: dict[str, Any]) -> bool:
            case = with_body(planned.case, candidate)
            outcome = self._run_case(plan, PlannedCase(planned.phase, planned.mode, case))
            result.sent += outcome.sent
            same = next((item for item in outcome.failures if _same_cause(item, failure)), None)
            if same is not None:
                smallest[:] = [same]
            return same is not None

        shrunk, tried = shrink(body, still_fails, self.target.shrink_requests)
        if smallest:
            failure.exchange, failure.curl = smallest[0].exchange, smallest[0].curl
            failure.shrunk = f"{fields(body)} → {fields(shrunk)} body fields in {tried} requests"

    def _send(self, case: Any, session: BudgetSession, headers: dict[str, str], params: dict[str, str]) -> Any:
        """``case`` over the wire to the target, through the budget session, with the credentials."""
        return case.call(
            base_url=self.target.base_url,
            session=session,
            headers=headers,
            params=params or None,
            timeout=self.target.timeout,
        )

    def _probes_affordable(self) -> bool:
        """Whether the budget left covers the auth probes and still every operation's first case."""
        if self.budget.max_requests is None:
            return True
        left = self.budget.max_requests - self.budget.sent
        return left - PROBES_PER_CHECK >= len(self._unstarted)

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
        context = check_context(case, planned.phase, headers, transport, self._enforced)
        raised: list[tuple[str, Any]] = []
        for check in self.checks:
            if check is self.ignored_auth and self._shrinking and self._shrinking != "ignored_auth":
                continue  # its probes do not depend on the body being shrunk
            if check is self.ignored_auth and not self._probes_affordable():
                continue  # its probes would take a first case's place; a later case of this operation runs it
            found = run_check(case, response, context, check)
            if not found:
                result.checks_passed += 1
            for name, failure in found:
                if name == "negative_data_rejection" and self.wire.is_valid(response.request):
                    result.notes.append(
                        f"{case.method} {case.formatted_path}: generated as invalid, but valid as sent "
                        "(e.g. a one-item array in a query is also a string); not judged"
                    )
                    continue
                if name == "positive_data_acceptance" and not self.wire.is_valid(response.request):
                    result.notes.append(
                        f"{case.method} {case.formatted_path}: drawn as valid, but invalid as sent (e.g. an example "
                        "that leaves out a required file, or a null a form cannot carry); not judged"
                    )
                    continue
                if (
                    name == "response_schema_conformance"
                    and response.status_code in (204, 304)
                    and not response.content
                ):
                    result.notes.append(
                        f"{case.method} {case.formatted_path}: the spec declares a body for {response.status_code}, "
                        "which HTTP forbids (RFC 9110); an empty one is not judged"
                    )
                    continue
                if name == "status_code_conformance" and self._undocumented_rejection(case, response):
                    result.notes.append(
                        f"{case.method} {case.formatted_path}: an invalid request was refused with "
                        f"{response.status_code}, and the spec documents no client error for it; not judged"
                    )
                    continue
                raised.append((name, failure))
        result.failures += self._response_causes(plan, response, raised)

    def _undocumented_rejection(self, case: Any, response: Any) -> bool:
        """A 4xx to a request that is invalid as sent, from an operation that documents no way to refuse
        input (no 400, 422, ``4XX`` or ``default``; a 404 "no matching record" is not one): the gateway had
        to refuse it somehow, and the spec left the how open."""
        if not 400 <= response.status_code < 500:
            return False
        documented = {str(status).upper() for status in case.operation.definition.raw.get("responses") or {}}
        if response.status_code in (401, 403) and self._lacks_credentials(case, response.request):
            return not documented & {"401", "403", "4XX", "DEFAULT"}  # refused for want of the credential
        if self.wire.is_valid(response.request):
            return False
        return not documented & REJECTION_STATUSES

    def _lacks_credentials(self, case: Any, prepared: Any) -> bool:
        """The operation requires a credential and the request as sent carries none where its scheme puts it
        (schemathesis' negative cases drop the ``Authorization`` header)."""
        if not (case.operation.definition.raw.get("security", self.document.get("security")) or []):
            return False
        headers, params = credentials(self.document, case.operation, "credential")
        sent = {name.lower(): str(value) for name, value in (prepared.headers or {}).items()}
        for name, value in headers.items():
            scheme = value.split(" ", 1)[0] + " " if " " in value else ""
            if not sent.get(name.lower(), "").removeprefix(scheme).strip():
                return True
        query = parse_qs(urlsplit(str(prepared.url or "")).query, keep_blank_values=True)
        return any(not (query.get(name) or [""])[0] for name in params)

    def _response_causes(self, plan: OperationPlan, response: Any, raised: list[tuple[str, Any]]) -> list[Failure]:
        """schemathesis' failures of one response, one per cause: what several checks say about the response as
        a whole (its status, content type, headers: no JSON pointer) is one cause with those checks listed."""
        whole = sorted(
            ((name, failure) for name, failure in raised if not _pointer(failure)),
            key=lambda item: VERDICT_FIRST.index(item[0]) if item[0] in VERDICT_FIRST else len(VERDICT_FIRST),
        )
        causes = []
        if whole:
            names = list(dict.fromkeys(name for name, _ in whole))
            _, first = whole[0]
            message = next((failure.message for _, failure in whole if failure.message), "")
            causes.append(self._failure(plan, response, names, first.title, message, "", _shape(first)))
        for name, failure in raised:
            pointer = _pointer(failure)
            if pointer:
                cause = self._failure(plan, response, [name], failure.title, failure.message, pointer, _shape(failure))
                schema_path = getattr(failure, "schema_path", None)
                if schema_path:
                    detail = getattr(failure, "validation_message", "")
                    cause.field = _field(pointer, str(schema_path[-1]), detail)
                causes.append(cause)
        return causes

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
            len(reads) if arrival else None,
            bool(response.stream_cut_short),
            case.body if isinstance(case.body, dict) else None,
        )
        problems = run_stream_checks(stream)
        result.checks_passed += 1 if not problems else 0
        total = sum(1 for event in events if event.data != spec.terminator)
        result.failures += self._stream_causes(plan, response, problems, total)

    def _stream_causes(self, plan: OperationPlan, response: Any, problems: list[Problem], total: int) -> list[Failure]:
        """One failure per cause in the stream: the same fault in 30 events is "30 of 30 events: …"."""
        groups: dict[tuple[str, str, str, bool], list[Problem]] = {}
        for problem in problems:
            key = (problem.check, pointer_shape(problem.pointer), problem.cause, problem.event is None)
            groups.setdefault(key, []).append(problem)
        causes = []
        for (check, shape, cause, _), items in groups.items():
            first = items[0]
            if first.event is None:
                message = first.message
            elif len(items) == 1:
                message = f"event {first.event + 1} of {total}: {first.message}"
            else:
                message = f"{len(items)} of {total} events (first: event {first.event + 1}): {first.message}"
            pointer = f"/events/{first.event}{first.pointer}" if first.event is not None else "/events"
            where = f"/events/*{shape}" if first.event is not None else "/events"
            failure = self._failure(plan, response, [check], first.title, message, pointer, cause, where)
            if check == "sse_event_schema" and first.keyword and first.pointer.startswith("/data"):
                failure.field = _field(first.pointer.removeprefix("/data"), first.keyword, first.message)
            causes.append(failure)
        return causes

    def _failure(
        self,
        plan: OperationPlan,
        response: Any,
        checks: list[str],
        title: str,
        message: str,
        pointer: str,
        shape: str,
        where: str | None = None,
    ) -> Failure:
        secret = self.target.api_key
        return Failure(
            operation=plan.label,
            check=checks[0],
            title=title,
            message=hide(message, secret),
            pointer=pointer,
            curl=curl(response.request, secret),
            exchange=_exchange(response, secret),
            checks=checks,
            cause=f"{checks[0]}|{where if where is not None else pointer_shape(pointer)}|{hide(shape, secret)}",
        )


def _create_case(plan: OperationPlan) -> PlannedCase | None:
    """The positive case a lifecycle starts from: one that does not ask for a stream (what to follow is
    in a JSON answer), else the first positive case with ``stream`` turned off."""
    positive = [item for item in plan.cases if item.mode == "positive"]
    for item in positive:
        if not (isinstance(item.case.body, dict) and item.case.body.get("stream") is True):
            return item
    if not positive:
        return None
    first = positive[0]
    body = first.case.body if isinstance(first.case.body, dict) else {}
    return PlannedCase(first.phase, first.mode, with_body(first.case, {**body, "stream": False}))


def _merge(result: OperationResult, outcome: OperationResult) -> None:
    result.sent += outcome.sent
    result.answered += outcome.answered
    result.checks_passed += outcome.checks_passed
    result.errors += outcome.errors
    result.notes += outcome.notes
    result.duration = round(result.duration + outcome.duration, 3)
    for status, count in outcome.statuses.items():
        result.statuses[status] = result.statuses.get(status, 0) + count
    for failure in outcome.failures:
        add_cause(result.failures, failure)


def _same_cause(found: Failure, wanted: Failure) -> bool:
    return found.cause == wanted.cause or bool(wanted.field and found.field == wanted.field)


def add_cause(causes: list[Failure], failure: Failure) -> None:
    """Count ``failure`` under its cause; the cause keeps the smallest request that showed it."""
    same = next(
        (cause for cause in causes if _same_cause(failure, cause)),
        None,
    )
    if same is None:
        causes.append(failure)
        return
    same.occurrences += failure.occurrences
    same.checks = list(dict.fromkeys(same.all_checks() + failure.all_checks()))
    if _size(failure) < _size(same):
        same.title, same.message, same.pointer = failure.title, failure.message, failure.pointer
        same.curl, same.exchange = failure.curl, failure.exchange


def _field(pointer: str, keyword: str, message: str) -> str:
    """``/choices/*/index|required|'x' is a required property``: a schema fault wherever it was seen."""
    naming = message.split(" (at ")[0].replace('"', "'") if keyword in NAMING_KEYWORDS else ""
    return f"{pointer_shape(pointer)}|{keyword}|{naming}"


def _fold_event_schema(failures: list[Failure]) -> None:
    """schemathesis also judges stream events (``response_schema_conformance`` at ``/data``, the event as a
    string): where apitwin's ``sse_event_schema`` found the fault, with the field, that is one cause seen by two."""
    ours = [failure for failure in failures if failure.check == "sse_event_schema"]
    theirs = [
        failure
        for failure in failures
        if failure.check == "response_schema_conformance"
        and failure.exchange is not None
        and "event-stream" in _header(failure.exchange.response_headers, "content-type")
    ]
    if not ours or not theirs:
        return
    for failure in theirs:
        failures.remove(failure)
    for failure in ours:
        failure.checks = list(dict.fromkeys([*failure.all_checks(), "response_schema_conformance"]))


ORDER_CONSEQUENCES = ("sse_event_order", "sse_deltas")
"""Stream checks that read events in arrival order: once the order is wrong, each of them reports the same fault."""


def _fold_stream_order(failures: list[Failure]) -> None:
    """Events out of order break every rule that reads them in order (the lifecycle opens, ``sequence_number``
    increases, nothing follows the terminal event, deltas add up to the final object): in one stream these are
    one cause, "events out of order", listing what each rule saw, not one failure per rule."""
    ordered = [failure for failure in failures if failure.check in ORDER_CONSEQUENCES]
    if not any(failure.check == "sse_event_order" for failure in ordered) or len(ordered) < 2:
        return
    first = next(failure for failure in ordered if failure.check == "sse_event_order")
    for failure in ordered:
        if failure is not first:
            failures.remove(failure)
    first.title = "Events out of order"
    first.message = "\n".join(f"{failure.title}: {failure.message}" for failure in ordered)
    first.checks = list(dict.fromkeys(check for failure in ordered for check in failure.all_checks()))
    first.cause = f"sse_event_order:{first.operation}:out-of-order"


def _header(headers: dict[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _size(failure: Failure) -> int:
    exchange = failure.exchange
    return len(exchange.url) + len(exchange.request_body or "") if exchange is not None else len(failure.curl)


def pointer_shape(pointer: str) -> str:
    """``/choices/0/index`` → ``/choices/*/index``: where a fault is, whatever the item."""
    return re.sub(r"/\d+(?=/|$)", "/*", pointer)


def _shape(failure: Any) -> str:
    """What one schemathesis failure says, without the values that vary between requests."""
    schema_path = getattr(failure, "schema_path", None)
    if schema_path is not None:  # the failing keyword's place in the schema; the message only where it names fields
        where = "/".join(map(str, schema_path))
        keyword = str(schema_path[-1]) if schema_path else ""
        if keyword in NAMING_KEYWORDS:
            return f"{where}: {getattr(failure, 'validation_message', '') or failure.title}"
        return where
    lines = [line.strip() for line in (failure.message or "").splitlines() if line.strip()]
    return f"{failure.title}: {lines[0] if lines else ''}"


def credentials(document: dict[str, Any], operation: Any, api_key: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters carrying ``api_key`` the way the operation's security scheme says."""
    if not api_key:
        return {}, {}
    requirements = operation.definition.raw.get("security", document.get("security")) or []
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for requirement in requirements:
        # Every scheme a requirement names is needed at once (vtex: X-VTEX-API-AppKey and X-VTEX-API-AppToken).
        headers: dict[str, str] = {}
        params: dict[str, str] = {}
        for name in requirement or {}:
            scheme = schemes.get(name) or {}
            kind = scheme.get("type")
            if kind == "apiKey" and scheme.get("in") == "header":
                headers[scheme["name"]] = api_key
            elif kind == "apiKey" and scheme.get("in") == "query":
                params[scheme["name"]] = api_key
            elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
                headers["Authorization"] = f"Basic {basic_token(api_key)}"
            elif (
                kind in ("http", "oauth2", "openIdConnect") and str(scheme.get("scheme", "bearer")).lower() == "bearer"
            ):
                headers["Authorization"] = f"Bearer {api_key}"
        if headers or params:
            return headers, params
    return {"Authorization": f"Bearer {api_key}"}, {}


def _pointer(failure: Any) -> str:
    path = getattr(failure, "instance_path", None)
    if path is None:
        return ""
    return join("", *path)


def _exchange(response: Any, secret: str | None) -> Exchange:
    request = response.request
    body, raw = request.body, None
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raw = base64.b64encode(body).decode("ascii")
            body = body.decode("utf-8", errors="replace")
    return Exchange(
        method=str(request.method),
        url=hide(str(request.url), secret),
        request_headers={name: hide(str(value), secret) for name, value in request.headers.items()},
        request_body=hide(body, secret) if isinstance(body, str) else None,
        request_body_base64=raw,
        status=response.status_code,
        response_headers={name: hide(", ".join(values), secret) for name, values in response.headers.items()},
        response_body=(
            hide(response.content[:BODY_LIMIT].decode("utf-8", errors="replace"), secret) if response.content else None
        ),
        elapsed=round(response.elapsed, 4),
    )
