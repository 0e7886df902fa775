"""``python -m bench memory`` — issue 15: the server's RSS stays flat over a long mixed run.

``apitwin serve`` (the six shipped APIs, one worker, SQLite state in a scratch directory, as a user runs it)
gets ``--concurrency`` clients (default 16, the http benchmark's) for ``--duration`` seconds (default 600), each
looping over a mix: chat completions with a new prompt, streamed chat completions read to ``[DONE]``, Responses
stored and then chained with ``previous_response_id``, an async job created and polled, embeddings of 8 inputs.
The server's VmRSS is sampled every ``--sample`` seconds (default 5).

Bounded structures (the request journal keeps 10,000 exchanges, the answer cache 2,048 answers) fill during the
first minutes — at c=16 on a loaded 2-core host the journal is full after about two — so the baseline is the RSS at
the end of a warm-up (a fifth of the run, at most 120 s). Verdict: **flat** when every later sample stays within
10 % of that baseline. The growth over the second half of the run is shown beside it, so a slow creep is visible
even when it stays inside the 10 %.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from bench import machine, proc, reliability, targets

FLAT_WITHIN = 0.10
KINDS = ("chat", "chat stream", "responses stored + chained", "job create + poll", "embeddings")


@dataclass(slots=True)
class Settings:
    duration_s: float = 600.0
    concurrency: int = 16
    sample_s: float = 5.0

    @property
    def warmup_s(self) -> float:
        return min(120.0, self.duration_s / 5)


@dataclass(slots=True)
class Counts:
    requests: int = 0
    server_errors: int = 0
    client_errors: int = 0
    transport_errors: int = 0
    incomplete_streams: int = 0


@dataclass(slots=True)
class MemoryResults:
    machine: dict[str, Any]
    settings: Settings
    samples: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since traffic began, RSS MiB); the first is taken before any traffic."""
    counts: dict[str, Counts] = field(default_factory=lambda: {kind: Counts() for kind in KINDS})
    seconds: float = 0.0

    def baseline_mib(self) -> float:
        """RSS at the end of the warm-up: the last sample taken at or before it."""
        warm = [rss for at, rss in self.samples if at <= self.settings.warmup_s]
        return warm[-1] if warm else self.samples[0][1]

    def after_warmup(self) -> list[float]:
        return [rss for at, rss in self.samples if at > self.settings.warmup_s]

    def summary(self) -> dict[str, Any]:
        later = self.after_warmup() or [self.samples[-1][1]]
        baseline = self.baseline_mib()
        low, high = min(later), max(later)
        middle = next((rss for at, rss in self.samples if at >= self.samples[-1][0] / 2), self.samples[-1][1])
        return {
            "start MiB": self.samples[0][1],
            "after warm-up MiB": baseline,
            "peak MiB": max(rss for _, rss in self.samples),
            "end MiB": self.samples[-1][1],
            "lowest after warm-up MiB": low,
            "highest after warm-up MiB": high,
            "end vs warm-up %": 100 * (self.samples[-1][1] - baseline) / baseline,
            "second half %": 100 * (self.samples[-1][1] - middle) / middle,
            "flat": high <= baseline * (1 + FLAT_WITHIN) and low >= baseline * (1 - FLAT_WITHIN),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "settings": {**asdict(self.settings), "warmup_s": self.settings.warmup_s},
            "summary": self.summary(),
            "counts": {kind: asdict(counts) for kind, counts in self.counts.items()},
            "samples": [{"seconds": at, "rss_mib": rss} for at, rss in self.samples],
            "seconds": self.seconds,
        }


def run(settings: Settings) -> MemoryResults:
    results = MemoryResults(machine.describe(), settings)
    with _scratch() as scratch, reliability.serve(["--state", f"sqlite:///{scratch}/state.db"]) as server:
        asyncio.run(_drive(server, settings, results))
    return results


@contextlib.contextmanager
def _scratch() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as name:
        yield name


async def _drive(server: targets.Server, settings: Settings, results: MemoryResults) -> None:
    started = time.monotonic()
    until = started + settings.duration_s
    results.samples.append((0.0, proc.rss_kib(server.pid) / 1024))

    async def sample() -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(settings.sample_s, max(0.0, until - time.monotonic())))
            targets.check_alive(server)
            results.samples.append((round(time.monotonic() - started, 1), proc.rss_kib(server.pid) / 1024))

    limits = httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency)
    async with httpx.AsyncClient(timeout=60, headers=reliability.AUTH, limits=limits) as client:
        clients = [
            _client(client, server.base_url, until, results, random.Random(index))
            for index in range(settings.concurrency)
        ]
        await asyncio.gather(sample(), *clients)
    results.seconds = time.monotonic() - started


