"""``apitwin fuzz``: the command line of a fuzz run, and ``apitwin fuzz merge-reports``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import requests

from apitwin import specs
from apitwin.contracts.fuzz.budget import parse_rate
from apitwin.contracts.fuzz.events import NotCalled, RunReport
from apitwin.contracts.fuzz.hints import base_url_hint
from apitwin.contracts.fuzz.lifecycles import describe, discover, followed
from apitwin.contracts.fuzz.plan import (
    PHASES,
    PlanError,
    Settings,
    forbidden_models,
    load_schema,
    plan_within,
    rounds,
    select,
)
from apitwin.contracts.fuzz.runner import Runner, Target
from apitwin.contracts.fuzz.shards import parse_shard
from apitwin.contracts.reports import html, junit, merge, terminal


class _RunByDefault(click.Group):
    """``apitwin fuzz API …`` runs; ``apitwin fuzz merge-reports …`` merges."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]  # before the group reads its options: `apitwin fuzz --operations A B api`
        return super().parse_args(ctx, args)


@click.group("fuzz", cls=_RunByDefault)
def fuzz_group() -> None:
    """Fuzz a live gateway (or the mock) against a spec: ``apitwin fuzz API --base-url URL``."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


class _ManyValues(click.Command):
    """``--operations A B C`` as well as ``--operations A,B --operations C`` (also --include, --exclude, --models).

    click gives an option one value, so the words after such an option, up to the next option, are
    spread into one option each. When the command's API argument appears nowhere else, the last word
    is the API: ``apitwin fuzz --operations A B lmdeploy``.
    """

    MANY = ("--operations", "--include", "--exclude", "--models")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._spread(args))

    def _spread(self, args: list[str]) -> list[str]:
        valued = {
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for name in param.opts
        }
        runs: list[tuple[str, list[str]]] = []
        rest: list[str | int] = []  # an int stands for runs[int]
        positional = False
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "--":
                rest += args[index:]
                positional = positional or len(args) > index + 1
                break
            if arg in self.MANY:
                values = []
                index += 1
                while index < len(args) and not args[index].startswith("-"):
                    values.append(args[index])
                    index += 1
                runs.append((arg, values))
                rest.append(len(runs) - 1)
                continue
            if arg in valued:
                rest += args[index : index + 2]
                index += 2
                continue
            positional = positional or not arg.startswith("-")
            rest.append(arg)
            index += 1
        api: list[str] = []
        if not positional and runs and len(runs[-1][1]) > 1:
            api = [runs[-1][1].pop()]
        spread: list[str] = []
        for item in rest:
            if isinstance(item, int):
                option, values = runs[item]
                spread += [item for value in values for item in (option, value)] if values else [option]
            else:
                spread.append(item)
        return spread + api


@fuzz_group.command("run", cls=_ManyValues)
@click.argument("api")
@click.option("--base-url", help="Where the gateway answers (default: the spec's first server).")
@click.option(
    "--api-key",
    envvar="APITWIN_API_KEY",
    help="Credential sent the way the spec's security scheme says (env APITWIN_API_KEY); for http basic, "
    "user:password, or a key alone as the password.",
)
@click.option(
    "--operations",
    multiple=True,
    help="Only these: operationIds or 'METHOD /path' (several after one flag, repeatable or comma-separated).",
)
@click.option(
    "--include",
    multiple=True,
    help="Only operations matching: operationId, method, tag, path regex (/… or ^…), 'METHOD /regex', "
    "or id:/method:/tag:/path: prefixed (several, repeatable or comma-separated).",
)
@click.option("--exclude", multiple=True, help="Leave out operations matching (same forms as --include).")
@click.option(
    "--include-unsafe",
    is_flag=True,
    help="Also call DELETE operations and those the spec marks x-apitwin-unsafe (terminate, sleep, …).",
)
@click.option("--models", multiple=True, help="Only these model ids are sent (repeatable or comma-separated).")
@click.option(
    "--max-requests", type=click.IntRange(min=0), help="Hard budget: never one request more (auth probes included)."
)
@click.option("--rate", help="At most this many requests per second: 5/s, 120/m.")
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Cases per operation, phase and mode.",
)
@click.option(
    "--phases",
    default="examples,fuzzing,lifecycles",
    show_default=True,
    help=f"Comma-separated, of: {', '.join(PHASES)} (lifecycles: poll what creates made, follow links).",
)
@click.option(
    "--shrink-requests",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Requests each failure may spend to shrink its body to the smallest that still fails (0: no shrinking).",
)
@click.option(
    "--max-polls",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Polls of a job (lifecycles phase) before it counts as never finishing.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    envvar="APITWIN_POLL_INTERVAL",
    help="Seconds between two polls of a job (env APITWIN_POLL_INTERVAL; 0 suits the mock: its jobs move per poll).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the generated cases: same seed, same run."
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Requests sent concurrently.")
@click.option("--shard", help="Run shard i of n (e.g. 2/4): operations are dealt out deterministically.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
@click.option("--dry-run", is_flag=True, help="Print how many requests would go to which operations; send nothing.")
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report."
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a self-contained HTML report."
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run as JSON (mergeable across shards).",
)
def run_command(
    api: str,
    base_url: str | None,
    api_key: str | None,
    operations: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    include_unsafe: bool,
    models: tuple[str, ...],
    max_requests: int | None,
    rate: str | None,
    max_examples: int,
    phases: str,
    shrink_requests: int,
    max_polls: int,
    poll_interval: float,
    seed: int,
    workers: int,
    shard: str | None,
    timeout: float,
    dry_run: bool,
    junit_path: Path | None,
    html_path: Path | None,
    json_path: Path | None,
) -> None:
    """Fuzz API (a shipped name or an OpenAPI file) at --base-url.

    Exit 0: every selected operation was exercised and nothing failed; 1: a check failed or requests
    errored; 2: usage error; 3: nothing failed but some operations were not exercised (budget spent).
    """
    try:
        document = specs.load(api)
    except Exception as error:
        raise click.UsageError(f"cannot load the spec {api!r}: {error}") from error
    settings = _settings(operations, models, max_examples, phases, seed, shard)
    settings.include, settings.exclude, settings.include_unsafe = _split(include), _split(exclude), include_unsafe
    try:
        per_second = parse_rate(rate)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    base = base_url or _first_server(document)
    if base is None and not dry_run:
        raise click.UsageError("--base-url is required (the spec names no server)")
    schema = load_schema(document, settings.models)
    try:
        selection = select(schema, settings)
    except PlanError as error:
        raise click.UsageError(str(error)) from error
    forbidden = forbidden_models(document, settings.models)
    plans = plan_within(selection.operations, settings, forbidden, max_requests)
    unsafe = [NotCalled(item.label, item.operation_id, item.reason) for item in selection.unsafe]
    if dry_run:
        routes = {(plan.operation.method.upper(), plan.operation.path): plan.label for plan in plans}
        chosen = followed(discover(document), routes, {item.label for item in unsafe})
        lines = [describe(lifecycle) for lifecycle in chosen] if "lifecycles" in settings.phases else []
        terminal.print_dry_run(plans, rounds(plans), max_requests, base, unsafe, lifecycles=lines)
        return
    assert base is not None  # checked with the other options above
    target = Target(
        base.rstrip("/"),
        api_key,
        max_requests,
        per_second,
        workers,
        timeout,
        shrink_requests=shrink_requests,
        lifecycles="lifecycles" in settings.phases,
        max_polls=max_polls,
        poll_interval=poll_interval,
    )
    name = Path(api).stem if os.path.sep in api else api
    with terminal.Progress(enabled=sys.stderr.isatty()) as progress:
        report = Runner(document, target, progress).run(
            name, seed, plans, str(settings.shard) if settings.shard else None, unsafe
        )
    _write(report, junit_path, html_path, json_path)
    terminal.print_summary(report, hint=base_url_hint(report, document, name if specs.shipped(api) else None))
    sys.exit(report.exit_code)


@fuzz_group.command("replay")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("numbers", metavar="[N]...", nargs=-1, type=click.IntRange(min=1))
@click.option("--spec", help="The spec to judge against (default: the report's API, a shipped name).")
@click.option("--base-url", help="Send to this gateway instead of the report's.")
@click.option(
    "--api-key",
    envvar="APITWIN_API_KEY",
    help="Credential put where the report shows $APITWIN_API_KEY (env APITWIN_API_KEY).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
def replay_command(
    report_path: Path,
    numbers: tuple[int, ...],
    spec: str | None,
    base_url: str | None,
    api_key: str | None,
    timeout: float,
) -> None:
    """Send failure N of a --json report again (all when no N) and say whether it still fails.

    Exit 0: none reproduces; 1: at least one still fails (or could not be sent); 2: usage error.
    """
    from apitwin.contracts.fuzz import replay
    from apitwin.mockserver.operations import compile_api

    try:
        report = RunReport.from_dict(json.loads(report_path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError) as error:
        raise click.UsageError(f"{report_path} is not an apitwin fuzz JSON report: {error}") from error
    name = spec or report.api
    try:
        document = specs.load(name)
    except Exception as error:
        raise click.UsageError(f"cannot load the spec {name!r} (give --spec): {error}") from error
    try:
        with requests.Session() as session:
            results = replay.replay(
                compile_api(Path(name).stem, document),
                report,
                list(numbers),
                base_url=base_url,
                api_key=api_key,
                session=session,
                timeout=timeout,
            )
    except replay.ReplayError as error:
        raise click.UsageError(str(error)) from error
    terminal.print_replay(results)
    sys.exit(1 if any(result.reproduces or result.error for result in results) else 0)


@fuzz_group.command("merge-reports")
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the merged JUnit XML."
)
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the merged HTML report."
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the merged JSON report."
)
def merge_command(
    reports: tuple[Path, ...], junit_path: Path | None, html_path: Path | None, json_path: Path | None
) -> None:
    """Merge the JSON (or JUnit XML) reports of shard runs into one; exit codes as for a run."""
    try:
        merged = merge.merge_files(list(reports))
    except merge.MergeError as error:
        raise click.UsageError(str(error)) from error
    _write(merged, junit_path, html_path, json_path)
    terminal.print_summary(merged)
    sys.exit(merged.exit_code)


def _settings(
    operations: tuple[str, ...], models: tuple[str, ...], max_examples: int, phases: str, seed: int, shard: str | None
) -> Settings:
    chosen = tuple(_split((phases,)))
    unknown = [phase for phase in chosen if phase not in PHASES]
    if unknown or not chosen:
        raise click.UsageError(f"--phases takes {', '.join(PHASES)}; got {phases!r}")
    try:
        parsed_shard = parse_shard(shard) if shard else None
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    return Settings(_split(operations), _split(models), max_examples, chosen, seed, parsed_shard)


def _first_server(document: dict[str, Any]) -> str | None:
    servers = document.get("servers") or []
    return servers[0].get("url") if servers and isinstance(servers[0], dict) else None


def _write(report: RunReport, junit_path: Path | None, html_path: Path | None, json_path: Path | None) -> None:
    if junit_path:
        junit_path.write_text(junit.render(report), encoding="utf-8")
    if html_path:
        linked = os.path.relpath(json_path, html_path.parent) if json_path else None
        html_path.write_text(html.render(report, linked), encoding="utf-8")
    if json_path:
        json_path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
