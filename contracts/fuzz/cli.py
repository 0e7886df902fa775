"""``apitwin fuzz``: the command line of a fuzz run, and ``apitwin fuzz merge-reports``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from apitwin import specs
from apitwin.contracts.fuzz.budget import parse_rate
from apitwin.contracts.fuzz.events import RunReport
from apitwin.contracts.fuzz.plan import PHASES, PlanError, Settings, forbidden_models, load_schema, plan, select
from apitwin.contracts.fuzz.runner import Runner, Target
from apitwin.contracts.fuzz.shards import parse_shard
from apitwin.contracts.reports import html, junit, merge, terminal


class _RunByDefault(click.Group):
    """``apitwin fuzz API …`` runs; ``apitwin fuzz merge-reports …`` merges."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[Any, Any, list[str]]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


@click.group("fuzz", cls=_RunByDefault)
def fuzz_group() -> None:
    """Fuzz a live gateway (or the mock) against a spec: ``apitwin fuzz API --base-url URL``."""


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


@fuzz_group.command("run")
@click.argument("api")
@click.option("--base-url", help="Where the gateway answers (default: the spec's first server).")
@click.option(
    "--api-key",
    envvar="APITWIN_API_KEY",
    help="Credential sent the way the spec's security scheme says (env APITWIN_API_KEY).",
)
@click.option("--operations", multiple=True, help="operationIds or 'METHOD /path' (repeatable or comma-separated).")
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
    "--phases", default="examples,fuzzing", show_default=True, help=f"Comma-separated, of: {', '.join(PHASES)}."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated cases: same seed, same run.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Requests sent concurrently."
)
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
    models: tuple[str, ...],
    max_requests: int | None,
    rate: str | None,
    max_examples: int,
    phases: str,
    seed: int,
    workers: int,
    shard: str | None,
    timeout: float,
    dry_run: bool,
    junit_path: Path | None,
    html_path: Path | None,
    json_path: Path | None,
) -> None:
    """Fuzz API (a shipped name or an OpenAPI file) at --base-url; exit 0 only when nothing failed."""
    try:
        document = specs.load(api)
    except Exception as error:
        raise click.UsageError(f"cannot load the spec {api!r}: {error}") from error
    settings = _settings(operations, models, max_examples, phases, seed, shard)
    try:
        per_second = parse_rate(rate)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    base = base_url or _first_server(document)
    if base is None and not dry_run:
        raise click.UsageError("--base-url is required (the spec names no server)")
    schema = load_schema(document, settings.models)
    try:
        chosen = select(schema, settings)
    except PlanError as error:
        raise click.UsageError(str(error)) from error
    forbidden = forbidden_models(document, settings.models)
    plans = [plan(operation, settings, forbidden) for operation in chosen]
    if dry_run:
        terminal.print_dry_run(plans, max_requests, base)
        return
    target = Target(base.rstrip("/"), api_key, max_requests, per_second, workers, timeout)
    with terminal.Progress(enabled=sys.stderr.isatty()) as progress:
        report = Runner(document, target, progress).run(
            Path(api).stem if os.path.sep in api else api, seed, plans, str(settings.shard) if settings.shard else None
        )
    _write(report, junit_path, html_path, json_path)
    terminal.print_summary(report)
    sys.exit(0 if report.ok else 1)


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
    """Merge the JSON (or JUnit XML) reports of shard runs into one; exit 0 only when nothing failed."""
    try:
        merged = merge.merge_files(list(reports))
    except merge.MergeError as error:
        raise click.UsageError(str(error)) from error
    _write(merged, junit_path, html_path, json_path)
    terminal.print_summary(merged)
    sys.exit(0 if merged.ok else 1)


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
        html_path.write_text(html.render(report), encoding="utf-8")
    if json_path:
        json_path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
