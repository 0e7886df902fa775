"""The tables: Markdown for people (``bench/results/*.md``), JSON for machines (``*.json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bench import machine as machines

if TYPE_CHECKING:
    from bench.hotspots import Hotspots
    from bench.http_bench import HttpResults
    from bench.sse_soak import Round, SoakResults

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write(name: str, markdown: str, data: dict[str, Any]) -> tuple[Path, Path]:
    """``results/<name>.md`` and ``results/<name>.json``, written whole or not at all."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    paths = (RESULTS_DIR / f"{name}.md", RESULTS_DIR / f"{name}.json")
    for path, text in zip(paths, (markdown, json.dumps(_finite(data), indent=2, allow_nan=False) + "\n"), strict=False):
        partial = path.with_suffix(path.suffix + ".tmp")
        partial.write_text(text)
        partial.replace(path)
    return paths


class Measured(Protocol):
    """A row of an in-process measurement."""

    def as_json(self) -> dict[str, Any]: ...


def rows_json(rows: Sequence[Measured], requests: int, rounds: int) -> dict[str, Any]:
    """The JSON of an in-process measurement: the machine, the answers per round and the rounds, each row."""
    return {
        "machine": machines.describe(),
        "requests": requests,
        "rounds": rounds,
        "rows": [row.as_json() for row in rows],
    }


