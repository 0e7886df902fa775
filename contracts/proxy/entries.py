"""A proxied exchange as a journal entry: the same shape the mock writes, so one page shows both.

Credentials are masked in headers and query and scrubbed from the texts of the findings; the bodies are the
decoded ones the judge saw, cut at the journal's body limit; a stream's events carry the time their chunk
arrived from the upstream. As in the mock's journal, headers are masked, bodies decoded and a stream cut into
events only when someone reads the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from apitwin.contracts.proxy.findings import Finding
from apitwin.mockserver.journal import Body, Entry, Journal, StreamTrace, WireHeaders
from apitwin.mockserver.violations import Violation
from apitwin.recordings.credentials import masked_query


@dataclass(slots=True)
class Arrived:
    """What the proxy knows of an exchange once it is over (the answer's parts None when none came)."""

    api: str
    method: str
    path: str
    query: str
    started: float
    """Seconds since the epoch."""
    request_headers: Sequence[tuple[bytes, bytes]]
    request_body: bytes
    status: int = 0
    response_headers: Sequence[tuple[bytes, bytes]] = ()
    response_body: bytes | None = None
    chunks: Sequence[tuple[float, bytes]] = ()
    """(ms after the request arrived, bytes) as the upstream sent them."""
    latency_ms: float = 0.0


def write(
    journal: Journal, arrived: Arrived, operation: str, findings: Sequence[Finding], secret_names: Sequence[str]
) -> Entry:
    """Append the exchange to ``journal`` under ``operation`` (an operationId, empty when none matched); the
    findings are already scrubbed of credentials."""
    entry = Entry(
        0,
        arrived.method,
        arrived.path,
        operation,
        arrived.status,
        [_violation(finding) for finding in findings],
        api=arrived.api,
        source="proxy",
        started=arrived.started,
        query=masked_query(arrived.query, secret_names),
        request_headers=WireHeaders(arrived.request_headers, secret_names),
        request_body=Body.of(arrived.request_body, journal.body_limit) if arrived.request_body else None,
        response_headers=WireHeaders(arrived.response_headers, secret_names),
        response_body=Body.of(arrived.response_body, journal.body_limit) if arrived.response_body else None,
        latency_ms=arrived.latency_ms,
    )
    if _is_stream(arrived.response_headers):
        trace = StreamTrace(journal.body_limit, events=True)
        trace.add_all(arrived.chunks)
        trace.ended_ms = arrived.latency_ms
        entry.trace = trace
    return journal.append(entry)


def _violation(finding: Finding) -> Violation:
    return Violation(
        finding.operation,
        finding.where,
        finding.pointer,
        finding.expected,
        finding.received,
        finding.message,
        keyword=finding.check,
    )


def _is_stream(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() == b"content-type" and b"text/event-stream" in value.lower() for name, value in headers)
