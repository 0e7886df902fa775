"""``python -m bench proxy`` — issue 13, point 5: what ``apitwin proxy`` adds in front of an apitwin upstream.

One ``apitwin serve lmdeploy`` (one worker) and one ``apitwin proxy lmdeploy --upstream <it>`` run side by side;
for each kind of request (a chat completion, a chat stream) and each concurrency, the same load goes to the
upstream directly and then through the proxy (a warm-up, then the measured run), from
:mod:`bench.keepalive`'s client over kept-alive connections. Reported: rate, latency p50/p99, first event p50
of streams, what the proxy adds (proxied minus direct), the ratio of rates, and CPU milliseconds per exchange of
each process (from ``/proc``: the cost that does not depend on how busy the shared machine is). Stream requests
ask the mock for pacing (``ttft=0,tps=10000``) so each event is its own write, as a streaming gateway sends it;
unpaced, the mock writes a whole chat stream in one piece. The proxy judges every exchange as it does in use; a
healthy upstream must leave it with no findings, and the table says how many it printed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench import hotspots, keepalive, machine, proc, report, targets

API = "lmdeploy"
PATH = "/v1/chat/completions"
CHAT = {"model": "internlm2", "messages": [{"role": "user", "content": "Hello"}]}
KINDS: dict[str, dict[str, Any]] = {"chat": CHAT, "stream": {**CHAT, "stream": True}}
HEADERS = (("Authorization", "Bearer k"), ("Content-Type", "application/json"))
PACED = ("X-Apitwin-Pacing", "ttft=0,tps=10000")
TARGET_ADDED_MS = 2.0
TARGET_CONCURRENCY = 16


@dataclass(slots=True)
class Settings:
    duration_s: float = 10.0
    warmup_s: float = 2.0
    concurrencies: tuple[int, ...] = (1, 16)
    rounds: int = 5
    """Direct and proxied runs alternate this many times, each ``duration_s / rounds`` long, so the other work on
    the shared machine (which comes and goes) weighs on both sides alike."""
    spaced_ms: float = 20.0
    """Also one connection with this pause between requests (0: not measured), so nothing queues anywhere."""


@dataclass(slots=True)
class Side:
    """One measured run against one target: the load and the CPU each process spent on it."""

    load: keepalive.Load
    upstream_cpu_s: float
    proxy_cpu_s: float

    def joined(self, later: Side) -> Side:
        """This run and ``later``, as one."""
        return Side(
            self.load.joined(later.load),
            self.upstream_cpu_s + later.upstream_cpu_s,
            self.proxy_cpu_s + later.proxy_cpu_s,
        )

    def cpu_ms_per_exchange(self, seconds: float) -> float | None:
        answers = len(self.load.answers)
        return round(seconds * 1000 / answers, 3) if answers else None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.load.as_json(),
            "upstream_cpu_ms_per_exchange": self.cpu_ms_per_exchange(self.upstream_cpu_s),
            "proxy_cpu_ms_per_exchange": self.cpu_ms_per_exchange(self.proxy_cpu_s),
        }


@dataclass(slots=True)
class Row:
    kind: str
    concurrency: int
    direct: Side
    proxied: Side
    spacing_ms: float = 0.0

    @property
    def load_label(self) -> str:
        return f"{self.concurrency}, {self.spacing_ms:g} ms apart" if self.spacing_ms else str(self.concurrency)

    def added(self, q: float, first_event: bool = False) -> float | None:
        direct = self.direct.load.percentile(q, first_event)
        proxied = self.proxied.load.percentile(q, first_event)
        return None if direct is None or proxied is None else round(proxied - direct, 3)

    @property
    def rate_ratio(self) -> float | None:
        return round(self.proxied.load.rate / self.direct.load.rate, 3) if self.direct.load.rate else None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "concurrency": self.concurrency,
            "spacing_ms": self.spacing_ms,
            "direct": self.direct.as_json(),
            "proxied": self.proxied.as_json(),
            "added_p50_ms": self.added(0.5),
            "added_p99_ms": self.added(0.99),
            "added_first_event_p50_ms": self.added(0.5, first_event=True),
            "rate_ratio": self.rate_ratio,
        }


@dataclass(slots=True)
class ProxyResults:
    settings: Settings
    machine: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    proxy_findings: int = 0
    profiles: dict[str, hotspots.Hotspots] = field(default_factory=dict)
    """Where the proxy's CPU went under each kind of load at the target concurrency (when a target was missed)."""

    @property
    def missed(self) -> bool:
        return any(met is False for _, _, met in self.verdicts())

    def verdicts(self) -> list[tuple[str, float | None, bool | None]]:
        """(what, measured ms, met) at the target concurrency."""
        found = []
        for row in self.rows:
            if row.concurrency != TARGET_CONCURRENCY or row.spacing_ms:
                continue
            measured = row.added(0.5, first_event=row.kind == "stream")
            label = f"{row.kind}: {'first event' if row.kind == 'stream' else 'p50'} added at c={row.concurrency}"
            found.append((label, measured, None if measured is None else measured < TARGET_ADDED_MS))
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "api": API,
            "path": PATH,
            "requests": KINDS,
            "stream_pacing": PACED[1],
            "settings": {
                "duration_s": self.settings.duration_s,
                "warmup_s": self.settings.warmup_s,
                "concurrencies": list(self.settings.concurrencies),
                "spaced_ms": self.settings.spaced_ms,
                "rounds": self.settings.rounds,
            },
            "machine": self.machine,
            "rows": [row.as_json() for row in self.rows],
            "proxy_findings": self.proxy_findings,
            "verdicts": [
                {"name": name, "target_ms": TARGET_ADDED_MS, "measured_ms": measured, "met": met}
                for name, measured, met in self.verdicts()
            ],
        }


