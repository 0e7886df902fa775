"""What the proxy saw: a line per violation as it happens, and at the end the same findings grouped by cause.

The reports at exit go through the fuzz report machinery (JUnit, HTML, JSON): each operation the traffic
reached is a test case, each cause one failure, so a CI job reads a proxy run like a fuzz run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from apitwin.contracts.fuzz.events import Exchange, Failure, OperationResult, RunReport
from apitwin.contracts.proxy.findings import Cause, Finding, group
from apitwin.contracts.proxy.headers import scrub
from apitwin.mockserver.journal import Journal as EntryJournal


@dataclass(slots=True)
class Seen:
    """One exchange as the reports show it (credentials already masked)."""

    number: int
    operation: str
    exchange: Exchange
    curl: str


@dataclass
class Journal:
    api: str
    upstream: str
    out: TextIO | None = None
    """Where each violation is written as it is found (stderr from the command line)."""
    clock: Callable[[], float] = time.monotonic
    findings: list[Finding] = field(default_factory=list)
    exchanges: dict[int, Seen] = field(default_factory=dict)
    """The exchanges the reports show: those that broke the spec first in some way (each cause names its first)."""
    seen: int = 0
    """Exchanges forwarded (or refused)."""
    per_operation: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    entries: EntryJournal = field(default_factory=EntryJournal)
    """Every exchange with its bodies and events, as the mock keeps them (``/_apitwin/`` on the proxy)."""
    judged: int = 0
    """Exchanges whose answer has been judged (the client may have its last byte a moment earlier)."""
    started: float = field(init=False)
    _causes: set[tuple[str, str, str, str]] = field(default_factory=set)
    _shown: set[int] = field(default_factory=set)
    """Exchanges that first broke the spec in some way, whose :class:`Seen` is still to come."""

    def __post_init__(self) -> None:
        self.started = self.clock()

    def saw(self, operation: str) -> None:
        """One more exchange reached ``operation`` (``METHOD /template``, or ``undocumented``)."""
        self.seen += 1
        self.per_operation[operation] += 1

    def shows(self, number: int) -> bool:
        """Whether exchange ``number`` is one the reports show (it broke the spec first in some way)."""
        return number in self._shown

    def keep(self, seen: Seen) -> None:
        """The exchange as the reports show it (asked only for those that :meth:`shows`)."""
        self._shown.discard(seen.number)
        self.exchanges[seen.number] = seen

    def found(self, findings: list[Finding], secrets: list[str]) -> None:
        """Keep ``findings`` (credentials scrubbed from every text) and print one line each."""
        for finding in findings:
            clean = scrubbed(finding, secrets)
            self.findings.append(clean)
            cause = clean.cause()
            if cause not in self._causes:
                self._causes.add(cause)
                self._shown.add(clean.exchange)
            if self.out is not None:
                self.out.write(f"apitwin proxy: {clean.line()}\n")
                self.out.flush()

    def error(self, message: str) -> None:
        self.errors.append(message)
        if self.out is not None:
            self.out.write(f"apitwin proxy: error: {message}\n")
            self.out.flush()

    @property
    def causes(self) -> list[Cause]:
        return group(self.findings)

    def summary(self) -> list[str]:
        """Human lines: the totals, then each cause once with how often it recurred."""
        causes = self.causes
        total = self.seen
        failing = len({finding.exchange for finding in self.findings})
        lines = [
            f"apitwin proxy {self.api} → {self.upstream}: {total} exchanges, {total - failing} OK, "
            f"{failing} violating ({len(self.findings)} violations, {len(causes)} causes)"
            + (f", {len(self.errors)} upstream errors" if self.errors else "")
        ]
        for cause in causes:
            operation, check, where, pointer = cause.first.cause()
            repeat = f" ×{cause.count} in {len(cause.exchanges)} exchanges" if cause.count > 1 else ""
            lines.append(f"  {check}: {operation} {where} {pointer}".rstrip() + f"{repeat} — {cause.first.message}")
        return lines

    def report(self) -> RunReport:
        """The run as ``apitwin fuzz`` reports one: per operation, one failure per cause."""
        by_operation: dict[str, OperationResult] = {}
        for label in self.per_operation:
            by_operation[label] = _result(label, self.per_operation[label])
        for cause in self.causes:
            label = cause.first.operation
            result = by_operation.setdefault(label, _result(label, 0))
            seen = self.exchanges.get(cause.first.exchange)
            result.failures.append(
                Failure(
                    operation=label,
                    check=cause.first.check,
                    title=f"{cause.first.where} {cause.first.pointer}".strip(),
                    message=_failure_message(cause),
                    pointer=cause.first.pointer,
                    curl=seen.curl if seen is not None else "",
                    exchange=seen.exchange if seen is not None else None,
                )
            )
        if self.errors:
            by_operation.setdefault("upstream", _result("upstream", 0)).errors.extend(self.errors)
        return RunReport(
            api=self.api,
            base_url=self.upstream,
            seed=0,
            requests_sent=self.seen,
            duration=self.clock() - self.started,
            operations=list(by_operation.values()),
        )

    def as_json(self) -> dict[str, Any]:
        """The fuzz JSON report plus what only a proxy has: every finding, and the causes."""
        return {
            **self.report().to_dict(),
            "proxy": {
                "exchanges": self.seen,
                "causes": [cause.as_dict() for cause in self.causes],
                "findings": [finding.as_dict() for finding in self.findings],
                "errors": self.errors,
            },
        }


def scrubbed(finding: Finding, secrets: list[str]) -> Finding:
    """``finding`` with the request's credentials scrubbed from every text."""
    return replace(
        finding,
        path=scrub(finding.path, secrets),
        pointer=scrub(finding.pointer, secrets),
        message=scrub(finding.message, secrets),
        expected=scrub(finding.expected, secrets),
        received=scrub(finding.received, secrets),
    )


def _result(label: str, count: int) -> OperationResult:
    result = OperationResult(label=label, operation_id=label, planned=count, sent=count)
    if hasattr(result, "answered"):  # newer reports tell answered requests from sent ones
        result.answered = count
    return result


def _failure_message(cause: Cause) -> str:
    first = cause.first
    details = [first.message]
    if first.expected or first.received:
        details.append(f"expected {first.expected or '?'}, received {first.received or '?'}")
    details.append(f"seen {cause.count} time(s), in exchanges {', '.join(f'#{n}' for n in cause.exchanges[:20])}")
    return "\n".join(details)
