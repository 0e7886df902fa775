"""Issue 3's benchmark: apitwin (a) against Stoplight Prism (b) and a bare Starlette endpoint (c);
issue 15's rows: apitwin answering new prompts (a2: chat, r: Responses, e: embeddings), each beside a
bare endpoint answering a body of its size (c, rc, ec), and the floor under a2: one hand-written endpoint
doing only the work no spec-checking mock can skip (h, see ``bench.handwritten``).

All targets serve side by side in one run: for each concurrency they are measured in turn (warm-up,
then the measured run), so the noise of this shared machine falls on all of them alike and the ratios
stay meaningful.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apitwin import specs
from bench import hotspots, load, machine, probe, proc, targets, tools
from bench.load import LoadResult, Request

API = "aimlapi"
PATH = "/v1/chat/completions"
BODY = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello{n}"}]}, separators=(",", ":"))
"""The benchmark request; ``{n}`` is empty for a, b and c, a counter for a2 (a new prompt per request)."""
HEADERS = (("Authorization", "Bearer k"), ("Content-Type", "application/json"))
TARGET_AB = 20.0
TARGET_AC = 0.5
TARGET_P99_MS = 10.0
P99_CONCURRENCY = 16
TARGET_A2B = 50.0
"""Issue 15, all at c=16: new prompts at >= 50 x Prism and >= 0.5 x bare with p99 < 10 ms; Responses and
embeddings at >= 0.4 x a bare endpoint answering as many bytes."""
TARGET_A2C = 0.5
TARGET_OTHER_OF_BARE = 0.4


@dataclass(frozen=True, slots=True)
class Workload:
    """What a target is sent: a path and a body (``{n}`` marks where a new prompt's counter goes)."""

    name: str
    path: str
    body: str


CHAT = Workload("chat completions", PATH, BODY)
RESPONSES = Workload(
    "Responses",
    "/v1/responses",
    json.dumps({"model": "gpt-4o", "input": "Hello{n}", "store": False}, separators=(",", ":")),
)
"""``store: false``: what is measured is the answer, not the state store's writes (SQLite by default)."""
EMBEDDINGS = Workload(
    "embeddings",
    "/v1/embeddings",
    json.dumps({"model": "alibaba/qwen-text-embedding-v3", "input": "Hello{n}"}, separators=(",", ":")),
)


@dataclass(slots=True)
class Settings:
    duration_s: float = 10.0
    warmup_s: float = 2.0
    concurrencies: tuple[int, ...] = (1, 16, 64)


@dataclass(slots=True)
class TargetRun:
    key: str
    name: str
    command: str
    probe: probe.Probe | None = None
    runs: dict[int, LoadResult] = field(default_factory=dict)
    unavailable: str = ""
    notes: list[str] = field(default_factory=list)
    workload: Workload = CHAT
    vary: bool = False
    """A new prompt per request (``{n}`` counts up), so no answer is served from apitwin's answer cache."""
    cpu_us: dict[int, float] = field(default_factory=dict)
    """Server CPU per answer (of the process and its children) during the measured run, by concurrency: what the
    rate would come to with a core to itself, which the shared machine's load does not move."""

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "command": self.command,
            "path": self.workload.path,
            "body": self.workload.body.replace(load.VARY_MARKER, "<n>" if self.vary else ""),
            "probe": self.probe.as_json() if self.probe else None,
            "runs": {str(c): result.as_json() for c, result in self.runs.items()},
            "server_cpu_us_per_answer": {str(c): round(value, 1) for c, value in self.cpu_us.items()},
            "unavailable": self.unavailable,
            "notes": self.notes,
        }


@dataclass(slots=True)
class Verdict:
    name: str
    wanted: str
    measured: str
    met: bool | None  # None: could not be measured
    floor: str = ""
    """What the hand-written floor (h, hr) measured for the same target: a target it misses too is out of reach
    of any mock in Python doing the same checks."""