def proxy_command(upstream: str, port: int) -> list[str]:
    return [sys.executable, "-m", "apitwin", "proxy", API, "--upstream", upstream, "--host", targets.HOST,
            "--port", str(port)]  # fmt: skip


def run(settings: Settings, profile: bool = True) -> ProxyResults:
    results = ProxyResults(settings, machine.describe())
    with contextlib.ExitStack() as stack:
        upstream = stack.enter_context(
            targets.running("apitwin", lambda port: targets.apitwin_command(API, port), "/_apitwin/apis")
        )
        proxy = stack.enter_context(
            targets.running("apitwin proxy", lambda port: proxy_command(upstream.base_url, port), "/_apitwin/apis")
        )
        _say(f"upstream {upstream.base_url}, proxy {proxy.base_url} started in {proxy.started_in:.1f} s")
        for kind, body in KINDS.items():
            headers = (*HEADERS, PACED) if body.get("stream") else HEADERS
            payload = json.dumps(body, separators=(",", ":")).encode()
            loads = [(concurrency, 0.0) for concurrency in settings.concurrencies]
            loads += [(1, settings.spaced_ms)] if settings.spaced_ms else []
            for concurrency, spacing_ms in loads:
                direct, proxied = _measure(upstream, proxy, payload, headers, concurrency, settings, spacing_ms / 1000)
                row = Row(kind, concurrency, direct, proxied, spacing_ms)
                results.rows.append(row)
                _say(
                    f"{kind:6} c={row.load_label:<3} direct p50 {_ms(row.direct.load.percentile(0.5))} ms, proxied p50 "
                    f"{_ms(row.proxied.load.percentile(0.5))} ms, added {_ms(row.added(0.5))} ms "
                    f"(first event {_ms(row.added(0.5, first_event=True))} ms)"
                )
            targets.check_alive(proxy)
        if profile and results.missed:
            for kind, body in KINDS.items():
                results.profiles[kind] = _profile(proxy, kind, body, settings.duration_s)
        results.proxy_findings = sum(
            1 for line in proxy.log_tail(100_000).splitlines() if line.startswith("apitwin proxy: #")
        )
    return results


def _measure(
    upstream: targets.Server,
    proxy: targets.Server,
    payload: bytes,
    headers: tuple[tuple[str, str], ...],
    concurrency: int,
    settings: Settings,
    spacing_s: float = 0.0,
) -> tuple[Side, Side]:
    """The same load directly and through the proxy, in alternating rounds after a warm-up of each."""
    requests = {
        server.port: keepalive.request_bytes(targets.HOST, server.port, PATH, payload, headers)
        for server in (upstream, proxy)
    }
    for server in (upstream, proxy):
        asyncio.run(
            keepalive.load(targets.HOST, server.port, requests[server.port], concurrency, settings.warmup_s, spacing_s)
        )
    rounds = max(settings.rounds, 1)
    seconds = settings.duration_s / rounds
    sides: dict[int, Side] = {}
    for _ in range(rounds):
        for server in (upstream, proxy):
            cpu = (proc.cpu_seconds(upstream.pid), proc.cpu_seconds(proxy.pid))
            request = requests[server.port]
            load = asyncio.run(keepalive.load(targets.HOST, server.port, request, concurrency, seconds, spacing_s))
            side = Side(load, proc.cpu_seconds(upstream.pid) - cpu[0], proc.cpu_seconds(proxy.pid) - cpu[1])
            sides[server.port] = sides[server.port].joined(side) if server.port in sides else side
    return sides[upstream.port], sides[proxy.port]


