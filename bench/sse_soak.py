"""Issue 4's soak: 1,000 concurrent event streams against one worker of ``apitwin serve``; issue 15's
targets on the same rounds (server CPU per stream, first event under 1 s at p50), and the same rounds
on ``--workers 2`` to show how it scales.

The client is plain asyncio sockets (an HTTP/1.1 request with ``Connection: close``, read to
the end), so it costs little CPU next to the server and measures the first event as the
bytes arrive. Whatever the number of events per stream, a stream counts as completed when
it answered 200, ended cleanly, every event but the terminator was JSON, and the last event
was ``data: [DONE]``.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from apitwin.specs.sse_wire import DONE, parse_block, split
from bench import hotspots, machine, proc, targets, tools

API = "lmdeploy"
PATH = "/v1/chat/completions"
MODEL = "internlm"
TARGET_FIRST_EVENT_MS = 5.0
TARGET_CPU_PER_STREAM_MS = 1.0
"""Issue 15: server CPU per chat stream (of ~30 events), and the first event of 1,000 streams started at once."""
TARGET_LOADED_P50_MS = 1000.0
TARGET_LOADED_P99_MS = 2000.0
BOUNDED_GROWTH = 1.10  # a later round may peak at most 10 % above the first one
JOURNAL_BYTES = 8 * 1024 * 1024
"""The server's ``--journal-max-bytes``: less than one round's streams take (~9 KB each with their events), so the
journal is full after round 1 and a later round's growth is what the server keeps beyond what it was told to;
at the default (64 MiB) the journal would still be filling in round 3, and its growth would say nothing."""
STREAM_TIMEOUT_S = 120.0


@dataclass(slots=True)
class Settings:
    streams: int = 1000
    rounds: int = 3
    unloaded_streams: int = 50
    scaling_workers: int = 2
    """After the one-worker rounds, the same rounds on a server with this many workers (below 2: none)."""


@dataclass(slots=True)
class StreamResult:
    status: int = 0
    headers_ms: float | None = None
    first_event_ms: float | None = None
    total_ms: float = 0.0
    events: int = 0
    done: bool = False
    error: str = ""

    @property
    def completed(self) -> bool:
        return self.status == 200 and self.done and not self.error


@dataclass(slots=True)
class Distribution:
    count: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    @classmethod
    def of(cls, values: list[float]) -> Distribution:
        if not values:
            return cls(0, None, None, None)
        ordered = sorted(values)
        return cls(
            len(ordered), round(_quantile(ordered, 0.50), 2), round(_quantile(ordered, 0.99), 2), round(ordered[-1], 2)
        )


@dataclass(slots=True)
class Round:
    streams: int
    completed: int
    errors: dict[str, int]
    events_per_stream: dict[str, Any]
    first_event: Distribution
    headers: Distribution
    stream_total: Distribution
    wall_s: float
    rss_before_kib: int
    rss_peak_kib: int
    rss_after_kib: int
    server_cpu_s: float
    client_cpu_s: float
    workers: int = 1

    @property
    def cpu_per_stream_ms(self) -> float:
        return self.server_cpu_s / self.streams * 1e3 if self.streams else 0.0

    @property
    def server_busy(self) -> float:
        return self.server_cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def client_busy(self) -> float:
        return self.client_cpu_s / self.wall_s if self.wall_s else 0.0


@dataclass(slots=True)
class SoakResults:
    settings: Settings
    machine: dict[str, Any]
    command: str
    unloaded_first_event: Distribution
    rounds: list[Round] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    scaling: list[Round] = field(default_factory=list)
    """The same rounds on ``settings.scaling_workers`` workers."""

    def as_json(self) -> dict[str, Any]:
        return {
            "settings": asdict(self.settings),
            "machine": self.machine,
            "command": self.command,
            "unloaded_first_event": asdict(self.unloaded_first_event),
            "rounds": [_round_json(r) for r in self.rounds],
            "scaling": [_round_json(r) for r in self.scaling],
            "verdicts": self.verdicts,
        }


def _round_json(r: Round) -> dict[str, Any]:
    return {
        **asdict(r),
        "server_busy": round(r.server_busy, 3),
        "client_busy": round(r.client_busy, 3),
        "cpu_per_stream_ms": round(r.cpu_per_stream_ms, 3),
    }


def run(settings: Settings, profile: bool = True) -> tuple[SoakResults, hotspots.Hotspots | None]:
    """The soak; then, when a first-event target is missed and ``profile``, one more round under py-spy."""
    _raise_file_limit(settings.streams)
    found = None
    with targets.running("apitwin-sse", lambda port: _command(port, 1, settings), "/_apitwin/apis") as server:
        _say(
            f"apitwin serve {API} started in {server.started_in:.1f} s (pid {server.pid}); RSS "
            f"{proc.rss_kib(server.pid) / 1024:.1f} MiB"
        )
        results = asyncio.run(_soak(server, settings))
        _judge(results)
        if profile and any(v["met"] is False and "first event" in v["name"] for v in results.verdicts):
            found = asyncio.run(_profile(server, settings.streams))
    if settings.scaling_workers > 1:
        workers = settings.scaling_workers
        with targets.running(
            "apitwin-sse-workers", lambda port: _command(port, workers, settings), "/_apitwin/apis"
        ) as server:
            _say(f"apitwin serve {API} --workers {workers} started in {server.started_in:.1f} s")
            results.scaling = asyncio.run(_rounds(server, settings, workers))
    return results, found


def _command(port: int, workers: int, settings: Settings) -> list[str]:
    """``apitwin serve`` with room for every stream: ``--max-connections`` (default 1,000, counting the one asking)
    would turn the last streams of a round, and those arriving while the last round's sockets close, into 503s."""
    room = str(2 * settings.streams)
    return targets.apitwin_command(
        API, port, workers, "--max-connections", room, "--journal-max-bytes", str(JOURNAL_BYTES)
    )


