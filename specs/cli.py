"""``apitwin specs …``: build, inspect, lint and normalise specs."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from apitwin import specs
from apitwin.specs import sample_causes, sample_verdicts, spec_cache
from apitwin.specs.build import BuiltSpec, build_api, render, write_atomically, write_specs
from apitwin.specs.catalogue import DEFAULT_SEEDS, SHIPPED, ShippedApi, shipped
from apitwin.specs.diff import diff, render_text
from apitwin.specs.errors import SpecError
from apitwin.specs.inventory import model_ids, operations
from apitwin.specs.lint import Problem, lint
from apitwin.specs.readme import CATALOGUE_START, catalogue_markdown, replace_section

# Piped output (CI logs, tests) gets wide tables rather than rich's default of 80 columns.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def reports_spec_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input ends with a one-line error naming file and location, and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SpecError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)

    return wrapper


@click.group("specs")
def specs_group() -> None:
    """Build, inspect, lint and normalise OpenAPI specs."""


@specs_group.command("build")
@click.option(
    "--seeds",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Folder of the vendor documents.",
)
@click.option("--api", "only", multiple=True, help="Build only this API (repeatable).")
@reports_spec_errors
def build_command(seeds: Path, only: tuple[str, ...]) -> None:
    """Regenerate the shipped specs under specs/apis from the vendor documents."""
    if not seeds.is_dir():
        raise SpecError(str(seeds), "folder", "the seeds folder does not exist")
    unknown = [name for name in only if shipped(name) is None]
    if unknown:
        raise SpecError(", ".join(unknown), "--api", f"not a shipped API; choose from {', '.join(specs.names())}")
    apis = [api for api in SHIPPED if not only or api.name in only]
    built = []
    for api in apis:
        started = time.perf_counter()
        spec = build_api(api, seeds)
        built.append(spec)
        console.print(
            f"built [bold]{api.name}[/]: {len(operations(spec.document))} operations, {len(spec.repairs)} repairs, "
            f"{len(spec.problems)} lint problems ({time.perf_counter() - started:.1f} s)"
        )
    written = write_specs(built, apis)
    written += _write_doc_sample_logs(built, apis, seeds)
    _update_readme_catalogue()
    console.print(f"wrote {len(set(written))} files")
    problems = [(spec.name, problem) for spec in built for problem in spec.problems]
    for name, problem in problems[:50]:
        console.print(f"[red]{name}[/]: {problem}", markup=True, highlight=False)
    if problems:
        sys.exit(1)


def _write_doc_sample_logs(built: list[BuiltSpec], apis: list[ShippedApi], seeds: Path) -> list[Path]:
    """Each vendor doc sample judged against the spec just written: ``apis/<api>/doc-samples.json``; the ids its
    response examples agree on given to the spec as examples (annotations: no verdict changes), and the conflicts
    per cause added to the repair log (``repairs.json``) after the repairs."""
    pending = []
    by_name = {spec.name: spec for spec in built}
    repairs = {spec.name: spec.repairs for spec in built}
    for api in apis:
        verdicts = sample_verdicts.judge_seed(seeds / api.seed, api.spec_path)
        if verdicts is None:
            continue
        spec = by_name[api.name]
        if sample_verdicts.id_examples(spec.document, verdicts, spec.repairs):
            spec.document["info"]["x-apitwin"]["repairs"] = len(spec.repairs)
            pending.append((api.spec_path, render(spec.document)))
        table = sample_verdicts.counts(verdicts)
        console.print(
            f"doc samples of [bold]{api.name}[/]: "
            + "; ".join(f"{kind}s {row['found']} found, {row['conflict']} conflict" for kind, row in table.items())
        )
        pending.append((api.doc_samples_path, render(sample_verdicts.log(api.seed, verdicts))))
        logged = repairs[api.name].as_list() + sample_causes.repair_entries(verdicts)
        pending.append((api.repairs_path, render(logged)))
    return write_atomically(pending) if pending else []


def _update_readme_catalogue() -> None:
    readme = Path(specs.__file__).resolve().parent.parent / "README.md"
    if not readme.exists():
        return
    text = readme.read_text(encoding="utf-8")
    if CATALOGUE_START not in text:
        return
    updated = replace_section(text, catalogue_markdown())
    if updated != text:
        write_atomically([(readme, updated)])


@specs_group.command("list")
@reports_spec_errors
def list_command() -> None:
    """The shipped APIs: title, operations, model ids, repairs, source."""
    table = Table("API", "title", "operations", "aliases", "model ids", "repairs", "source")
    for api in SHIPPED:
        document = specs.load(api.name)
        meta = document["info"].get("x-apitwin", {})
        table.add_row(
            api.name,
            document["info"]["title"],
            str(len(operations(document))),
            str(len(operations(document, aliases=True)) - len(operations(document))),
            str(len(model_ids(document))),
            str(meta.get("repairs", "")),
            api.seed,
        )
    console.print(table)


@specs_group.command("show")
@click.argument("api")
@reports_spec_errors
def show_command(api: str) -> None:
    """One API's operations."""
    document = specs.load(api)
    table = Table("method", "path", "operationId", "models", "summary", title=document["info"]["title"])
    for operation in operations(document, aliases=True):
        summary = f"alias of {operation.alias_of}" if operation.alias_of else operation.summary[:60]
        table.add_row(
            operation.method, operation.path, operation.operation_id, str(len(operation.models) or ""), summary
        )
    console.print(table)


