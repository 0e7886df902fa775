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
    request_body_base64: str | None = None
    """The request body as sent when it is not UTF-8 text (``request_body`` then shows it with replacements);
    ``apitwin fuzz replay`` re-sends these bytes. The request body is kept whole, the response body cut."""


@dataclass(slots=True)
class Failure:
    """One cause: a check (or several that saw the same thing) failing the same way, however often.

    The request shown (``curl``, ``exchange``) is the smallest one that showed it."""

    operation: str
    check: str
    title: str
    message: str
    pointer: str
    """JSON pointer into the response body (or ``/events/3/data/...`` for a stream), ``""`` when none."""
    curl: str
    exchange: Exchange | None = None
    checks: list[str] = field(default_factory=list)
    """Every check that reported this cause (``check`` first); empty in reports written before grouping."""
    occurrences: int = 1
    """Requests that showed this cause."""
    cause: str = ""
    """The grouping key: the check, the pointer with indexes as ``*``, and the message without varying values."""
    field: str = ""
    """For a schema failure: the field (pointer inside the JSON body or the event's data) and the failing keyword,
    so the same fault in JSON answers and in streamed events is one cause."""

    shrunk: str = ""
    """How far the request was shrunk (``14 → 3 body fields in 9 requests``), empty when it was not."""

    def all_checks(self) -> list[str]:
        return self.checks or [self.check]


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
    answered: int = 0
    """Requests that got an HTTP answer (any status): the operation was exercised when this is above 0."""
    statuses: dict[str, int] = field(default_factory=dict)
    """How many answers of each status code (``"404"``), for the base-URL hint."""

    @property
    def exercised(self) -> bool:
        return self.answered > 0

    @property
    def status(self) -> str:
        if self.failures:
            return "failed"
        if self.errors:
            return "error"
        if not self.exercised:
            return "skipped"
        return "passed"

    def failed_checks(self) -> list[str]:
        return sorted({check for failure in self.failures for check in failure.all_checks()})


@dataclass(slots=True)
class NotCalled:
    """An operation the filters chose but safety held back: DELETE or ``x-apitwin-unsafe`` (``--include-unsafe``)."""

    label: str
    operation_id: str
    reason: str


EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_NOT_EXERCISED = 3


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
    unsafe: list[NotCalled] = field(default_factory=list)
    """Operations not called because they are unsafe (not part of the run's M operations)."""

    @property
    def failures(self) -> list[Failure]:
        return [failure for operation in self.operations for failure in operation.failures]

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing errored (an operation the budget never reached is neither)."""
        return all(operation.status in ("passed", "skipped") for operation in self.operations)

    @property
    def not_exercised(self) -> list[OperationResult]:
        """Selected operations that never got an answer (budget spent, no case generated, no connection)."""
        return [operation for operation in self.operations if not operation.exercised]

    @property
    def exit_code(self) -> int:
        """0: every selected operation exercised, nothing failed; 1: failures or errors; 3: not all exercised."""
        if not self.ok:
            return EXIT_FAILURES
        if self.not_exercised:
            return EXIT_NOT_EXERCISED
        return EXIT_OK

    def statuses(self) -> dict[str, int]:
        """Answers per status code over every operation."""
        total: dict[str, int] = {}
        for operation in self.operations:
            for status, count in operation.statuses.items():
                total[status] = total.get(status, 0) + count
        return total

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        operations = [_operation_from_dict(item) for item in data.get("operations", [])]
        unsafe = [NotCalled(**item) for item in data.get("unsafe", [])]
        fields = {key: value for key, value in data.items() if key not in ("operations", "unsafe")}
        return cls(**fields, operations=operations, unsafe=unsafe)


def _operation_from_dict(data: dict[str, Any]) -> OperationResult:
    failures = [_failure_from_dict(item) for item in data.get("failures", [])]
    fields = {key: value for key, value in data.items() if key != "failures"}
    return OperationResult(**fields, failures=failures)


def _failure_from_dict(data: dict[str, Any]) -> Failure:
    exchange = data.get("exchange")
    fields = {key: value for key, value in data.items() if key != "exchange"}
    return Failure(**fields, exchange=Exchange(**exchange) if exchange else None)