async def _rounds(server: targets.Server, settings: Settings, workers: int) -> list[Round]:
    await stream(server.port, 0)  # every worker warms up on its first requests; the rounds show the rest
    found = []
    for number in range(1, settings.rounds + 1):
        round_ = await _round(server, settings.streams, workers)
        targets.check_alive(server)
        found.append(round_)
        _say(
            f"--workers {workers} round {number}: {round_.completed}/{round_.streams} completed in {round_.wall_s:.2f} "
            f"s; first event p50 {round_.first_event.p50_ms} ms p99 {round_.first_event.p99_ms} ms; server CPU "
            f"{round_.cpu_per_stream_ms:.2f} ms per stream"
        )
    return found


async def _profile(server: targets.Server, streams: int) -> hotspots.Hotspots:
    """One extra round (not counted) with py-spy sampling the worker while it serves."""
    tools.py_spy()
    _say(
        f"a first-event target was missed: sampling the worker with py-spy during one more round of {streams:,} streams"
    )
    seconds = 5.0
    sampling = asyncio.create_task(asyncio.to_thread(hotspots.record, server.pid, seconds))
    round_ = await _round(server, streams)
    collapsed = await sampling
    found = hotspots.aggregate(collapsed, f"`apitwin serve {API}`, {streams:,} concurrent streams of POST {PATH}")
    found.load = (
        f"the first {seconds:g} s of a round of {streams:,} streams ({round_.completed:,} completed in "
        f"{round_.wall_s:.1f} s)"
    )
    return found


async def _soak(server: targets.Server, settings: Settings) -> SoakResults:
    probe = await stream(server.port, 0)
    if not probe.completed:
        raise targets.TargetFailed(
            f"the first stream did not complete: status {probe.status}, {probe.events} events, done={probe.done}, "
            f"{probe.error or 'no error text'}"
        )
    _say(
        f"one stream: {probe.events} events, first after {probe.first_event_ms:.2f} ms, whole stream "
        f"{probe.total_ms:.2f} ms"
    )
    unloaded = [await stream(server.port, index) for index in range(1, settings.unloaded_streams + 1)]
    first_alone = Distribution.of([r.first_event_ms for r in unloaded if r.first_event_ms is not None])
    _say(
        f"{settings.unloaded_streams} streams one at a time: first event p50 {first_alone.p50_ms} ms, p99 "
        f"{first_alone.p99_ms} ms, max {first_alone.max_ms} ms"
    )
    results = SoakResults(
        settings,
        {**machine.describe(), "somaxconn": _somaxconn()},
        " ".join(_command(server.port, 1, settings)[1:]).replace(f"--port {server.port}", "--port P"),
        first_alone,
    )
    for number in range(1, settings.rounds + 1):
        round_ = await _round(server, settings.streams)
        targets.check_alive(server)
        results.rounds.append(round_)
        _say(
            f"round {number}: {round_.completed}/{round_.streams} completed in {round_.wall_s:.2f} s; first event p50 "
            f"{round_.first_event.p50_ms} ms "
            f"p99 {round_.first_event.p99_ms} ms max {round_.first_event.max_ms} ms; RSS "
            f"{round_.rss_before_kib / 1024:.1f} → peak "
            f"{round_.rss_peak_kib / 1024:.1f} → {round_.rss_after_kib / 1024:.1f} MiB; CPU server "
            f"{round_.server_busy:.0%} client {round_.client_busy:.0%} of wall"
        )
    return results