def http_markdown(results: HttpResults) -> str:
    machine = results.machine
    lines = [
        "# HTTP benchmark: apitwin vs Prism vs bare Starlette",
        "",
        f"`POST /v1/chat/completions` of `aimlapi`, body "
        f'`{{"model":"gpt-4o","messages":[{{"role":"user","content":"Hello"}}]}}` (a2: `Hello1`, `Hello2`, …), '
        f"wrk `-t1`, {results.settings.duration_s:g} s per run after a {results.settings.warmup_s:g} s warm-up, the "
        f"three targets measured in turn at each concurrency.",
        f"Machine: {machine['cpus']} × {machine['cpu_model']}, load average at start "
        f"{machine['load_average_at_start']} (shared with other work: absolute numbers are noisy, ratios count); "
        f"{machine['wrk']}; Python {machine['python']}; node {machine['node']}; {machine['date']}.",
        "",
        "## What each target answered (checked before measuring)",
        "",
        "| | target | command | answer to the benchmark request |",
        "| --- | --- | --- | --- |",
    ]
    for run in results.targets:
        answered = run.probe.summary() if run.probe else f"not measured: {run.unavailable}"
        if run.notes:
            answered += "; " + "; ".join(run.notes)
        lines.append(f"| {run.key} | {run.name} | {run.command} | {_cell(answered)} |")
    lines += [
        "",
        "## Throughput and latency",
        "",
        "| c | target | req/s | p50 ms | p99 ms | bytes/answer | non-2xx | socket errors | server CPU µs/answer |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for concurrency in results.settings.concurrencies:
        for run in results.targets:
            result = run.runs.get(concurrency)
            if result is None:
                lines.append(f"| {concurrency} | {run.key} {run.name} | – | – | – | – | – | – | – |")
                continue
            cpu = run.cpu_us.get(concurrency)
            lines.append(
                f"| {concurrency} | {run.key} {run.name} | {result.requests_per_s:,.1f} | {_ms(result.p50_ms)} | "
                f"{_ms(result.p99_ms)} | {result.bytes_per_answer:,} | {result.non_2xx} | {result.socket_errors} | "
                f"{f'{cpu:,.0f}' if cpu is not None else '–'} |"
            )
    lines += [
        "",
        "## Ratios (req/s)",
        "",
        "a repeats one request, so after the first answer apitwin answers from its cache of deterministic answers "
        "(same request and seed, same bytes); a2 sends a new prompt every time, so every answer is validated, "
        "generated and shaped anew.",
        "",
        "r and e send new prompts to Responses (`store: false`, so no state is written) and embeddings; rc and ec "
        "are bare endpoints answering as many bytes as r and e do.",
        "",
        "| c | a/b (apitwin / Prism) | a/c (apitwin / bare Starlette) | a2/b (new prompts / Prism) | a2/c (new "
        "prompts / bare) | r/rc (Responses / bare) | e/ec (embeddings / bare) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for concurrency, ratios in results.ratios.items():
        lines.append(
            f"| {concurrency} | {_ratio(ratios['a/b'])} | {_ratio(ratios['a/c'])} | {_ratio(ratios.get('a2/b'))} | "
            f"{_ratio(ratios.get('a2/c'))} | {_ratio(ratios.get('r/rc'))} | {_ratio(ratios.get('e/ec'))} |"
        )
    lines += [
        "",
        "## The floor under a2 and r",
        "",
        "h and hr are hand-written endpoints (`bench/handwritten.py`) sent the same new prompts as a2 and r: each "
        "checks the token, parses and validates the request, draws a text, ids and a timestamp, validates and encodes "
        "the answer, and does nothing else (no journal, no cache, no preferences, no faults, no other operation). What "
        "they reach is about the best a mock in Python that checks the spec and answers anew can reach; a2/h and r/hr "
        "are what apitwin's generality costs.",
        "",
        "| c | h/c (chat floor / bare) | h/b (chat floor / Prism) | a2/h (apitwin / floor) | hr/rc (Responses floor "
        "/ bare) | r/hr (apitwin / floor) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for concurrency, ratios in results.ratios.items():
        lines.append(
            f"| {concurrency} | {_ratio(ratios.get('h/c'))} | {_ratio(ratios.get('h/b'))} | "
            f"{_ratio(ratios.get('a2/h'))} | {_ratio(ratios.get('hr/rc'))} | {_ratio(ratios.get('r/hr'))} |"
        )
    if results.cpu_ratios:
        names = list(next(iter(results.cpu_ratios.values())))
        lines += [
            "",
            "## Ratios of server CPU per answer",
            "",
            "The same comparisons from the CPU each server spent per answer during its measured run (the other's µs "
            "over apitwin's): what the req/s ratios would be with a core each. The machine's other work moves req/s "
            "from run to run; it does not move CPU per answer much. The targets below are judged on req/s, as the "
            "issues state them.",
            "",
            "| c | " + " | ".join(names) + " |",
            "| ---: | " + " | ".join("---:" for _ in names) + " |",
        ]
        for concurrency, ratios in results.cpu_ratios.items():
            lines.append(f"| {concurrency} | " + " | ".join(_ratio(ratios[name]) for name in names) + " |")
    lines += [
        "",
        "## Targets",
        "",
        "The floor column: what the hand-written endpoint (h for chat, hr for Responses) measured for the same target.",
        "",
        "| target | wanted | measured | met | the floor measured |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {v.name} | {v.wanted} | {v.measured} | {_met(v.met)} | {v.floor or '–'} |" for v in results.verdicts]
    return "\n".join(lines) + "\n"


def sse_markdown(results: SoakResults) -> str:
    machine = results.machine
    settings = results.settings
    lines = [
        f"# SSE soak: {settings.streams:,} concurrent streams on one worker",
        "",
        f'`{results.command}`; each stream is `POST /v1/chat/completions` with `"stream": true` from one asyncio '
        f"client (raw sockets, "
        f"`Connection: close`), all {settings.streams:,} started at once, {settings.rounds} rounds on the same server "
        f"process. "
        "Times are from before the connection is opened; first event = the first `data:` bytes received.",
        f"Machine: {machine['cpus']} × {machine['cpu_model']}, load average at start "
        f"{machine['load_average_at_start']} (shared); Python {machine['python']}; "
        f"somaxconn {machine.get('somaxconn')}; {machine['date']}.",
        "",
        f"One stream at a time ({results.unloaded_first_event.count} streams): first event p50 "
        f"{results.unloaded_first_event.p50_ms} ms, "
        f"p99 {results.unloaded_first_event.p99_ms} ms, max {results.unloaded_first_event.max_ms} ms.",
        "",
        *_rounds_table(results.rounds),
    ]
    if results.scaling:
        workers = results.scaling[0].workers
        lines += [
            "",
            f"## Scaling: the same rounds on `--workers {workers}`",
            "",
            f"A fresh server with {workers} worker processes (state in SQLite, as several workers need); server CPU "
            "and RSS are summed over the supervisor and its workers (the peak is the larger of the sums before and "
            "after a round, not sampled).",
            "",
            *_rounds_table(results.scaling),
        ]
    lines += [
        "",
        f"Which side dominates: {dominant_side(results)}",
        "",
        "## Targets",
        "",
        "| target | wanted | measured | met |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {v['name']} | {v['wanted']} | {v['measured']} | {_met(v['met'])} |" for v in results.verdicts]
    return "\n".join(lines) + "\n"


def _rounds_table(rounds: list[Round]) -> list[str]:
    lines = [
        "| round | completed | events/stream (min/mean/max) | first event p50 / p99 / max ms | headers p50 ms | "
        "stream done p50 / p99 ms | wall s | RSS before → peak → after MiB | server CPU (of wall) | server CPU per "
        "stream | client CPU (of wall) |",
        "| ---: | ---: | --- | --- | ---: | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for number, r in enumerate(rounds, start=1):
        events = r.events_per_stream
        errors = f" ({', '.join(f'{reason}: {count}' for reason, count in r.errors.items())})" if r.errors else ""
        lines.append(
            f"| {number} | {r.completed:,} / {r.streams:,}{_cell(errors)} | {events['min']} / {events['mean']} / "
            f"{events['max']} | "
            f"{r.first_event.p50_ms} / {r.first_event.p99_ms} / {r.first_event.max_ms} | {r.headers.p50_ms} | "
            f"{r.stream_total.p50_ms} / {r.stream_total.p99_ms} | "
            f"{r.wall_s:.2f} | {r.rss_before_kib / 1024:.1f} → {r.rss_peak_kib / 1024:.1f} → "
            f"{r.rss_after_kib / 1024:.1f} | "
            f"{r.server_cpu_s:.2f} s ({r.server_busy:.0%}) | {r.cpu_per_stream_ms:.2f} ms | "
            f"{r.client_cpu_s:.2f} s ({r.client_busy:.0%}) |"
        )
    return lines


def dominant_side(results: SoakResults) -> str:
    """Server or client: whichever used more CPU over the rounds' wall time."""
    if not results.rounds:
        return "no rounds ran."
    server = sum(r.server_cpu_s for r in results.rounds)
    client = sum(r.client_cpu_s for r in results.rounds)
    wall = sum(r.wall_s for r in results.rounds)
    side = "the server" if server >= client else "the client"
    return (
        f"{side} (server {server:.1f} CPU-s, client {client:.1f} CPU-s over {wall:.1f} s of wall time). "
        f"With every stream started at once, a stream's first event waits for the streams ahead of it in the one "
        f"worker's queue, "
        f"so under load the first-event time is mostly queueing behind {results.settings.streams:,} requests' worth "
        f"of server CPU; "
        "CPU below 100 % of wall means the worker also waited for a core (the machine is shared)."
    )


def hotspots_markdown(hotspots: Hotspots) -> str:
    lines = [
        f"# Where apitwin spends its time: {hotspots.what}",
        "",
        f"py-spy, {hotspots.samples:,} samples of the busy server ({hotspots.load}). Shares are of the samples in "
        f"which the server ran Python.",
        "",
        "## Inclusive (our functions, with everything they call)",
        "",
        "| share | function (file) |",
        "| ---: | --- |",
    ]
    lines += [f"| {s.share:.1%} | `{s.function}` |" for s in hotspots.inclusive]
    lines += ["", "## Own time (innermost frame, any code)", "", "| share | function (file) |", "| ---: | --- |"]
    lines += [f"| {s.share:.1%} | `{s.function}` |" for s in hotspots.own]
    return "\n".join(lines) + "\n"


def _ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _met(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "not measured"}[value]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finite(value: Any) -> Any:
    """NaN (no latency measured) as null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
