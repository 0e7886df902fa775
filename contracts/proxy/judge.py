"""Judging one proxied exchange against the spec: the request before it is forwarded, the answer after.

Request and response checks are ``apitwin check-traffic``'s (:class:`TrafficChecker`, which validates a
request exactly as the mock does); a ``text/event-stream`` answer goes through the shared stream checks
(:mod:`apitwin.contracts.sse`: each event, order, ``sequence_number``, deltas, terminator, ``include_usage``)
here rather than in the traffic checker, because only the proxy knows how the stream arrived (reads, a cut).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from apitwin.contracts.proxy.findings import Finding
from apitwin.contracts.sse import (
    STREAM_CHECKS,
    Event,
    Problem,
    Stream,
    StreamSpec,
    StreamSpecs,
    parse_events,
    run_stream_checks,
    sse_event_schema,
)
from apitwin.contracts.traffic.check import TrafficChecker
from apitwin.mockserver.base_path import server_path
from apitwin.mockserver.operations import CompiledApi, Operation
from apitwin.mockserver.recorded_urls import strip_base, url_path, url_query
from apitwin.mockserver.violations import Violation
from apitwin.recordings.records import RecordedExchange

STREAM_WIDE_CHECKS = tuple(check for check in STREAM_CHECKS if check is not sse_event_schema)
"""What is left to judge once each event has been judged alone (:mod:`apitwin.contracts.proxy.live_events`)."""
REMEMBERED_PATHS = 4096
"""Request paths whose base path is remembered (paths with ids in them would otherwise grow without bound)."""


@dataclass(slots=True)
class RequestVerdict:
    operation: Operation | None
    label: str
    """``METHOD /template`` of the operation, or ``undocumented``."""
    path: str
    """The path as the spec sees it (base path stripped)."""
    findings: list[Finding]


class Judge:
    """Checks exchanges of one API; ``base_path`` (``/v1``, ``/aimlapi``) is found per path when not given."""

    def __init__(self, api: CompiledApi, base_path: str | None = None) -> None:
        self.api = api
        self.base_path = base_path
        self.declared_base = server_path(api.document)
        self.streams = StreamSpecs(api.document)
        self._checkers: dict[str, TrafficChecker] = {}
        self._bases: dict[str, str] = {}
        self.by_id = {operation.operation_id: operation for operation in api.operations}

    def _checker(self, url: str) -> TrafficChecker:
        base = self.base_path if self.base_path is not None else self._base(url_path(url))
        checker = self._checkers.get(base)
        if checker is None:
            checker = self._checkers[base] = TrafficChecker(self.api, base)
        return checker

    def _base(self, path: str) -> str:
        """The spec's own server path when the request matches under it, else the shortest prefix that makes it
        match: OpenAI's ``/v1/chat/completions`` is ``/chat/completions`` under ``/v1``, never ``/completions``
        under ``/v1/chat`` (a path the spec also has). Remembered per path (an exchange asks three times)."""
        base = self._bases.get(path)
        if base is None:
            if len(self._bases) >= REMEMBERED_PATHS:
                self._bases.clear()
            base = self._bases[path] = self._find_base(path)
        return base

    def _find_base(self, path: str) -> str:
        segments = [segment for segment in path.split("/") if segment]
        prefixes = ["/" + "/".join(segments[:count]) if count else "" for count in range(len(segments))]
        for prefix in [self.declared_base, *prefixes] if self.declared_base else prefixes:
            rest = strip_base(path, prefix)
            if rest is not None and self.api.router.match(rest, "GET").found_path:
                return prefix
        return ""

    def request(self, exchange: RecordedExchange) -> RequestVerdict:
        """Route and request checks of an exchange whose answer has not come yet."""
        pending = RecordedExchange(exchange.number, exchange.source, exchange.request, None)
        verdict = self._checker(exchange.request.url).check(pending)
        operation = self.by_id.get(verdict.operation or "")
        label = operation.label if operation is not None else "undocumented"
        findings = [_finding(exchange, label, violation) for violation in verdict.violations]
        return RequestVerdict(operation, label, verdict.path, findings)

    def route(self, method: str, url: str, headers: dict[str, str] | None = None) -> Operation | None:
        """The operation a request goes to, without judging it (what an answer's headers are read against);
        ``headers`` (lower-case names) tell apart operations published with a fragment (``/#X-Amz-Target=…``)."""
        path = strip_base(url_path(url), self.base_path if self.base_path is not None else self._base(url_path(url)))
        return None if path is None else self.api.router.match(path, method, url_query(url), headers).target

    def live(self, operation: Operation | None, status: int, media_type: str) -> StreamSpec | None:
        """The stream an answer with these headers declares, to judge its events as they arrive; None when the
        answer is no stream the spec declares for ``operation`` (its whole body is judged at the end)."""
        if operation is None or not media_type.lower().startswith("text/event-stream"):
            return None
        if operation.response_for(status) is None:
            return None
        return self.streams.for_response(operation.path, operation.method, status, media_type)

    def event_findings(
        self, exchange: RecordedExchange, operation: Operation, problems: list[Problem]
    ) -> list[Finding]:
        """Problems of events judged as they arrived, as findings of ``exchange``."""
        return [_stream_finding(exchange, operation, problem) for problem in problems]

    def response(
        self,
        exchange: RecordedExchange,
        operation: Operation | None,
        reads: list[int],
        *,
        cut_short: bool = False,
        judged_events: list[Event] | None = None,
    ) -> list[Finding]:
        """Status, content type, body and every event of the answer (request findings excluded); with
        ``judged_events`` (the stream's events, each judged alone as it arrived) only the stream-wide checks run."""
        response = exchange.response
        if operation is None or response is None:
            return []
        spec = self._stream_spec(operation, exchange)
        judged = response if spec is None else replace(response, truncated=True)  # the stream is judged below
        checker = self._checker(exchange.request.url)
        violations = checker.check_response(operation, exchange.request, judged, notes=[])
        findings = [_finding(exchange, operation.label, violation) for violation in violations]
        if spec is not None and not findings and response.body is not None:
            findings += self._stream(exchange, operation, spec, reads, cut_short, judged_events)
        return findings

    def _stream_spec(self, operation: Operation, exchange: RecordedExchange) -> StreamSpec | None:
        response = exchange.response
        assert response is not None
        return self.live(operation, response.status, response.headers.get("content-type", ""))

    def _stream(
        self,
        exchange: RecordedExchange,
        operation: Operation,
        spec: StreamSpec,
        reads: list[int],
        cut_short: bool,
        judged_events: list[Event] | None,
    ) -> list[Finding]:
        body = exchange.response.body if exchange.response is not None else None
        checks = STREAM_CHECKS if judged_events is None else STREAM_WIDE_CHECKS
        stream = Stream(
            spec=spec,
            events=parse_events(body or b"", reads or None) if judged_events is None else judged_events,
            reads=len(reads) if reads else None,
            cut_short=cut_short,
            request_body=_json_or_none(exchange.request.body),
        )
        return [_stream_finding(exchange, operation, problem) for problem in run_stream_checks(stream, checks)]


def _stream_finding(exchange: RecordedExchange, operation: Operation, problem: Problem) -> Finding:
    return Finding(
        exchange.number,
        exchange.request.method,
        _path(exchange),
        operation.label,
        problem.check,
        f"event {problem.event + 1}" if problem.event is not None else "stream",
        problem.pointer,
        problem.message,
        problem.expected,
        problem.received,
    )


def _check_name(violation: Violation) -> str:
    location = violation.location
    if location == "route":
        return "undocumented_operation"
    if location == "status":
        return "status_code_conformance"
    if location == "content-type":
        return "request_content_type" if violation.message.startswith("request ") else "content_type_conformance"
    if location.startswith("event "):
        return "sse_event_schema"
    if location == "response body" or location.startswith("response line"):
        return "response_schema_conformance"
    return "request_schema_conformance"


def _finding(exchange: RecordedExchange, label: str, violation: Violation) -> Finding:
    return Finding(
        exchange.number,
        exchange.request.method,
        _path(exchange),
        label,
        _check_name(violation),
        violation.location,
        violation.pointer,
        violation.message,
        violation.expected,
        violation.received,
    )


def _path(exchange: RecordedExchange) -> str:
    return urlsplit(exchange.request.url).path or "/"


def _json_or_none(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None