async def _round(server: targets.Server, streams: int, workers: int = 1) -> Round:
    """One round of ``streams`` started at once. With several workers, CPU and RSS are summed over the
    supervisor and its workers, and the peak is the larger of the sums before and after (not sampled)."""
    pid = server.pid
    before = proc.rss_kib(pid) if workers == 1 else proc.tree_rss_kib(pid)
    peak_reset = workers == 1 and proc.reset_peak(pid)
    server_cpu, client_cpu = proc.tree_cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    with proc.RssSampler(pid) as sampler:
        answers = await asyncio.gather(*(stream(server.port, index) for index in range(streams)))
    wall = time.perf_counter() - started
    server_cpu, client_cpu = proc.tree_cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
    if workers == 1:
        peak = max(sampler.peak_kib, proc.rss_kib(pid, "VmHWM") if peak_reset else 0)
    else:
        peak = max(before, proc.tree_rss_kib(pid))
    await asyncio.sleep(1.0)  # let closed connections be released before reading the resting size
    errors: dict[str, int] = {}
    for answer in answers:
        if not answer.completed:
            reason = answer.error or (f"status {answer.status}" if answer.status != 200 else "no [DONE]")
            errors[reason] = errors.get(reason, 0) + 1
    events = [a.events for a in answers if a.completed]
    return Round(
        streams=streams,
        completed=sum(a.completed for a in answers),
        errors=errors,
        events_per_stream={
            "min": min(events, default=0),
            "mean": round(statistics.fmean(events), 1) if events else 0,
            "max": max(events, default=0),
        },
        first_event=Distribution.of([a.first_event_ms for a in answers if a.first_event_ms is not None]),
        headers=Distribution.of([a.headers_ms for a in answers if a.headers_ms is not None]),
        stream_total=Distribution.of([a.total_ms for a in answers if a.completed]),
        wall_s=round(wall, 3),
        rss_before_kib=before,
        rss_peak_kib=peak,
        rss_after_kib=proc.rss_kib(pid) if workers == 1 else proc.tree_rss_kib(pid),
        server_cpu_s=round(server_cpu, 3),
        client_cpu_s=round(client_cpu, 3),
        workers=workers,
    )


async def stream(port: int, index: int, host: str = targets.HOST) -> StreamResult:
    """One streaming chat completion, timed from before the connection to the end of the stream."""
    result = StreamResult()
    started = time.perf_counter()
    try:
        await asyncio.wait_for(_exchange(host, port, index, started, result), STREAM_TIMEOUT_S)
    except TimeoutError:
        result.error = f"no end within {STREAM_TIMEOUT_S:g} s"
    except (OSError, asyncio.IncompleteReadError, ValueError) as problem:
        result.error = type(problem).__name__
    result.total_ms = (time.perf_counter() - started) * 1e3
    return result


def request_bytes(host: str, port: int, index: int) -> bytes:
    body = json.dumps(
        {"model": MODEL, "messages": [{"role": "user", "content": f"Hello, stream {index}"}], "stream": True}
    ).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nAccept: "
        f"text/event-stream\r\n"
        f"Authorization: Bearer k\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(host: str, port: int, index: int, started: float, result: StreamResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request_bytes(host, port, index))
        head = await reader.readuntil(b"\r\n\r\n")
        result.headers_ms = (time.perf_counter() - started) * 1e3
        result.status = int(head.split(b" ", 2)[1])
        chunked = b"transfer-encoding: chunked" in head.lower()
        raw = bytearray()
        while True:
            piece = await reader.read(65536)
            if not piece:
                break
            if result.first_event_ms is None and b"data:" in raw[-5:] + piece:
                result.first_event_ms = (time.perf_counter() - started) * 1e3
            raw += piece
    finally:
        writer.close()
    payload, ended = dechunk(bytes(raw)) if chunked else (bytes(raw), True)
    if not ended:
        result.error = "stream cut off before its last chunk"
        return
    _read_events(payload, result)


def dechunk(raw: bytes) -> tuple[bytes, bool]:
    """The body of a chunked transfer, and whether the terminating zero-size chunk arrived."""
    body, position = bytearray(), 0
    while True:
        line_end = raw.find(b"\r\n", position)
        if line_end < 0:
            return bytes(body), False
        size = int(raw[position:line_end].split(b";")[0], 16)
        if size == 0:
            return bytes(body), True
        start = line_end + 2
        body += raw[start : start + size]
        position = start + size + 2