async def _client(
    client: httpx.AsyncClient, base: str, until: float, results: MemoryResults, rng: random.Random
) -> None:
    while time.monotonic() < until:
        kind = KINDS[rng.randrange(len(KINDS))]
        counts = results.counts[kind]
        try:
            statuses = await _one(client, base, kind, f"memory {rng.random()}", counts)
        except httpx.HTTPError:
            counts.transport_errors += 1
            continue
        counts.requests += len(statuses)
        counts.server_errors += sum(status >= 500 for status in statuses)
        counts.client_errors += sum(400 <= status < 500 for status in statuses)


async def _one(client: httpx.AsyncClient, base: str, kind: str, prompt: str, counts: Counts) -> list[int]:
    messages = [{"role": "user", "content": prompt}]
    if kind == "chat":
        answer = await client.post(
            f"{base}/aimlapi/v1/chat/completions", json={"model": "gpt-4o", "messages": messages}
        )
        return [answer.status_code]
    if kind == "chat stream":
        body = {"model": "m", "messages": messages, "stream": True}
        async with client.stream("POST", f"{base}/lmdeploy/v1/chat/completions", json=body) as answer:
            text = (await answer.aread()).decode(errors="replace")
        counts.incomplete_streams += answer.status_code == 200 and "data: [DONE]" not in text
        return [answer.status_code]
    if kind == "responses stored + chained":
        first = await client.post(
            f"{base}/openresponses/responses", json={"model": "gpt-4o", "input": prompt, "store": True}
        )
        chained = {
            "model": "gpt-4o",
            "input": "and then?",
            "store": True,
            "previous_response_id": first.json().get("id"),
        }
        second = await client.post(f"{base}/openresponses/responses", json=chained)
        return [first.status_code, second.status_code]
    if kind == "job create + poll":
        video = {"model": "klingai/avatar-pro", "image_url": "https://e.com/f.png", "audio_url": "https://e.com/a.mp3"}
        job = await client.post(f"{base}/aimlapi/v2/video/generations", json={**video, "prompt": prompt})
        poll = await client.get(f"{base}/aimlapi/v2/video/generations", params={"generation_id": job.json().get("id")})
        return [job.status_code, poll.status_code]
    embed = await client.post(f"{base}/lmdeploy/v1/embeddings", json={"model": "m", "input": [prompt] * 8})
    return [embed.status_code]


def markdown(results: MemoryResults) -> str:
    info, settings, summary = results.machine, results.settings, results.summary()
    verdict = "**flat**" if summary["flat"] else "**not flat**"
    lines = [
        "# Memory over a long mixed run (issue 15)",
        "",
        f"`apitwin serve` (six shipped APIs, one worker, SQLite state), {settings.concurrency} concurrent clients for "
        f"{results.seconds:.0f} s: chat, chat streams, stored and chained Responses, async jobs created and polled, "
        f"embeddings. VmRSS every {settings.sample_s:g} s; the baseline is the RSS after a {settings.warmup_s:g} s "
        "warm-up (the request journal and the answer cache fill to their bounds first); second half: the growth from "
        "the middle of the run to its end.",
        f"Machine: {info['cpus']} × {info['cpu_model']}, load average at start {info['load_average_at_start']} "
        f"(shared with other work); Python {info['python']}; {info['date']}.",
        "",
        "| start MiB | after warm-up MiB | peak MiB | end MiB | end vs warm-up | second half | later samples within "
        "10 % |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
        f"| {summary['start MiB']:.0f} | {summary['after warm-up MiB']:.0f} | {summary['peak MiB']:.0f} | "
        f"{summary['end MiB']:.0f} | {summary['end vs warm-up %']:+.1f} % | {summary['second half %']:+.1f} % | "
        f"{verdict} ({summary['lowest after warm-up MiB']:.0f}–{summary['highest after warm-up MiB']:.0f}) |",
        "",
        "| traffic | requests | 5xx | 4xx | transport errors | streams without [DONE] |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, counts in results.counts.items():
        lines.append(
            f"| {kind} | {counts.requests:,} | {counts.server_errors} | {counts.client_errors} | "
            f"{counts.transport_errors} | {counts.incomplete_streams} |"
        )
    lines += ["", "RSS over the run (one sample a minute, or ten over a short run):", ""]
    lines += ["| seconds | RSS MiB |", "| ---: | ---: |"]
    lines += [f"| {at:.0f} | {rss:.1f} |" for at, rss in _thinned(results.samples, settings)]
    return "\n".join(lines) + "\n"


def _thinned(samples: list[tuple[float, float]], settings: Settings) -> list[tuple[float, float]]:
    step = 60.0 if settings.duration_s >= 600 else max(settings.sample_s, settings.duration_s / 10)
    shown, next_at = [], 0.0
    for at, rss in samples:
        if at >= next_at:
            shown.append((at, rss))
            next_at = at + step
    if samples and shown[-1] != samples[-1]:
        shown.append(samples[-1])
    return shown