@specs_group.command("models")
@click.argument("api")
@click.option("--operation", "operation_id", help="Only the ids this operation (operationId) accepts.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of one id per line.")
@reports_spec_errors
def models_command(api: str, operation_id: str | None, as_json: bool) -> None:
    """The model ids an API (shipped name or spec file) accepts, one per line.

    Read from the ``model`` property of the request bodies (enum or const). An API whose spec leaves
    ``model`` free accepts any id: that is said on stderr and nothing is printed.
    """
    document = specs.load(api)
    if operation_id is None:
        ids = model_ids(document)
    else:
        chosen = [operation for operation in operations(document) if operation.operation_id == operation_id]
        if not chosen:
            known = ", ".join(sorted(operation.operation_id for operation in operations(document)))
            raise click.UsageError(f"{api} has no operation {operation_id!r}; its operations: {known}")
        ids = list(chosen[0].models)
    if as_json:
        click.echo(json.dumps(ids))
    elif ids:
        click.echo("\n".join(ids))
    if not ids:
        click.echo(f"{api}: any model id is accepted (its spec does not restrict `model`)", err=True)


@specs_group.command("lint")
@click.argument("targets", nargs=-1)
@reports_spec_errors
def lint_command(targets: tuple[str, ...]) -> None:
    """Validate shipped APIs (all by default) or OpenAPI files; exit 1 on any problem."""
    total = 0
    for target in targets or tuple(specs.names()):
        problems = _lint_target(target)
        total += len(problems)
        console.print(f"{target}: {len(problems)} problems", highlight=False)
        for problem in problems:
            console.print(f"  {problem}", markup=False, highlight=False)
    if total:
        sys.exit(1)


def _lint_target(target: str) -> list[Problem]:
    """A shipped API's problems, or a file's (whose verdict the spec cache keeps while the file is unchanged)."""
    if shipped(target) is None and Path(target).is_file():
        return spec_cache.linted(Path(target)).problems
    return lint(specs.load(target))


@specs_group.command("normalise")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the normalised document (JSON).",
)
@reports_spec_errors
def normalise_command(file: Path, output: Path) -> None:
    """Run any OpenAPI 3.0/3.1 file (JSON or YAML) through normalise → compose → lint."""
    spec = spec_cache.linted(file)
    repairs_path = output.with_name(f"{output.stem}.repairs.json")
    write_atomically([(output, render(spec.document)), (repairs_path, render(spec.repairs.as_list()))])
    console.print(
        f"wrote {output} ({len(spec.repairs)} repairs, log in {repairs_path}); {len(spec.problems)} lint problems",
        highlight=False,
    )
    for problem in spec.problems:
        console.print(f"  {problem}", markup=False, highlight=False)
    if spec.problems:
        sys.exit(1)


