"""What the proxy found wrong, as plain values: one :class:`Finding` per violation, grouped by cause."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

INDEX = re.compile(r"/\d+(?=/|$)")
EVENT_NUMBER = re.compile(r"^event \d+$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One way one exchange broke the spec.

    ``check`` names the rule with the names ``apitwin fuzz`` uses (``response_schema_conformance``,
    ``sse_event_order``, …); ``where`` says which part of the exchange (``request body``,
    ``response body``, ``event 4``, ``stream``), ``pointer`` a JSON pointer inside it.
    """

    exchange: int
    method: str
    path: str
    operation: str
    """The spec's ``METHOD /template`` (``undocumented`` when no operation matched)."""
    check: str
    where: str
    pointer: str
    message: str
    expected: str = ""
    received: str = ""

    def cause(self) -> tuple[str, str, str, str]:
        """What makes two findings the same defect: operation, check, part and pointer, array indices and
        event numbers left out (the same broken field in every event of every stream is one cause)."""
        where = "event" if EVENT_NUMBER.match(self.where) else self.where
        return (self.operation, self.check, where, INDEX.sub("/*", self.pointer))

    def line(self) -> str:
        pointer = f" {self.pointer}" if self.pointer else ""
        return f"#{self.exchange} {self.method} {self.path}: {self.check} ({self.where}{pointer}) {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Cause:
    """Findings that share a cause: the first one stands for all, with how often and where it recurred."""

    first: Finding
    count: int
    exchanges: list[int]

    def as_dict(self) -> dict[str, Any]:
        operation, check, where, pointer = self.first.cause()
        return {
            "operation": operation,
            "check": check,
            "where": where,
            "pointer": pointer,
            "count": self.count,
            "exchanges": self.exchanges,
            "example": self.first.as_dict(),
        }


def group(findings: list[Finding]) -> list[Cause]:
    """Causes in the order they were first seen."""
    causes: dict[tuple[str, str, str, str], Cause] = {}
    for finding in findings:
        cause = causes.get(finding.cause())
        if cause is None:
            causes[finding.cause()] = Cause(finding, 1, [finding.exchange])
            continue
        cause.count += 1
        if finding.exchange not in cause.exchanges:
            cause.exchanges.append(finding.exchange)
    return list(causes.values())