@dataclass(slots=True)
class HttpResults:
    settings: Settings
    targets: list[TargetRun]
    machine: dict[str, Any]
    ratios: dict[int, dict[str, float | None]] = field(default_factory=dict)
    cpu_ratios: dict[int, dict[str, float | None]] = field(default_factory=dict)
    """The same ratios from server CPU per answer (see ``TargetRun.cpu_us``)."""
    verdicts: list[Verdict] = field(default_factory=list)

    def target(self, key: str) -> TargetRun:
        return next(run for run in self.targets if run.key == key)

    @property
    def apitwin_missed(self) -> bool:
        return any(verdict.met is False for verdict in self.verdicts if verdict.name != "a/b")

    def as_json(self) -> dict[str, Any]:
        return {
            "request": {
                "method": "POST",
                "path": PATH,
                "body": json.loads(BODY.replace(load.VARY_MARKER, "")),
                "headers": dict(HEADERS),
            },
            "settings": {
                "duration_s": self.settings.duration_s,
                "warmup_s": self.settings.warmup_s,
                "concurrencies": list(self.settings.concurrencies),
            },
            "machine": self.machine,
            "targets": [run.as_json() for run in self.targets],
            "ratios": {str(c): ratios for c, ratios in self.ratios.items()},
            "cpu_ratios": {str(c): ratios for c, ratios in self.cpu_ratios.items()},
            "verdicts": [
                {"name": v.name, "wanted": v.wanted, "measured": v.measured, "met": v.met, "floor": v.floor}
                for v in self.verdicts
            ],
        }


def spec_file(api: str = API) -> Path:
    return Path(specs.__file__).resolve().parent / "apis" / api / "openapi.json"


def request_to(server: targets.Server, vary: bool = False, workload: Workload = CHAT) -> Request:
    body = workload.body if vary else workload.body.replace(load.VARY_MARKER, "")
    return Request(server.base_url + workload.path, "POST", body, HEADERS, vary=vary)


def run(settings: Settings) -> HttpResults:
    """Start the three targets, check what each answers, measure them side by side."""
    tools.wrk()  # a missing load generator should stop us before any server starts
    document = specs.load(API)
    results = HttpResults(settings, [], machine.describe())
    with contextlib.ExitStack() as stack:
        servers = _start_targets(stack, document, results)
        for concurrency in settings.concurrencies:
            for run_ in results.targets:
                server = servers.get(run_.key)
                if server is None:
                    continue
                try:
                    _measure(server, run_, concurrency, settings)
                except (load.WrkFailed, targets.TargetFailed) as problem:
                    if run_.key != "b":
                        raise
                    # Prism is the comparison, not the subject: when it falls over, the table says so and goes on.
                    run_.notes.append(f"stopped answering at c={concurrency}: {problem}")
                    servers.pop("b")
                    _say(f"b  Prism     NOT measured from c={concurrency} on: {problem}")
    _judge(results)
    return results


