"""``python -m bench specs-start`` — issue 10 point 5 / issue 15: how fast a published spec serves and lints.

For every spec file in ``../shared/foreign-specs`` (one row each), measured side by side in one run:

- **first start**: ``apitwin serve FILE`` with an empty spec cache, from launching the process to its first
  HTTP answer (``GET /_apitwin/apis``);
- **warm start**: the same command again, the file unchanged, so the normalised document comes from the cache;
- **RSS after start**: the server's ``VmRSS`` once it answers (after the first start); operations are compiled on
  their first request, so also **RSS all compiled**: a process that has built every operation
  (``bench/compile_all.py``), the most a server of this spec holds before state and caches;
- **lint**: ``apitwin specs lint FILE`` with an empty cache (normalise + lint) and with a warm one.

Each figure is the median of ``--rounds`` runs. A pair of files with the same stem and different dates (OpenAI's
spec one month apart) also gets a ``specs diff`` row, cold and warm. Targets (for OpenAI's 3 MB spec; every row
is held to them): first start < 10 s, warm start < 3 s, lint < 15 s, RSS < 400 MiB.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import machine, proc, targets

FOREIGN_SPECS = Path(__file__).resolve().parents[2] / "shared" / "foreign-specs"
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
READY_PATH = "/_apitwin/apis"
START_TIMEOUT = 180.0
POLL_S = 0.02

TARGETS = {"first start s": 10.0, "warm start s": 3.0, "lint s": 15.0, "RSS MiB": 400.0, "RSS all compiled MiB": 400.0}


@dataclass(slots=True)
class SpecRow:
    spec: str
    size_bytes: int
    first_start_s: list[float] = field(default_factory=list)
    warm_start_s: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    lint_s: list[float] = field(default_factory=list)
    warm_lint_s: list[float] = field(default_factory=list)
    lint_exit: int | None = None
    compiled_rss_mib: float | None = None
    compile_all_s: float | None = None
    failure: str = ""

    def medians(self) -> dict[str, float | None]:
        return {
            "first start s": _median(self.first_start_s),
            "warm start s": _median(self.warm_start_s),
            "lint s": _median(self.lint_s),
            "RSS MiB": _median(self.rss_mib),
            "RSS all compiled MiB": self.compiled_rss_mib,
        }

    def verdicts(self) -> dict[str, bool | None]:
        verdicts: dict[str, bool | None] = {}
        for name, value in self.medians().items():
            verdicts[name] = None if value is None else value <= TARGETS[name]
        return verdicts


@dataclass(slots=True)
class DiffRow:
    old: str
    new: str
    cold_s: list[float] = field(default_factory=list)
    warm_s: list[float] = field(default_factory=list)
    exit_code: int | None = None


@dataclass(slots=True)
class StartResults:
    machine: dict[str, Any]
    rounds: int
    rows: list[SpecRow]
    diffs: list[DiffRow]

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "rounds": self.rounds,
            "targets": TARGETS,
            "rows": [{**asdict(row), "medians": row.medians(), "met": row.verdicts()} for row in self.rows],
            "diffs": [asdict(row) for row in self.diffs],
        }


def spec_files(folder: Path = FOREIGN_SPECS) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.suffix in SPEC_SUFFIXES and path.is_file())


def run(rounds: int, folder: Path = FOREIGN_SPECS) -> StartResults:
    if not folder.is_dir():
        raise targets.TargetFailed(f"no foreign specs to measure: {folder} is absent")
    files = spec_files(folder)
    results = StartResults(machine.describe(), rounds, [], [])
    for path in files:
        row = SpecRow(path.name, path.stat().st_size)
        try:
            for _ in range(rounds):
                _measure_round(path, row)
            row.compile_all_s, row.compiled_rss_mib = _compile_all(path)
        except (targets.TargetFailed, subprocess.TimeoutExpired) as failure:
            row.failure = str(failure).splitlines()[0][:200]
        results.rows.append(row)
        print(f"[specs-start] {_say(row)}", flush=True)
    for old, new in dated_pairs(files):
        diff = DiffRow(old.name, new.name)
        for _ in range(rounds):
            with _cache_dir() as cache:
                cold, diff.exit_code = _timed_cli(["specs", "diff", str(old), str(new)], cache)
                warm, _ = _timed_cli(["specs", "diff", str(old), str(new)], cache)
            diff.cold_s.append(cold)
            diff.warm_s.append(warm)
        results.diffs.append(diff)
        print(f"[specs-start] diff {old.name} → {new.name}: cold {_median(diff.cold_s):.1f} s, warm "
              f"{_median(diff.warm_s):.1f} s", flush=True)  # fmt: skip
    return results


def _measure_round(path: Path, row: SpecRow) -> None:
    with _cache_dir() as cache:
        first, rss = _timed_start(path, cache)
        warm, _ = _timed_start(path, cache)
    with _cache_dir() as cache:
        lint, row.lint_exit = _timed_cli(["specs", "lint", str(path)], cache)
        warm_lint, _ = _timed_cli(["specs", "lint", str(path)], cache)
    row.first_start_s.append(first)
    row.warm_start_s.append(warm)
    row.rss_mib.append(rss)
    row.lint_s.append(lint)
    row.warm_lint_s.append(warm_lint)


@contextlib.contextmanager
def _cache_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-spec-cache-") as name:
        yield Path(name)


def _environment(cache: Path) -> dict[str, str]:
    import os

    return {**os.environ, "APITWIN_CACHE_DIR": str(cache), "APITWIN_NO_CACHE": ""}


def _timed_start(path: Path, cache: Path) -> tuple[float, float]:
    """Seconds from launching ``apitwin serve FILE`` to its first answer, and its RSS (MiB) then."""
    port = targets.free_port()
    command = [sys.executable, "-m", "apitwin", "serve", str(path), "--host", targets.HOST, "--port", str(port),
               "--state", "memory"]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        started = time.monotonic()
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=_environment(cache),
        )  # fmt: skip
        try:
            return _await_answer(process, port, started, path)
        except targets.TargetFailed as failure:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
            raise targets.TargetFailed(f"{failure}: {' / '.join(tail)}") from None
        finally:
            targets.stop(process)


def _await_answer(process: subprocess.Popen[bytes], port: int, started: float, path: Path) -> tuple[float, float]:
    url = f"http://{targets.HOST}:{port}{READY_PATH}"
    with httpx.Client(timeout=5) as client:
        while True:
            if process.poll() is not None:
                raise targets.TargetFailed(f"apitwin serve {path.name} exited with code {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                client.get(url)
                return time.monotonic() - started, proc.rss_kib(process.pid) / 1024
            if time.monotonic() - started > START_TIMEOUT:
                raise targets.TargetFailed(f"apitwin serve {path.name} did not answer in {START_TIMEOUT:.0f} s")
            time.sleep(POLL_S)


def _compile_all(path: Path) -> tuple[float, float]:
    with _cache_dir() as cache:
        result = subprocess.run(
            [sys.executable, "-m", "bench.compile_all", str(path)],
            capture_output=True,
            text=True,
            env=_environment(cache),
            timeout=START_TIMEOUT,
            check=False,
        )
    if result.returncode != 0:
        raise targets.TargetFailed(f"compiling every operation of {path.name} failed: {result.stderr[-300:]}")
    found = json.loads(result.stdout)
    return found["seconds"], found["rss_mib"]


def _timed_cli(arguments: list[str], cache: Path) -> tuple[float, int]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "apitwin", *arguments],
        capture_output=True,
        env=_environment(cache),
        timeout=START_TIMEOUT,
        check=False,
    )
    return time.monotonic() - started, result.returncode


def dated_pairs(files: list[Path]) -> list[tuple[Path, Path]]:
    """Files that differ only by a date in the name (``openai-2026-07-23.yaml``, ``openai-2026-08-21.yaml``),
    oldest → newest, consecutive."""
    groups: dict[str, list[Path]] = {}
    for path in files:
        undated = re.sub(r"\d{4}-\d{2}-\d{2}", "DATE", path.name)
        if undated != path.name:
            groups.setdefault(undated, []).append(path)
    return [pair for group in groups.values() for pair in itertools.pairwise(group)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _say(row: SpecRow) -> str:
    if row.failure:
        return f"{row.spec}: failed: {row.failure}"
    found = row.medians()
    return f"{row.spec}: " + ", ".join(f"{name} {value:.2f}" for name, value in found.items() if value is not None)


def markdown(results: StartResults) -> str:
    info = results.machine
    lines = [
        "# Published specs: start-up, lint and memory (issue 10 point 5, issue 15)",
        "",
        f"Every file of `../shared/foreign-specs`, median of {results.rounds} rounds. **first start**: `apitwin "
        "serve FILE --state memory` with an empty spec cache, from launching the process to its first answer "
        f"(`GET {READY_PATH}`); **warm start**: the same again, the file unchanged (the normalised document comes "
        "from the cache); **RSS**: the server's VmRSS once it answers; **RSS all compiled**: a process that has built "
        "every operation's validators, generators and behaviours (a server builds them on an operation's first "
        "request); **lint**: `apitwin specs lint FILE` with an empty cache (normalise + lint), **warm lint** with "
        "the cache filled.",
        f"Machine: {info['cpus']} × {info['cpu_model']}, load average at start {info['load_average_at_start']} "
        f"(shared with other work); Python {info['python']}; {info['date']}.",
        "",
        "| spec | size | first start s | warm start s | warm/first | RSS MiB | RSS all compiled MiB (compile s) | "
        "lint s | warm lint s | lint exit |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results.rows:
        if row.failure:
            lines.append(f"| {row.spec} | {row.size_bytes:,} | failed: {row.failure} | | | | | | | |")
            continue
        found = row.medians()
        first, warm = found["first start s"], found["warm start s"]
        ratio = f"{warm / first:.2f}" if first and warm is not None else "–"
        lines.append(
            f"| {row.spec} | {row.size_bytes:,} | {_num(first)} | {_num(warm)} | {ratio} | "
            f"{_num(found['RSS MiB'], 0)} | {_num(row.compiled_rss_mib, 0)} ({_num(row.compile_all_s, 1)}) | "
            f"{_num(found['lint s'])} | {_num(_median(row.warm_lint_s))} | "
            f"{row.lint_exit} |"
        )
    lines += ["", "## Targets", "", "| spec | " + " | ".join(f"{name} < {TARGETS[name]:g}" for name in TARGETS) + " |"]
    lines.append("| --- |" + " :---: |" * len(TARGETS))
    for row in results.rows:
        verdicts = row.verdicts()
        found = row.medians()
        cells = [_verdict(verdicts[name], found[name]) for name in TARGETS]
        lines.append(f"| {row.spec} | " + " | ".join(cells) + " |")
    if results.diffs:
        lines += [
            "",
            "## specs diff",
            "",
            "| old → new | cold s (empty cache) | warm s | exit |",
            "| --- | ---: | ---: | ---: |",
        ]
        for diff in results.diffs:
            lines.append(
                f"| {diff.old} → {diff.new} | {_num(_median(diff.cold_s))} | {_num(_median(diff.warm_s))} | "
                f"{diff.exit_code} |"
            )
    return "\n".join(lines) + "\n"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _verdict(met: bool | None, value: float | None) -> str:
    if met is None or value is None:
        return "not measured"
    return f"{'met' if met else '**missed**'} ({value:,.2f})"