def _read_events(payload: bytes, result: StreamResult) -> None:
    """Count the events; the last must be ``[DONE]``, every other one JSON."""
    blocks = [block.text for block in split(payload.decode("utf-8", "replace")) if block.text.strip()]
    for number, block in enumerate(blocks, start=1):
        parsed = parse_block(block)
        data = parsed[1] if parsed is not None else ""
        result.events += 1
        if data == DONE:
            result.done = number == len(blocks)
            continue
        try:
            json.loads(data)
        except ValueError:
            result.error = f"event {number} is not JSON"
            return


def _judge(results: SoakResults) -> None:
    rounds = results.rounds
    all_done = all(r.completed == r.streams for r in rounds)
    results.verdicts.append(
        {
            "name": "every stream completes",
            "wanted": f"{results.settings.streams} of {results.settings.streams}, every round",
            "measured": ", ".join(f"{r.completed}" for r in rounds),
            "met": all_done,
        }
    )
    alone = results.unloaded_first_event
    results.verdicts.append(
        {
            "name": "first event, one stream at a time",
            "wanted": f"p99 < {TARGET_FIRST_EVENT_MS:g} ms",
            "measured": f"p50 {alone.p50_ms} ms, p99 {alone.p99_ms} ms",
            "met": alone.p99_ms is not None and alone.p99_ms < TARGET_FIRST_EVENT_MS,
        }
    )
    loaded = [r.first_event.p50_ms for r in rounds if r.first_event.p50_ms is not None]
    results.verdicts.append(
        {
            "name": f"first event, {results.settings.streams} at once",
            "wanted": f"p50 < {TARGET_FIRST_EVENT_MS:g} ms",
            "measured": ", ".join(f"p50 {value} ms" for value in loaded),
            "met": bool(loaded) and max(loaded) < TARGET_FIRST_EVENT_MS,
        }
    )
    results.verdicts.append(
        {
            "name": "server CPU per stream (issue 15)",
            "wanted": f"<= {TARGET_CPU_PER_STREAM_MS:g} ms for streams of ~30 events, every round",
            "measured": ", ".join(
                f"{r.cpu_per_stream_ms:.2f} ms ({r.events_per_stream['mean']} events)" for r in rounds
            ),
            "met": bool(rounds) and all(r.cpu_per_stream_ms <= TARGET_CPU_PER_STREAM_MS for r in rounds),
        }
    )
    results.verdicts.append(
        {
            "name": f"first event, {results.settings.streams} at once (issue 15)",
            "wanted": f"p50 < {TARGET_LOADED_P50_MS / 1000:g} s and p99 < {TARGET_LOADED_P99_MS / 1000:g} s, every "
            f"round",
            "measured": ", ".join(f"p50 {r.first_event.p50_ms} / p99 {r.first_event.p99_ms} ms" for r in rounds),
            "met": bool(rounds)
            and all(
                r.first_event.p50_ms is not None
                and r.first_event.p99_ms is not None
                and r.first_event.p50_ms < TARGET_LOADED_P50_MS
                and r.first_event.p99_ms < TARGET_LOADED_P99_MS
                for r in rounds
            ),
        }
    )
    if rounds:
        first_peak, first_after = rounds[0].rss_peak_kib, rounds[0].rss_after_kib
        bounded = all(
            r.rss_peak_kib <= first_peak * BOUNDED_GROWTH and r.rss_after_kib <= first_after * BOUNDED_GROWTH
            for r in rounds[1:]
        )
        measured = ", ".join(
            f"peak {r.rss_peak_kib / 1024:.1f} / after {r.rss_after_kib / 1024:.1f} MiB" for r in rounds
        )
        results.verdicts.append(
            {
                "name": "memory bounded over rounds",
                "wanted": f"later rounds within {BOUNDED_GROWTH - 1:.0%} of round 1 (peak and after)",
                "measured": measured,
                "met": bounded,
            }
        )


def _raise_file_limit(streams: int) -> None:
    """Client and server each hold one socket per stream; servers inherit the raised limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = streams + 256
    if soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise targets.TargetFailed(
            f"{streams} streams need {wanted} open files, but the hard limit is {hard}; raise it (ulimit -Hn) and run "
            f"again"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _somaxconn() -> int | None:
    try:
        with open("/proc/sys/net/core/somaxconn") as value:
            return int(value.read())
    except (OSError, ValueError):
        return None


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile, the way load generators report percentiles."""
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def _say(line: str) -> None:
    print(f"[sse {time.strftime('%H:%M:%S')}] {line}", flush=True)