def _start_targets(
    stack: contextlib.ExitStack, document: dict[str, Any], results: HttpResults
) -> dict[str, targets.Server]:
    servers: dict[str, targets.Server] = {}
    apitwin = stack.enter_context(
        targets.running("apitwin", lambda port: targets.apitwin_command(API, port), "/_apitwin/apis")
    )
    run_a = TargetRun("a", "apitwin", f"apitwin serve {API} (1 worker, validation on, dynamic answers)")
    results.targets.append(run_a)
    run_a.probe, _ = probe.send(request_to(apitwin), document, PATH)
    _say(f"a  apitwin   started in {apitwin.started_in:.1f} s; answers {run_a.probe.summary()}")
    if not run_a.probe.ok:
        raise targets.TargetFailed(
            f"apitwin answered {run_a.probe.status} to the benchmark request; refusing to measure errors"
        )
    servers["a"] = apitwin
    run_a2 = TargetRun(
        "a2",
        "apitwin, new prompts",
        "the same server; every request a different prompt, so no answer is remembered",
        vary=True,
    )
    run_a2.probe = run_a.probe
    results.targets.append(run_a2)
    servers["a2"] = apitwin

    run_b = TargetRun("b", "Prism", f"prism mock -d specs/apis/{API}/openapi.json (Prism {machine.prism_version()})")
    results.targets.append(run_b)
    try:
        prism = stack.enter_context(
            targets.running("prism", lambda port: targets.prism_command(spec_file(), port), "/")
        )
    except (tools.ToolMissing, targets.TargetFailed) as problem:
        run_b.unavailable = str(problem)
        _say(f"b  Prism     NOT measured: {problem}")
    else:
        run_b.probe, _ = probe.send(request_to(prism), document, PATH)
        run_b.notes.append(
            f"first answer took {run_b.probe.elapsed_ms / 1e3:.1f} s (Prism compiles the request schema on first use)"
        )
        _say(
            f"b  Prism     started in {prism.started_in:.1f} s; answers {run_b.probe.summary()}; first answer after "
            f"{run_b.probe.elapsed_ms:.0f} ms"
        )
        servers["b"] = prism

    size = run_a.probe.size
    bare = stack.enter_context(targets.running("starlette", lambda port: targets.bare_command(port, size)))
    run_c = TargetRun("c", "bare Starlette", f"uvicorn + Starlette, 1 worker, fixed {size} B JSON body")
    results.targets.append(run_c)
    run_c.probe, _ = probe.send(request_to(bare), {}, PATH)
    _say(f"c  Starlette started in {bare.started_in:.1f} s; answers {run_c.probe.summary()}")
    servers["c"] = bare
    _start_handwritten(stack, document, results, servers)
    for key, workload in (("r", RESPONSES), ("e", EMBEDDINGS)):
        _start_pair(stack, document, results, servers, apitwin, key, workload)
    return servers


def _start_handwritten(
    stack: contextlib.ExitStack, document: dict[str, Any], results: HttpResults, servers: dict[str, targets.Server]
) -> None:
    """The hand-written endpoints (``bench.handwritten``), sent new prompts as a2 and r are: what a mock in Python
    can reach at best on chat (h) and Responses (hr)."""
    server = stack.enter_context(
        targets.running("handwritten", lambda port: targets.handwritten_command(port, spec_file()))
    )
    for key, workload in (("h", CHAT), ("hr", RESPONSES)):
        run = TargetRun(
            key,
            f"hand-written {workload.name}, new prompts",
            "uvicorn + Starlette, 1 worker: one endpoint parsing, validating, drawing and encoding (bench.handwritten)",
            workload=workload,
            vary=True,
        )
        run.probe, _ = probe.send(request_to(server, workload=workload), document, workload.path)
        _say(
            f"{key:<2} hand-written {workload.name} started in {server.started_in:.1f} s; answers {run.probe.summary()}"
        )
        if not run.probe.ok:
            raise targets.TargetFailed(f"the hand-written {workload.name} answered {run.probe.status}: fix it first")
        results.targets.append(run)
        servers[key] = server


def _start_pair(
    stack: contextlib.ExitStack,
    document: dict[str, Any],
    results: HttpResults,
    servers: dict[str, targets.Server],
    apitwin: targets.Server,
    key: str,
    workload: Workload,
) -> None:
    """apitwin answering ``workload`` with new prompts, and a bare endpoint answering as many bytes."""
    run = TargetRun(
        key, f"apitwin {workload.name}, new prompts", "the same apitwin server", workload=workload, vary=True
    )
    run.probe, _ = probe.send(request_to(apitwin, workload=workload), document, workload.path)
    _say(f"{key}  apitwin {workload.name}: answers {run.probe.summary()}")
    if not run.probe.ok:
        raise targets.TargetFailed(
            f"apitwin answered {run.probe.status} to {workload.path}; refusing to measure errors"
        )
    results.targets.append(run)
    servers[key] = apitwin
    size = run.probe.size
    bare = stack.enter_context(targets.running("starlette", lambda port: targets.bare_command(port, size)))
    run_bare = TargetRun(
        f"{key}c", f"bare Starlette, {workload.name} size", f"uvicorn + Starlette, 1 worker, fixed {size} B JSON body"
    )
    run_bare.probe, _ = probe.send(request_to(bare, workload=workload), {}, workload.path)
    results.targets.append(run_bare)
    servers[run_bare.key] = bare


