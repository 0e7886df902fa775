"""The terminal: a live progress bar while a run goes, a summary table when it ends (rich)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from apitwin.contracts.fuzz.runner import Listener

if TYPE_CHECKING:
    from apitwin.contracts.fuzz.events import NotCalled, OperationResult, RunReport
    from apitwin.contracts.fuzz.plan import OperationPlan
    from apitwin.contracts.fuzz.replay import Replayed

CURL_SHOWN = 400
"""Characters of a reproducing curl the terminal shows; the reports keep it whole."""
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
    plans: list[OperationPlan],
    order: list[tuple[int, int]],
    max_requests: int | None,
    base_url: str | None,
    unsafe: list[NotCalled] | None = None,
    console: Console | None = None,
    lifecycles: list[str] | None = None,
) -> None:
    """What a run would send, in order: per operation its cases and how many the budget reaches, then the
    exact sequence of requests, the lifecycles followed after them, then what is held back as unsafe."""
    console = console or Console()
    reach = len(order) if max_requests is None else min(max_requests, len(order))
    sent = [0] * len(plans)
    first: dict[int, int] = {}
    for position, (index, _) in enumerate(order[:reach], start=1):
        sent[index] += 1
        first.setdefault(index, position)
    table = Table(title=f"dry run: nothing sent{f' (target {base_url})' if base_url else ''}")
    for column in ("first", "operation", "operationId", "weight", "cases", "sent", "by phase", "note"):
        table.add_column(column, justify="right" if column in ("first", "weight", "cases", "sent") else "left")
    ranked = sorted(range(len(plans)), key=lambda index: (first.get(index, len(order) + 1), plans[index].label))
    for index in ranked:
        plan = plans[index]
        phases: dict[str, int] = {}
        for planned in plan.cases:
            key = f"{planned.phase}/{planned.mode}"
            phases[key] = phases.get(key, 0) + 1
        note = plan.skipped or ("" if sent[index] else "not reached: the budget is spent first")
        table.add_row(
            f"#{first[index]}" if index in first else "-",
            plan.label,
            plan.operation_id,
            str(plan.weight),
            str(len(plan.cases)),
            str(sent[index]),
            ", ".join(f"{key} {count}" for key, count in phases.items()),
            note,
        )
    console.print(table)
    console.print("order (#position operation x consecutive cases):", highlight=False)
    for start, end, index in _runs(order[:reach]):
        span = f"#{start}" if start == end else f"#{start}-#{end}"
        console.print(f"  {span:>11} {plans[index].label} x{end - start + 1}", markup=False, highlight=False)
    if lifecycles:
        console.print("then, while the budget lasts, lifecycles (a create, then its follow-up):", highlight=False)
        for line in lifecycles:
            console.print(f"  {line}", markup=False, highlight=False)
    for item in unsafe or ():
        console.print(
            f"not called (unsafe, --include-unsafe calls it): {item.label} ({item.operation_id}): {item.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    probes = sum(1 for plan in plans if plan.cases and _needs_auth(plan))
    reached = sum(1 for count in sent if count)
    line = f"would send {reach} requests to {reached} operations"
    if max_requests is not None and reach < len(order):
        line += f" (--max-requests {max_requests} of {len(order)} planned)"
    if probes:
        line += (
            f", plus auth probes (up to 3 per operation that declares security, {probes} such operations, "
            "sent only while the budget left covers every first case; counted in --max-requests)"
        )
    unexercised = sum(1 for plan in plans if not plan.cases) + sum(
        1 for index, plan in enumerate(plans) if plan.cases and not sent[index]
    )
    if unexercised:
        line += f"; {unexercised} of {len(plans)} operations would not be exercised"
    console.print(line, highlight=False)


def _runs(order: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(first position, last position, plan index) of each run of consecutive cases of one operation."""
    runs: list[tuple[int, int, int]] = []
    for position, (index, _) in enumerate(order, start=1):
        if runs and runs[-1][2] == index:
            runs[-1] = (runs[-1][0], position, index)
        else:
            runs.append((position, position, index))
    return runs


