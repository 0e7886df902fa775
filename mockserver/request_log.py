"""What the mock was asked, with the verdict on each request: the record client tests are judged by.

Every request the mock answers becomes one :class:`RequestRecord` (the operation it matched, the
status it got, and the spec violations found in it). The pytest plugin reads the log to fail a
test whose client broke the spec; ``GET /_apitwin/requests`` serves it as JSON and
``DELETE /_apitwin/requests`` empties it.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from apitwin.mockserver.violations import Violation

DEFAULT_LIMIT = 10_000
"""Records kept; older ones are dropped so a long-running mock does not grow without bound."""

OPERATION_KEY = "apitwin.operation"
VIOLATIONS_KEY = "apitwin.violations"
"""ASGI scope keys where the app notes, per request, what the log records."""


@dataclass(slots=True)
class RequestRecord:
    sequence: int
    method: str
    path: str
    operation: str
    """The matched operation's ``operationId``; empty when the request matched none."""
    status: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.violations

    def as_dict(self, reveal: bool = True) -> dict[str, Any]:
        """The record as JSON; without ``reveal`` the violations do not show the values received."""
        violations = self.violations if reveal else [violation.masked() for violation in self.violations]
        return {
            "sequence": self.sequence,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "status": self.status,
            "valid": self.valid,
            "violations": [violation.as_dict() for violation in violations],
        }


class RequestLog:
    """A bounded, thread-safe list of request records (the mock may run in another thread)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._sequence = 0

    def add(self, request: Request, response: Response) -> RequestRecord:
        """Record one answered request from what the app noted in its scope and on the response."""
        violations = [*request.scope.get(VIOLATIONS_KEY, ()), *getattr(response, "apitwin_violations", ())]
        with self._lock:
            self._sequence += 1
            record = RequestRecord(
                self._sequence,
                request.method,
                request.scope["path"],
                request.scope.get(OPERATION_KEY, ""),
                response.status_code,
                violations,
            )
            self._records.append(record)
        return record

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def violations(self) -> list[Violation]:
        return [violation for record in self.records() for violation in record.violations]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


def note_operation(request: Request, operation_id: str) -> None:
    request.scope[OPERATION_KEY] = operation_id


def note_violations(request: Request, violations: list[Violation]) -> None:
    """Violations found in a request the mock answers anyway (recording, not rejecting)."""
    request.scope.setdefault(VIOLATIONS_KEY, []).extend(violations)


def attach_violations(response: Response, violations: list[Violation]) -> Response:
    """Mark an error answer with the violations that caused it, for the log to pick up."""
    response.apitwin_violations = list(violations)  # type: ignore[attr-defined]
    return response


def admin_answer(log: RequestLog, method: str, reveal: bool = True) -> Response:
    """``GET`` lists the records as JSON (the values received only with ``reveal``); ``DELETE`` empties the log."""
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
    body = [record.as_dict(reveal) for record in log.records()]
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