def _measure(server: targets.Server, run_: TargetRun, concurrency: int, settings: Settings) -> None:
    request = request_to(server, vary=run_.vary, workload=run_.workload)
    if settings.warmup_s > 0:
        load.run(request, concurrency, settings.warmup_s)
    cpu_before = proc.tree_cpu_seconds(server.pid)
    result = load.run(request, concurrency, settings.duration_s)
    cpu = proc.tree_cpu_seconds(server.pid) - cpu_before
    targets.check_alive(server)
    run_.runs[concurrency] = result
    if result.requests:
        run_.cpu_us[concurrency] = cpu / result.requests * 1e6
    flags = f"  non-2xx {result.non_2xx}" if result.non_2xx else ""
    flags += f"  socket errors {result.socket_errors}" if result.socket_errors else ""
    _say(
        f"{run_.key}  {run_.name:<15} c={concurrency:<3} {result.requests_per_s:9.1f} req/s  p50 {result.p50_ms:8.2f} "
        f"ms  p99 {result.p99_ms:8.2f} ms{flags}"
    )


def _judge(results: HttpResults) -> None:
    a, b, c = (results.target(key) for key in "abc")
    for concurrency in results.settings.concurrencies:
        a2 = results.target("a2")
        results.ratios[concurrency] = {
            "a/b": _ratio(a, b, concurrency),
            "a/c": _ratio(a, c, concurrency),
            "a2/b": _ratio(a2, b, concurrency),
            "a2/c": _ratio(a2, c, concurrency),
            "r/rc": _ratio(results.target("r"), results.target("rc"), concurrency),
            "e/ec": _ratio(results.target("e"), results.target("ec"), concurrency),
            "h/c": _ratio(results.target("h"), c, concurrency),
            "h/b": _ratio(results.target("h"), b, concurrency),
            "a2/h": _ratio(a2, results.target("h"), concurrency),
            "hr/rc": _ratio(results.target("hr"), results.target("rc"), concurrency),
            "r/hr": _ratio(results.target("r"), results.target("hr"), concurrency),
        }
        results.cpu_ratios[concurrency] = {
            f"{top}/{bottom}": _cpu_ratio(results.target(top), results.target(bottom), concurrency)
            for top, bottom in (
                ("a", "c"),
                ("a2", "c"),
                ("r", "rc"),
                ("e", "ec"),
                ("a2", "b"),
                ("h", "c"),
                ("a2", "h"),
                ("r", "hr"),
            )
        }
    results.verdicts.append(_ratio_verdict(results, "a/b", TARGET_AB))
    results.verdicts.append(_ratio_verdict(results, "a/c", TARGET_AC))
    p99 = a.runs.get(P99_CONCURRENCY)
    if p99 is None:
        results.verdicts.append(
            Verdict(f"a p99 at c={P99_CONCURRENCY}", f"< {TARGET_P99_MS:g} ms", "not measured", None)
        )
    else:
        results.verdicts.append(
            Verdict(
                f"a p99 at c={P99_CONCURRENCY}",
                f"< {TARGET_P99_MS:g} ms",
                f"{p99.p99_ms:.2f} ms",
                p99.p99_ms < TARGET_P99_MS,
            )
        )
    for name, wanted, floor in (("a2/b", TARGET_A2B, "h/b"), ("a2/c", TARGET_A2C, "h/c")):
        verdict = _ratio_verdict(results, name, wanted, at=P99_CONCURRENCY)
        verdict.floor = _ratio_verdict(results, floor, wanted, at=P99_CONCURRENCY).measured
        results.verdicts.append(verdict)
    results.verdicts.append(_p99_verdict(results.target("a2"), "a2"))
    results.verdicts[-1].floor = _p99_verdict(results.target("h"), "h").measured
    for name, floor in (("r/rc", "hr/rc"), ("e/ec", "")):
        verdict = _ratio_verdict(results, name, TARGET_OTHER_OF_BARE, at=P99_CONCURRENCY)
        verdict.floor = (
            _ratio_verdict(results, floor, TARGET_OTHER_OF_BARE, at=P99_CONCURRENCY).measured if floor else ""
        )
        results.verdicts.append(verdict)


