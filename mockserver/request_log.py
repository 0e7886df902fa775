"""What the mock was asked and answered, with the verdict on each request: the record client tests are judged by.

Every request the mock answers becomes one journal entry (see ``mockserver.journal``: the operation it
matched, the status, the spec violations, headers and bodies, a stream's events with their timing). The
pytest plugin reads the log to fail a test whose client broke the spec; ``GET /_apitwin/requests`` serves it
as JSON (filtered, see ``journal_query``) and ``DELETE /_apitwin/requests`` empties it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from apitwin.mockserver.journal import Body, Entry, Journal, StreamTrace, WireHeaders
from apitwin.mockserver.journal_query import QueryError
from apitwin.mockserver.journal_query import parse as parse_filters
from apitwin.mockserver.violations import Violation
from apitwin.recordings.credentials import masked_query

OPERATION_KEY = "apitwin.operation"
VIOLATIONS_KEY = "apitwin.violations"
BODY_KEY = "apitwin.body"
API_KEY = "apitwin.api"
"""ASGI scope keys where the app notes, per request, what the log records."""

RequestRecord = Entry
"""A record of the log is a journal entry (its first fields are the record's as it always was)."""


class RequestLog(Journal):
    """The mock's journal: entries made from what the app noted in a request's scope and from its answer."""

    def record(
        self, request: Request, response: Response, *, api: str, started: float, clock: Callable[[], float]
    ) -> Response:
        """Keep the exchange; a streamed answer is returned wrapped, so its events and end are kept as sent.

        Headers and bodies are kept as they went over the wire and read as text when someone looks (see
        :class:`~apitwin.mockserver.journal.WireHeaders`): every answer is recorded, few are read."""
        scope = request.scope
        raw = scope.get(BODY_KEY, b"")
        query = scope.get("query_string", b"")
        violations = (*scope.get(VIOLATIONS_KEY, ()), *getattr(response, "apitwin_violations", ()))
        if not isinstance(response, StreamingResponse):
            self.append_answered(
                scope["method"],
                scope["path"],
                scope.get(OPERATION_KEY, ""),
                response.status_code,
                violations,
                api=api,
                started=started,
                query=query,
                request_headers=tuple(scope["headers"]),
                request_body=raw,
                response_headers=tuple(response.raw_headers),
                response_body=bytes(response.body),
                latency_ms=(clock() - started) * 1000,
            )
            return response
        entry = Entry(
            0,
            scope["method"],
            scope["path"],
            scope.get(OPERATION_KEY, ""),
            response.status_code,
            list(violations),
            api=api,
            started=started,
            query=masked_query(query.decode("latin-1")) if query else "",
            request_headers=WireHeaders(scope["headers"]),
            request_body=Body.of(raw, self.body_limit) if raw else None,
            response_headers=WireHeaders(response.raw_headers),
        )
        media_type = response.media_type or response.headers.get("content-type", "")
        entry.trace = StreamTrace(self.body_limit, events=media_type.startswith("text/event-stream"))
        response.body_iterator = self._watched(entry, entry.trace, response.body_iterator, clock)
        self.append(entry)
        return response

    async def _watched(
        self, entry: Entry, trace: StreamTrace, frames: AsyncIterable[Any], clock: Callable[[], float]
    ) -> AsyncIterator[Any]:
        """``frames`` unchanged, each noted in ``trace`` with its time; the entry is complete when they end."""
        try:
            async for chunk in frames:
                trace.add(chunk.encode() if isinstance(chunk, str) else bytes(chunk), (clock() - entry.started) * 1000)
                yield chunk
        finally:
            entry.latency_ms = trace.ended_ms = (clock() - entry.started) * 1000
            entry.response_body = trace.body()
            self.changed(entry)


def note_body(request: Request, raw: bytes) -> None:
    request.scope[BODY_KEY] = raw


def note_api(request: Request, name: str | None = None) -> str:
    """Note the API a request went to (with ``name``); the one noted (without)."""
    if name is not None:
        request.scope[API_KEY] = name
    return str(request.scope.get(API_KEY, ""))


def note_operation(request: Request, operation_id: str) -> None:
    request.scope[OPERATION_KEY] = operation_id


def note_violations(request: Request, violations: list[Violation]) -> None:
    """Violations found in a request the mock answers anyway (recording, not rejecting)."""
    request.scope.setdefault(VIOLATIONS_KEY, []).extend(violations)


def attach_violations(response: Response, violations: list[Violation]) -> Response:
    """Mark an error answer with the violations that caused it, for the log to pick up."""
    response.apitwin_violations = list(violations)  # type: ignore[attr-defined]
    return response


def admin_answer(log: Journal, method: str, query: str = "", reveal: bool = True) -> Response:
    """``GET`` lists the entries the filters in ``query`` select (see ``journal_query``) as JSON, the values
    received only with ``reveal``; ``DELETE`` empties the log."""
    if method == "DELETE":
        log.clear()
        return Response(status_code=204)
    if method not in ("GET", "HEAD"):
        return Response(
            json.dumps({"detail": f"{method} is not allowed here; use GET or DELETE"}),
            status_code=405,
            media_type="application/json",
            headers={"Allow": "GET, DELETE"},
        )
    try:
        filters = parse_filters(query)
    except QueryError as error:
        return bad_parameter(error)
    body = [entry.as_dict(reveal) for entry in filters.select(log.records())]
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


def bad_parameter(error: QueryError) -> Response:
    """A 400 naming the query parameter that could not be read."""
    body = {"error": {"type": "invalid_parameter", "parameter": error.parameter, "message": str(error)}}
    return Response(json.dumps(body), status_code=400, media_type="application/json")
