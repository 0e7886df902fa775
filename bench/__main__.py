"""``python -m bench [all|http|sse|plugin|generation|reliability|specs-start|memory|proxy|profile]`` — what
``make bench`` runs (``all``)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from bench import (
    answer_cpu,
    generation,
    http_bench,
    journal_cost,
    load,
    memory_soak,
    plugin_cost,
    proxy_bench,
    reliability,
    report,
    specs_start,
    sse_soak,
    targets,
    tools,
)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    # --duration is wrk's seconds per run, or, for ``memory`` alone, the length of the mixed run
    if arguments.what == "memory" and arguments.duration is not None:
        arguments.memory_duration = arguments.duration
    if arguments.duration is None:
        arguments.duration = 10.0
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so every server started is stopped on the way out
    started = time.monotonic()
    try:
        if arguments.what in ("all", "http"):
            _http(arguments)
        if arguments.what in ("all", "sse"):
            _sse(arguments)
        if arguments.what in ("all", "generation"):
            _generation(arguments)
        if arguments.what in ("all", "reliability"):
            _reliability(arguments)
        if arguments.what in ("all", "plugin"):
            _plugin()
        if arguments.what in ("all", "answer-cpu"):
            _answer_cpu(arguments)
        if arguments.what in ("all", "journal"):
            _journal(arguments)
        if arguments.what in ("all", "specs-start"):
            _specs_start(arguments)
        if arguments.what in ("all", "memory"):
            _memory(arguments)
        if arguments.what in ("all", "proxy"):
            _proxy(arguments)
        if arguments.what == "profile":
            _print(_profile_http(arguments))
    except (tools.ToolMissing, targets.TargetFailed, load.WrkFailed) as problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; every server it started has been stopped", file=sys.stderr)
        return 130
    print(f"bench: done in {time.monotonic() - started:.0f} s")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "what",
        nargs="?",
        default="all",
        choices=[
            "all",
            "http",
            "sse",
            "plugin",
            "answer-cpu",
            "journal",
            "generation",
            "reliability",
            "specs-start",
            "memory",
            "proxy",
            "profile",
        ],
        help="answer-cpu: CPU per uncached answer in process, slow and fast path side by side (issue 15); "
        "journal: CPU per answer with and without the dashboard's journal (issue 14); "
        "all (default): http, sse, generation, reliability, plugin, specs-start, memory; plugin: what the pytest "
        "plugin adds to an unrelated run; generation: the generator over every judging node of every spec; "
        "reliability: hostile battery, soak, state bound, kill -9 (issue 16); specs-start: first and warm start, "
        "lint and RSS per published spec in ../shared/foreign-specs; memory: RSS over a long mixed run (issue 15); "
        "proxy: what apitwin proxy adds in front of apitwin serve, direct and proxied side by side (issue 13); "
        "profile: hot spots of apitwin under wrk at c=16",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds per measured wrk run (default 10); with memory alone: seconds of the mixed run (default 600)",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each run (default 2)")
    parser.add_argument("--concurrency", default="1,16,64", help="wrk connection counts (default 1,16,64)")
    parser.add_argument("--answers", type=int, default=300, help="requests per round in answer-cpu (default 300)")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent SSE streams per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=3, help="SSE rounds on one server (default 3)")
    parser.add_argument("--soak", type=float, default=600.0, help="seconds of the reliability soak (default 600)")
    parser.add_argument("--objects", type=int, default=200_000, help="stored objects in the state-bound run")
    parser.add_argument("--jobs", type=int, default=200, help="jobs created around the kill -9 (default 200)")
    parser.add_argument("--seeds", type=int, default=2000, help="seeds per judging node in generation (default 2000)")
    parser.add_argument("--start-rounds", type=int, default=3, help="rounds per spec in specs-start (default 3)")
    parser.add_argument(
        "--memory-duration", type=float, default=600.0, help="seconds of the memory run in all (default 600)"
    )
    parser.add_argument(
        "--proxy-concurrency", default="1,16", help="connection counts of the proxy benchmark (default 1,16)"
    )
    parser.add_argument("--no-profile", action="store_true", help="do not profile apitwin when it misses a target")
    return parser


def _proxy(arguments: argparse.Namespace) -> None:
    concurrencies = tuple(int(part) for part in arguments.proxy_concurrency.split(",") if part.strip())
    results = proxy_bench.run(
        proxy_bench.Settings(arguments.duration, arguments.warmup, concurrencies), profile=not arguments.no_profile
    )
    markdown = proxy_bench.markdown(results)
    paths: tuple[Path, ...] = report.write("proxy", markdown, results.as_json())
    if results.profiles:
        profiles = {kind: found.as_json() for kind, found in results.profiles.items()}
        paths += report.write("profile-proxy", proxy_bench.profile_markdown(results), profiles)
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _http(arguments: argparse.Namespace) -> None:
    concurrencies = tuple(int(part) for part in arguments.concurrency.split(",") if part.strip())
    results = http_bench.run(http_bench.Settings(arguments.duration, arguments.warmup, concurrencies))
    markdown = report.http_markdown(results)
    paths = report.write("http", markdown, results.as_json())
    if results.apitwin_missed and not arguments.no_profile:
        _profile_http(arguments)
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _profile_http(arguments: argparse.Namespace) -> str:
    print(
        "[http] apitwin missed a target (or a profile was asked for): sampling it with py-spy under wrk at c=16",
        flush=True,
    )
    found = http_bench.profile(arguments.duration)
    markdown = report.hotspots_markdown(found)
    paths = report.write("profile-http", markdown, found.as_json())
    print(f"written: {', '.join(str(path) for path in paths)}")
    return markdown


def _sse(arguments: argparse.Namespace) -> None:
    results, found = sse_soak.run(
        sse_soak.Settings(streams=arguments.streams, rounds=arguments.rounds), profile=not arguments.no_profile
    )
    markdown = report.sse_markdown(results)
    paths: tuple[Path, ...] = report.write("sse", markdown, results.as_json())
    if found is not None:
        paths += report.write("profile-sse", report.hotspots_markdown(found), found.as_json())
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _answer_cpu(arguments: argparse.Namespace) -> None:
    rows = answer_cpu.run(arguments.answers, arguments.rounds + 2)
    markdown = answer_cpu.markdown(rows, arguments.answers, arguments.rounds + 2)
    paths = report.write("answer-cpu", markdown, report.rows_json(rows, arguments.answers, arguments.rounds + 2))
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _journal(arguments: argparse.Namespace) -> None:
    rows = journal_cost.run(arguments.answers, arguments.rounds + 2)
    markdown = journal_cost.markdown(rows, arguments.answers, arguments.rounds + 2)
    paths = report.write("journal", markdown, report.rows_json(rows, arguments.answers, arguments.rounds + 2))
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _plugin() -> None:
    cost = plugin_cost.run()
    markdown = plugin_cost.markdown(cost)
    paths = report.write("plugin", markdown, cost.as_json())
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _reliability(arguments: argparse.Namespace) -> None:
    rows = reliability.run(arguments.soak, arguments.objects, arguments.jobs)
    markdown = reliability.markdown(rows)
    paths = report.write("reliability", markdown, reliability.as_json(rows))
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _specs_start(arguments: argparse.Namespace) -> None:
    results = specs_start.run(arguments.start_rounds)
    _publish("specs-start", specs_start.markdown(results), results.as_json())


def _memory(arguments: argparse.Namespace) -> None:
    concurrency = 16 if 16 in _concurrencies(arguments) else max(_concurrencies(arguments))
    results = memory_soak.run(memory_soak.Settings(duration_s=arguments.memory_duration, concurrency=concurrency))
    _publish("memory", memory_soak.markdown(results), results.as_json())


def _concurrencies(arguments: argparse.Namespace) -> tuple[int, ...]:
    return tuple(int(part) for part in arguments.concurrency.split(",") if part.strip())


def _publish(name: str, markdown: str, data: dict[str, Any]) -> None:
    paths = report.write(name, markdown, data)
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _generation(arguments: argparse.Namespace) -> None:
    results = generation.run(arguments.seeds)
    markdown = generation.markdown(results, arguments.seeds)
    paths = report.write("generation", markdown, generation.as_json(results, arguments.seeds))
    print()
    print(markdown)
    print(f"written: {', '.join(str(path) for path in paths)}")


def _print(text: str) -> None:
    print()
    print(text)


def _exit_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