def _p99_verdict(run: TargetRun, key: str) -> Verdict:
    measured = run.runs.get(P99_CONCURRENCY)
    return Verdict(
        f"{key} p99 at c={P99_CONCURRENCY}",
        f"< {TARGET_P99_MS:g} ms",
        f"{measured.p99_ms:.2f} ms" if measured else "not measured",
        measured.p99_ms < TARGET_P99_MS if measured else None,
    )


def _cpu_ratio(top: TargetRun, bottom: TargetRun, concurrency: int) -> float | None:
    """``bottom``'s server CPU per answer over ``top``'s: the req/s ratio of the two with a core each."""
    high, low = top.cpu_us.get(concurrency), bottom.cpu_us.get(concurrency)
    if not high or not low:
        return None
    return low / high


def _ratio(top: TargetRun, bottom: TargetRun, concurrency: int) -> float | None:
    high, low = top.runs.get(concurrency), bottom.runs.get(concurrency)
    if high is None or low is None or low.requests_per_s <= 0:
        return None
    return high.requests_per_s / low.requests_per_s


def _ratio_verdict(results: HttpResults, name: str, wanted: float, at: int | None = None) -> Verdict:
    """``name`` >= ``wanted`` at every concurrency, or only at concurrency ``at``."""
    measured: dict[int, float] = {
        c: value
        for c, ratios in results.ratios.items()
        if (value := ratios[name]) is not None and (at is None or c == at)
    }
    where = "at every concurrency" if at is None else f"at c={at}"
    if not measured:
        return Verdict(name, f">= {wanted:g} {where}", "not measured", None)
    text = ", ".join(f"c={c}: {value:.2f}" for c, value in measured.items())
    return Verdict(name, f">= {wanted:g} {where}", text, all(value >= wanted for value in measured.values()))


def _say(line: str) -> None:
    print(f"[http {time.strftime('%H:%M:%S')}] {line}", flush=True)


def profile(duration_s: float, concurrency: int = P99_CONCURRENCY) -> hotspots.Hotspots:
    """apitwin alone under wrk at ``concurrency`` with a new prompt per request (the answer cache meets its
    targets; answers made anew are what to look into), sampled by py-spy for ``duration_s``."""
    tools.py_spy()
    with targets.running("apitwin", lambda port: targets.apitwin_command(API, port), "/_apitwin/apis") as apitwin:
        request = request_to(apitwin, vary=True)
        load.run(request, concurrency, 2.0)  # warm-up
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            driving = pool.submit(load.run, request, concurrency, duration_s + 2.0)
            time.sleep(1.0)
            collapsed = hotspots.record(apitwin.pid, duration_s)
            result = driving.result()
    found = hotspots.aggregate(collapsed, f"`apitwin serve {API}`, POST {PATH}, a new prompt per request")
    found.load = f"wrk -t1 -c{concurrency}: {result.requests_per_s:.0f} req/s, p99 {result.p99_ms:.1f} ms while sampled"
    return found
