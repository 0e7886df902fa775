"""Plain, JSON-able records of a fuzz run: what was sent, what came back, which check it broke.

Every reporter (terminal, JUnit, HTML, shard merging) reads only these records, so a run written to
JSON on one CI machine renders exactly like a run that just finished here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Exchange:
    """The request as sent and the response as received (bodies as text, possibly truncated)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    elapsed: float


@dataclass(slots=True)
class Failure:
    """One violated check for one request."""

    operation: str
    check: str
    title: str
    message: str
    pointer: str
    """JSON pointer into the response body (or ``/events/3/data/...`` for a stream), ``""`` when none."""
    curl: str
    exchange: Exchange | None = None


@dataclass(slots=True)
class OperationResult:
    """Everything one operation saw."""

    label: str
    operation_id: str
    planned: int = 0
    sent: int = 0
    checks_passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Transport errors and anything else that kept a check from running."""
    skipped: str = ""
    """Why the operation was not (fully) run, e.g. the budget ran out."""
    notes: list[str] = field(default_factory=list)
    """Verdicts withheld, with the reason (e.g. a negative case whose wire form is valid)."""
    duration: float = 0.0

    @property
    def status(self) -> str:
        if self.failures:
            return "failed"
        if self.errors:
            return "error"
        if self.skipped and self.sent == 0:
            return "skipped"
        return "passed"

    def failed_checks(self) -> list[str]:
        return sorted({failure.check for failure in self.failures})


@dataclass(slots=True)
class RunReport:
    """One run (or a merge of shard runs)."""

    api: str
    base_url: str
    seed: int
    shards: list[str] = field(default_factory=list)
    max_requests: int | None = None
    requests_sent: int = 0
    budget_exhausted: bool = False
    duration: float = 0.0
    operations: list[OperationResult] = field(default_factory=list)

    @property
    def failures(self) -> list[Failure]:
        return [failure for operation in self.operations for failure in operation.failures]

    @property
    def ok(self) -> bool:
        """Exit 0 only when nothing failed and nothing errored."""
        return all(operation.status in ("passed", "skipped") for operation in self.operations)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        operations = [_operation_from_dict(item) for item in data.get("operations", [])]
        fields = {key: value for key, value in data.items() if key != "operations"}
        return cls(**fields, operations=operations)


def _operation_from_dict(data: dict[str, Any]) -> OperationResult:
    failures = [_failure_from_dict(item) for item in data.get("failures", [])]
    fields = {key: value for key, value in data.items() if key != "failures"}
    return OperationResult(**fields, failures=failures)


def _failure_from_dict(data: dict[str, Any]) -> Failure:
    exchange = data.get("exchange")
    fields = {key: value for key, value in data.items() if key != "exchange"}
    return Failure(**fields, exchange=Exchange(**exchange) if exchange else None)