def _needs_auth(plan: OperationPlan) -> bool:
    raw = plan.operation.definition.raw
    return bool(raw.get("security", plan.operation.schema.raw_schema.get("security")))


def print_summary(report: RunReport, console: Console | None = None, hint: str | None = None) -> None:
    """One row per operation, then the failures, then what was not exercised, then one verdict line."""
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
    for failure in report.failures:
        seen = f" · {failure.occurrences} requests" if failure.occurrences > 1 else ""
        console.print(
            f"[bold red]✗ {failure.operation}[/] [red]{' + '.join(failure.all_checks())}[/]: {failure.title}{seen}",
            highlight=False,
        )
        console.print(f"  {failure.message.splitlines()[0] if failure.message else ''}", markup=False, highlight=False)
        if failure.pointer:
            console.print(f"  at {failure.pointer}", markup=False)
        if failure.shrunk:
            console.print(f"  shrunk: {failure.shrunk}", markup=False, highlight=False)
        command = failure.curl if len(failure.curl) <= CURL_SHOWN else failure.curl[:CURL_SHOWN] + " …"
        console.print(f"  reproduce: {command}", markup=False, highlight=False, soft_wrap=True)
        if len(failure.curl) > CURL_SHOWN:
            console.print(f"  (the whole {len(failure.curl)}-character command is in the --json and --html reports)")
    for operation in report.operations:
        for error in operation.errors[:3]:
            console.print(Text.assemble(("error", "red"), f" {operation.label}: {error}"))  # the error is not markup
    if report.unsafe:
        names = ", ".join(item.label for item in report.unsafe)
        console.print(f"not called (unsafe; --include-unsafe calls them): {names}", markup=False, highlight=False)
    missing = report.not_exercised
    if missing:
        why = "; the budget was spent first" if report.budget_exhausted else ""
        console.print(
            f"[yellow]{len(missing)} of {len(report.operations)} operations not exercised{why}:[/] "
            + ", ".join(operation.label for operation in missing),
            highlight=False,
        )
    if hint:
        console.print(f"[yellow]hint:[/] {hint}", highlight=False)
    budget = f" of {report.max_requests}" if report.max_requests is not None else ""
    errors = sum(len(operation.errors) for operation in report.operations)
    verdict = "[bold green]no failures[/]" if report.ok else f"[bold red]{len(report.failures)} failures[/]"
    if report.failures:
        verdict = f"[bold red]{_plural(len(report.failures), 'failure')} (one per cause)[/]"
    if errors:
        verdict += f" [red]{errors} request errors[/]"
    exercised = len(report.operations) - len(missing)
    console.print(
        f"{verdict} · {exercised} of {len(report.operations)} operations exercised · "
        f"{report.requests_sent}{budget} requests · {report.duration:.1f}s"
        + (" · budget spent before the plan finished" if report.budget_exhausted else "")
        + f" · exit {report.exit_code}"
    )


def print_replay(results: list[Replayed], console: Console | None = None) -> None:
    """One block per replayed failure: what was re-sent, what came back, and whether it still fails."""
    console = console or Console()
    for result in results:
        failure = result.failure
        head = f"#{result.number} {failure.operation} {' + '.join(failure.all_checks())}: {failure.title}"
        console.print(head, highlight=False, markup=False)
        if result.error:
            console.print(f"  [red]not sent:[/] {result.error}", highlight=False)
            continue
        if result.reproduces:
            console.print(f"  [bold red]still fails[/] (answered {result.status})", highlight=False)
            for line in result.still:
                console.print(f"    {line}", highlight=False, markup=False)
        else:
            console.print(f"  [green]does not reproduce[/] (answered {result.status}, valid)", highlight=False)
    still = sum(1 for result in results if result.reproduces)
    console.print(f"{still} of {len(results)} replayed failures still fail")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