@specs_group.command("report")
@click.argument("api")
@click.option(
    "--seeds",
    type=click.Path(path_type=Path),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Where the vendor documents are; their doc samples are judged when the API's seed is there.",
)
@click.option("--conflicts", "shown", type=int, default=20, show_default=True, help="Doc-sample conflicts listed.")
@click.option("--json", "as_json", is_flag=True, help="Repair counts and every doc sample's verdict as JSON.")
@reports_spec_errors
def report_command(api: str, seeds: Path, shown: int, as_json: bool) -> None:
    """The repair log of a shipped API, grouped by kind, and its vendor's doc samples judged against the spec."""
    entry = shipped(api)
    if entry is None:
        raise SpecError(api, "API", f"not a shipped API; choose from {', '.join(specs.names())}")
    try:
        repairs = json.loads(entry.repairs_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(str(entry.repairs_path), "file", "no repair log: run `apitwin specs build`") from None
    except (OSError, ValueError) as error:
        raise SpecError(str(entry.repairs_path), "file", f"unreadable repair log: {error}") from None
    groups: dict[str, list[dict[str, Any]]] = {}
    for repair in repairs:
        groups.setdefault(repair["kind"], []).append(repair)
    conflicts = groups.pop(sample_causes.KIND, [])
    verdicts = sample_verdicts.judge_seed(seeds / entry.seed, entry.spec_path)
    if as_json:
        samples = None if verdicts is None else {"counts": sample_verdicts.counts(verdicts), "samples": verdicts}
        repair_counts = {kind: len(items) for kind, items in sorted(groups.items())}
        click.echo(
            json.dumps(
                {"api": api, "repairs": repair_counts, "doc_conflicts": conflicts, "doc_samples": samples},
                indent=2,
                default=repr,
            )
        )
        return
    console.print(f"[bold]{api}[/]: {len(repairs) - len(conflicts)} repairs in {len(groups)} kinds")
    for kind in sorted(groups):
        _print_repairs(kind, groups[kind], entry.repairs_path.name)
    if conflicts:
        _print_repairs(sample_causes.KIND, conflicts, entry.repairs_path.name, noun="cause")
    if verdicts is not None:
        _print_doc_samples(verdicts, seeds / entry.seed, shown)


def _print_repairs(kind: str, items: list[dict[str, Any]], log_name: str, noun: str = "repair") -> None:
    """A kind's first ten entries: where, from what source (a long list of pages cut to three), and why."""
    console.print(f"\n[bold]{kind}[/] ({len(items)}{' causes' if noun == 'cause' else ''})")
    for repair in items[:10]:
        sources = repair["source"].split(", ")
        source = ", ".join(sources[:3]) + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")
        console.print(f"  {repair['pointer']}  [dim]{source}[/]", highlight=False)
        console.print(f"    {repair['reason']}", markup=False, highlight=False)
    if len(items) > 10:
        console.print(f"  … and {len(items) - 10} more of this kind (all in {log_name})", highlight=False)


def _print_doc_samples(verdicts: list[dict[str, Any]], seed: Path, shown: int) -> None:
    """The counts per kind and class, then the first conflicts: what the vendor could fix in its documents."""
    console.print(f"\n[bold]doc samples[/] in {seed.name}, judged against the built spec")
    table = Table("samples", "found", *sample_verdicts.CLASSES)
    for kind, row in sample_verdicts.counts(verdicts).items():
        table.add_row(f"{kind}s", *(str(row[column]) for column in ("found", *sample_verdicts.CLASSES)))
    console.print(table)
    conflicts = [verdict for verdict in verdicts if verdict["verdict"] == "conflict"]
    ours = [verdict for verdict in conflicts if verdict["raw"] == "valid"]
    if ours:
        console.print(
            f"{len(ours)} conflicts are apitwin's: the page's own fragment accepts the sample, a repair or an overlay "
            "refuses it (marked [ours])",
            highlight=False,
            markup=False,
        )
    for verdict in conflicts[:shown]:
        mark = " [ours]" if verdict["raw"] == "valid" else ""
        console.print(
            f"  doc-conflict{mark} {verdict['kind']} {verdict['operation']} at {verdict['pointer'] or '/'}",
            highlight=False,
            markup=False,
        )
        console.print(f"    {verdict['page']}", markup=False, highlight=False)
        console.print(f"    {verdict['message']}", markup=False, highlight=False)
    if len(conflicts) > shown:
        console.print(f"  … and {len(conflicts) - shown} more conflicts (all with --json)", highlight=False)
    unrouted = sorted(
        {
            f"{verdict['method']} {verdict['url']}"
            for verdict in verdicts
            if verdict["verdict"] == "unrouted" and verdict["url"]
        }
    )
    if unrouted:
        console.print(f"\n[bold]URLs the samples call that no operation serves[/] ({len(unrouted)})")
        for line in unrouted:
            console.print(f"  {line}", markup=False, highlight=False)


@specs_group.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="The changes as JSON on stdout.")
@reports_spec_errors
def diff_command(old: str, new: str, as_json: bool) -> None:
    """Breaking and non-breaking changes from OLD to NEW (shipped names or files); exit 1 on breaking ones."""
    changes = diff(specs.load(old), specs.load(new))
    breaking = sum(change.breaking for change in changes)
    if as_json:
        import json

        click.echo(
            json.dumps(
                {
                    "old": old,
                    "new": new,
                    "breaking": breaking,
                    "non_breaking": len(changes) - breaking,
                    "changes": [change.as_dict() for change in changes],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        if changes:
            click.echo(f"{old} → {new}\n{render_text(changes)}")
        console.print(f"{breaking} breaking, {len(changes) - breaking} non-breaking changes", highlight=False)
    if breaking:
        sys.exit(1)
