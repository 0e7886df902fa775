"""The terminal: a live progress bar while a run goes, a summary table when it ends (rich)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from apitwin.contracts.fuzz.runner import Listener

if TYPE_CHECKING:
    from apitwin.contracts.fuzz.events import OperationResult, RunReport
    from apitwin.contracts.fuzz.plan import OperationPlan

STATUS_STYLE = {"passed": "green", "failed": "bold red", "error": "red", "skipped": "yellow"}


class Progress(Listener):
    """A progress bar over every planned case; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: RichProgress | None = None
        self._task: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = RichProgress(
                TextColumn("[bold]fuzz"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def started(self, plans: list[OperationPlan]) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task("", total=sum(len(plan.cases) for plan in plans))

    def case_done(self, plan: OperationPlan) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(self._task, advance=1, description=plan.label)

    def operation_done(self, result: OperationResult) -> None:
        if self._bar is not None and result.planned > result.sent:
            with self._lock:
                self._bar.update(self._task, advance=max(0, result.planned - result.sent))


def print_dry_run(
    plans: list[OperationPlan], max_requests: int | None, base_url: str | None, console: Console | None = None
) -> None:
    """What a run would send: cases per operation, the auth probes on top, and the budget's cut."""
    console = console or Console()
    table = Table(title=f"dry run: nothing sent{f' (target {base_url})' if base_url else ''}")
    for column in ("operation", "operationId", "cases", "by phase", "note"):
        table.add_column(column, justify="right" if column == "cases" else "left")
    total = 0
    for plan in plans:
        phases: dict[str, int] = {}
        for planned in plan.cases:
            key = f"{planned.phase}/{planned.mode}"
            phases[key] = phases.get(key, 0) + 1
        total += len(plan.cases)
        table.add_row(
            plan.label,
            plan.operation_id,
            str(len(plan.cases)),
            ", ".join(f"{key} {count}" for key, count in phases.items()),
            plan.skipped,
        )
    console.print(table)
    probes = sum(1 for plan in plans if plan.cases and _needs_auth(plan))
    line = f"would send {total} requests to {sum(1 for plan in plans if plan.cases)} operations"
    if probes:
        line += f", plus auth probes (at most 2 per operation that declares security, {probes} such operations)"
    if max_requests is not None:
        line += f"; --max-requests {max_requests} stops it at {min(max_requests, total + 2 * probes)}"
    console.print(line)


def _needs_auth(plan: OperationPlan) -> bool:
    raw = plan.operation.definition.raw
    return bool(raw.get("security", plan.operation.schema.raw_schema.get("security")))


def print_summary(report: RunReport, console: Console | None = None) -> None:
    """One row per operation, then the failures, then one verdict line."""
    console = console or Console()
    table = Table(title=f"apitwin fuzz {report.api} → {report.base_url}")
    for column in ("operation", "status", "requests", "checks passed", "failures", "failed checks"):
        table.add_column(column, justify="right" if column in ("requests", "checks passed", "failures") else "left")
    for operation in report.operations:
        status = operation.status
        table.add_row(
            operation.label,
            f"[{STATUS_STYLE[status]}]{status}[/]",
            str(operation.sent),
            str(operation.checks_passed),
            str(len(operation.failures)),
            ", ".join(operation.failed_checks()) or operation.skipped[:60],
        )
    console.print(table)
    for failure in _distinct(report):
        console.print(f"[bold red]✗ {failure.operation}[/] [red]{failure.check}[/]: {failure.title}")
        console.print(f"  {failure.message.splitlines()[0] if failure.message else ''}", markup=False, highlight=False)
        if failure.pointer:
            console.print(f"  at {failure.pointer}", markup=False)
        console.print(f"  reproduce: {failure.curl.splitlines()[0]}", markup=False, highlight=False)
    for operation in report.operations:
        for error in operation.errors[:3]:
            console.print(f"[red]error[/] {operation.label}: {error}", markup=False)
    budget = f" of {report.max_requests}" if report.max_requests is not None else ""
    verdict = "[bold green]no failures[/]" if report.ok else f"[bold red]{len(report.failures)} failures[/]"
    console.print(
        f"{verdict} · {report.requests_sent}{budget} requests · {report.duration:.1f}s"
        + (" · budget spent before the plan finished" if report.budget_exhausted else "")
    )


def _distinct(report: RunReport) -> list[Any]:
    """The first failure of each (operation, check, title): enough to act on without a wall of text."""
    seen, distinct = set(), []
    for failure in report.failures:
        key = (failure.operation, failure.check, failure.title)
        if key not in seen:
            seen.add(key)
            distinct.append(failure)
    return distinct