def _profile(proxy: targets.Server, kind: str, body: dict[str, Any], seconds: float) -> hotspots.Hotspots:
    """The proxy sampled by py-spy while it carries ``kind`` requests at the target concurrency."""
    _say(f"sampling the proxy with py-spy under {kind} requests at c={TARGET_CONCURRENCY}")
    headers = (*HEADERS, PACED) if body.get("stream") else HEADERS
    payload = json.dumps(body, separators=(",", ":")).encode()
    request = keepalive.request_bytes(targets.HOST, proxy.port, PATH, payload, headers)
    driving = keepalive.load(targets.HOST, proxy.port, request, TARGET_CONCURRENCY, seconds + 2.0)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(asyncio.run, driving)
        time.sleep(1.0)
        collapsed = hotspots.record(proxy.pid, seconds)
        loaded = future.result()
    found = hotspots.aggregate(collapsed, f"`apitwin proxy {API}`, {kind} requests through it")
    found.load = f"{TARGET_CONCURRENCY} connections: {loaded.rate:.0f} req/s while sampled"
    return found


def profile_markdown(results: ProxyResults) -> str:
    return "\n".join(report.hotspots_markdown(found) for found in results.profiles.values())


def markdown(results: ProxyResults) -> str:
    machine_ = results.machine
    lines = [
        "# apitwin proxy: what it adds in front of an apitwin upstream",
        "",
        f'`POST {PATH}` of `{API}` (`{json.dumps(CHAT)}`; streams with `"stream": true` and '
        f"`X-Apitwin-Pacing: {PACED[1]}`, so each event is its own write), sent directly to `apitwin serve {API}` "
        f"(1 worker) and through `apitwin proxy {API}`, by one client over kept-alive connections, "
        f"{results.settings.duration_s:g} s each after a {results.settings.warmup_s:g} s warm-up, in "
        f"{results.settings.rounds} alternating rounds (so the shared machine's other work weighs on both). The rows "
        f"'1, N ms apart' pause between requests, so no process waits for another: what the extra hop itself costs.",
        f"Machine: {machine_['cpus']} × {machine_['cpu_model']}, load average at start "
        f"{machine_['load_average_at_start']}; client, upstream and proxy share these cores (absolute numbers are "
        f"noisy, ratios and CPU per exchange count); Python {machine_['python']}; {machine_['date']}.",
        f"Findings the proxy printed on this healthy upstream: {results.proxy_findings}.",
        "",
        "| kind | c | target | req/s | p50 ms | p99 ms | first event p50 ms | upstream CPU ms/exchange | "
        "proxy CPU ms/exchange |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results.rows:
        for name, side in (("direct", row.direct), ("through the proxy", row.proxied)):
            data = side.as_json()
            lines.append(
                f"| {row.kind} | {row.load_label} | {name} | {data['req_per_s']} | {_ms(data['p50_ms'])} | "
                f"{_ms(data['p99_ms'])} | {_ms(data['first_event_p50_ms'])} | "
                f"{_ms(data['upstream_cpu_ms_per_exchange'])} | {_ms(data['proxy_cpu_ms_per_exchange'])} |"
            )
    lines += [
        "",
        "## What the proxy adds (proxied minus direct)",
        "",
        "| kind | c | p50 added ms | p99 added ms | first event p50 added ms | rate through the proxy / direct |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results.rows:
        lines.append(
            f"| {row.kind} | {row.load_label} | {_ms(row.added(0.5))} | {_ms(row.added(0.99))} | "
            f"{_ms(row.added(0.5, first_event=True))} | {row.rate_ratio if row.rate_ratio is not None else '–'} |"
        )
    lines += ["", f"## Targets (issue 13: < {TARGET_ADDED_MS:g} ms added at c={TARGET_CONCURRENCY})", ""]
    for name, measured, met in results.verdicts():
        verdict = "not measured" if met is None else "met" if met else "MISSED"
        lines.append(f"- {name}: {_ms(measured)} ms — {verdict}")
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _say(line: str) -> None:
    print(f"[proxy] {line}", flush=True)
