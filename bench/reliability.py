"""``python -m bench reliability`` — issue 16: what `apitwin serve` holds under hostile input and long runs.

Four rows, each against a real server on loopback:

- **hostile battery**: every JSON operation of every shipped API gets bodies a parser accepts and a schema
  refuses (lone surrogates, wrong types, deep nesting, bad UTF-8, a million-item array), and raw connections
  misbehave (headers never finished, 1 MB and 10,000 headers, a body announced and never sent, a client leaving
  mid-body); meanwhile a probe in a process of its own (so that the battery's client work, which shares this
  process's interpreter, is not counted as the server's) asks ``GET /_apitwin/apis`` every 50 ms. Reported: 5xx
  answers (target 0), the longest a probe waited (target < 100 ms over its usual time) and the hostile request
  that was being answered then.
- **soak**: a mix of chat, stored-and-chained Responses, embeddings and async jobs from 8 clients for
  ``--soak`` seconds, into the battery's server with a 64 MB store; errors and RSS at start, middle and end.
- **state bound**: ``WARMUP`` Responses requests with ``store: false`` (the journal, the caches and the lazily
  compiled parts reach their size), then ``--objects`` stored ones over keep-alive connections into a server with
  ``--state memory --state-max-bytes``; the RSS growth of the stored phase (its largest sample and the end)
  against the bound, and whether the first stored object was evicted while the last one is kept.
- **kill -9**: jobs created on ``--workers 2`` with SQLite while one worker is killed with SIGKILL; every job
  that was answered must still be there (lost jobs, target 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from apitwin import specs
from bench import keepalive, proc, targets

KEY = "bench-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
PROBE_EVERY = 0.05
STATE_BOUND = 16 * 2**20
SOAK_STATE_BOUND = 64 * 2**20
"""The soak's store: full within its first half at the soak's pace, so that its second half shows whether anything
grows past the bounds (with the default 256 MB, ten minutes would only show the store filling)."""
WARMUP = 20_000
"""Unstored requests before the stored phase: twice the journal's 10,000 entries."""
CONNECTIONS = 8


@dataclass(slots=True)
class Row:
    name: str
    requests: int = 0
    server_errors: int = 0
    other_failures: int = 0
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


def serve(extra: list[str], apis: tuple[str, ...] = ()) -> Any:
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "apitwin", "serve", *apis, "--host", targets.HOST, "--port", str(port),
                "--api-key", KEY, *extra]  # fmt: skip

    return targets.running("apitwin", command, "/_apitwin/apis")


# ---------------------------------------------------------------- hostile battery

HOSTILE_BODIES: list[bytes] = [
    rb'{"model":"\ud800","messages":[]}',
    rb'{"model":"gpt-4o","input":"\udfff","messages":[{"role":"user","content":"\ud800"}]}',
    b'{"model": 1, "messages": "x", "input": {}, "n": -5, "max_tokens": "4111111111111111"}',
    b'{"model": "gpt-4o", "a": "\xff\xfe"}',
    b"[" * 5000 + b"]" * 5000,
    b"null",
    b'"just a string"',
    b"1e999",
    b'{"model": "gpt-4o", "input": ' + json.dumps([[1, 2]] * 100_000).encode() + b"}",
    b'{"model": "gpt-4o", "messages": [' + b",".join([b'{"role": "user", "content": 1}'] * 20_000) + b"]}",
]
MILLION = b'{"model": "m", "input": ' + json.dumps([[1, 2]] * 1_000_000).encode() + b"}"


def json_operations(api: str) -> list[tuple[str, str]]:
    document = specs.load(api)
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {}) if isinstance(operation, dict) else {}
            if any(media.endswith("json") for media in content):
                found.append((method.upper(), "/" + api + path.replace("{", "").replace("}", "")))
    return found


def _probe(base: str, stop: Any, results: Any) -> None:
    """In a process of its own: (start, wait) of each ``GET /_apitwin/apis``, in ``time.monotonic`` seconds
    (one clock for every process of the machine), sent to ``results`` once ``stop`` is set."""
    waits = []
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.monotonic()
            client.get(f"{base}/_apitwin/apis")
            waits.append((started, time.monotonic() - started))
            stop.wait(PROBE_EVERY)
    results.send(waits)


@dataclass(slots=True)
class Sent:
    """What the battery was sending when: (start, end, what) in ``time.monotonic`` seconds."""

    spans: list[tuple[float, float, str]] = field(default_factory=list)

    def during(self, started: float, ended: float) -> list[str]:
        return [what for begin, end, what in self.spans if begin < ended and end > started]


async def _raw(port: int, data: bytes, close: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection(targets.HOST, port)
    writer.write(data)
    await writer.drain()
    if close:
        writer.close()
        return b""
    try:
        return await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()


async def _battery(base: str, port: int) -> Row:
    row = Row("hostile battery")
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    receiving, sending = context.Pipe(duplex=False)
    probe = context.Process(target=_probe, args=(base, stop, sending), daemon=True)
    probe.start()
    await asyncio.sleep(1.0)  # the probe's interpreter starts
    sent = Sent()
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, headers={**AUTH, "Content-Type": "application/json"}) as client:

        async def hostile(method: str, url: str, body: bytes, what: str) -> None:
            begin = time.monotonic()
            answer = await client.request(method, url, content=body)
            sent.spans.append((begin, time.monotonic(), f"{what} → {answer.status_code}"))
            row.requests += 1
            row.server_errors += answer.status_code >= 500

        apis = list((await client.get(f"{base}/_apitwin/apis")).json())
        for api in apis:
            for method, path in json_operations(api):
                for index, body in enumerate(HOSTILE_BODIES):
                    await hostile(method, base + path, body, f"{method} {path} body {index}")
            first = json_operations(api)[0][1]
            await hostile("POST", base + first, MILLION, f"POST {first} a million arrays")
    attacks = [
        b"GET /_apitwin/apis HTTP/1.1\r\nHost: x\r\n",
        b"GET /_apitwin/apis HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
        b"GET /_apitwin/apis HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(10_000)) + b"\r\n",
        b"POST /lmdeploy/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    ]  # fmt: skip
    begin = time.monotonic()
    answers = await asyncio.gather(*(_raw(port, attack) for attack in attacks))
    sent.spans.append((begin, time.monotonic(), "raw connections"))
    row.requests += len(attacks)
    row.server_errors += sum(answer.startswith(b"HTTP/1.1 5") for answer in answers)
    row.notes["raw answers"] = [answer.split(b"\r\n", 1)[0].decode(errors="replace") for answer in answers]
    await _raw(port, b"POST /lmdeploy/v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 999\r\n\r\n{", close=True)
    row.seconds = time.perf_counter() - started
    stop.set()
    waits = receiving.recv()
    probe.join()
    usual = sorted(wait for _, wait in waits)[len(waits) // 2]
    longest_start, longest = max(waits, key=lambda item: item[1])
    row.notes["probe p50 ms"] = round(usual * 1000, 1)
    row.notes["probe max ms"] = round(longest * 1000, 1)
    row.notes["probe max over p50 ms"] = round((longest - usual) * 1000, 1)
    row.notes["probes"] = len(waits)
    row.notes["longest wait during"] = sent.during(longest_start, longest_start + longest)[:2] or ["nothing"]
    return row


# ---------------------------------------------------------------- soak


async def _soak_client(base: str, until: float, row: Row, rng: random.Random) -> None:
    async with httpx.AsyncClient(timeout=60, headers=AUTH) as client:
        while time.monotonic() < until:
            kind = rng.randrange(4)
            prompt = f"soak {rng.random()}"
            try:
                if kind == 0:
                    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]}
                    answers = [await client.post(f"{base}/aimlapi/v1/chat/completions", json=chat)]
                elif kind == 1:
                    first = await client.post(
                        f"{base}/openresponses/responses", json={"model": "gpt-4o", "input": prompt}
                    )
                    chained = {"model": "gpt-4o", "input": "more", "previous_response_id": first.json().get("id")}
                    answers = [first, await client.post(f"{base}/openresponses/responses", json=chained)]
                elif kind == 2:
                    embed = {"model": "m", "input": [prompt] * 8}
                    answers = [await client.post(f"{base}/lmdeploy/v1/embeddings", json=embed)]
                else:
                    video = {"model": "klingai/avatar-pro", "image_url": "https://e.com/f.png", "audio_url": prompt}
                    job = await client.post(f"{base}/aimlapi/v2/video/generations", json=video)
                    poll = {"generation_id": job.json().get("id")}
                    answers = [job, await client.get(f"{base}/aimlapi/v2/video/generations", params=poll)]
            except httpx.HTTPError:
                row.other_failures += 1
                continue
            row.requests += len(answers)
            row.server_errors += sum(answer.status_code >= 500 for answer in answers)
            row.other_failures += sum(400 <= answer.status_code < 500 for answer in answers)


async def _soak(server: targets.Server, seconds: float) -> Row:
    row = Row("soak")
    started = time.monotonic()
    until = started + seconds
    rss: dict[str, int] = {"start": proc.rss_kib(server.pid)}

    async def sample_middle() -> None:
        await asyncio.sleep(seconds / 2)
        rss["middle"] = proc.rss_kib(server.pid)

    await asyncio.gather(
        sample_middle(), *(_soak_client(server.base_url, until, row, random.Random(i)) for i in range(8))
    )
    rss["end"] = proc.rss_kib(server.pid)
    row.seconds = time.monotonic() - started
    row.notes["RSS MB start/middle/end"] = "/".join(f"{rss[key] / 1024:.0f}" for key in ("start", "middle", "end"))
    row.notes["bounds MB"] = f"state {SOAK_STATE_BOUND // 2**20}, journal 64, answer cache 32"
    return row


# ---------------------------------------------------------------- state bound


async def _state_bound(server: targets.Server, objects: int, bound: int) -> Row:
    """``WARMUP`` unstored requests (what serving costs, the journal and caches at their bounds), then
    ``objects`` stored ones; the growth of the second phase over the first is what the stored objects take."""
    row = Row("state bound")
    started = time.perf_counter()
    await _responses(server, range(WARMUP), store=False, row=row)
    before = proc.rss_kib(server.pid)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, headers=AUTH) as http:
        first = await _stored(http, "first stored object")
        samples: list[int] = []
        step = max(1, objects // 10)
        for offset in range(0, objects - 2, step):
            await _responses(server, range(offset, min(offset + step, objects - 2)), store=True, row=row)
            samples.append(proc.rss_kib(server.pid))
        last = await _stored(http, "last stored object")
        row.requests += 2
        kept = {name: await _chained(http, made) for name, made in (("first", first), ("last", last))}
    row.seconds = time.perf_counter() - started
    growth = [(sample - before) * 1024 for sample in samples]
    row.notes["stored objects"] = objects
    row.notes["bound MB"] = round(bound / 2**20)
    row.notes["RSS MB after unstored"] = round(before / 1024)
    row.notes["RSS MB during stored (10 samples)"] = "/".join(f"{sample / 1024:.0f}" for sample in samples)
    row.notes["stored growth MB max/end"] = f"{max(growth) / 2**20:.1f}/{growth[-1] / 2**20:.1f}"
    row.notes["within bound"] = max(growth) <= bound
    row.notes["first stored object evicted"] = kept["first"] == 404
    row.notes["last stored object kept"] = kept["last"] == 200
    return row


def _responses_request(port: int, index: int, store: bool) -> bytes:
    body = json.dumps({"model": "gpt-4o", "input": f"object {index}", "store": store}).encode()
    headers = (("Authorization", f"Bearer {KEY}"), ("Content-Type", "application/json"))
    return keepalive.request_bytes(targets.HOST, port, "/openresponses/responses", body, headers)


async def _responses(server: targets.Server, indexes: range, *, store: bool, row: Row) -> None:
    """A Responses request per index over CONNECTIONS keep-alive connections (a light client: the server's work
    is what is timed)."""
    pending = iter(indexes)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(targets.HOST, server.port)
        try:
            for index in pending:
                answer = await keepalive.exchange(reader, writer, _responses_request(server.port, index, store))
                row.requests += 1
                row.server_errors += answer.status >= 500
                row.other_failures += 400 <= answer.status < 500
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))


async def _stored(http: httpx.AsyncClient, text: str) -> str:
    answer = await http.post("/openresponses/responses", json={"model": "gpt-4o", "input": text, "store": True})
    return str(answer.json()["id"])


async def _chained(http: httpx.AsyncClient, previous: str) -> int:
    """The status of a request continuing ``previous``: 404 once it was evicted (the operation documents errors)."""
    body = {"model": "gpt-4o", "input": "and then?", "store": False, "previous_response_id": previous}
    return (await http.post("/openresponses/responses", json=body)).status_code


# ---------------------------------------------------------------- kill -9


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


async def _kill9(server: targets.Server, jobs: int) -> Row:
    row = Row("kill -9 (2 workers, SQLite)")
    created: list[str] = []
    started = time.perf_counter()
    video = {"model": "klingai/avatar-pro", "image_url": "https://e.com/f.png", "audio_url": "https://e.com/v.mp3"}

    async def create(http: httpx.AsyncClient, index: int) -> None:
        try:
            answer = await http.post(f"{server.base_url}/aimlapi/v2/video/generations", json={**video, "n": index})
        except httpx.HTTPError:
            row.other_failures += 1  # the connection the killed worker held
            return
        row.requests += 1
        if answer.status_code == 200:
            created.append(answer.json()["id"])

    async with httpx.AsyncClient(timeout=60, headers=AUTH) as http:
        await asyncio.gather(*(create(http, index) for index in range(jobs // 2)))
        workers = _children(server.pid)
        if workers:
            os.kill(workers[0], signal.SIGKILL)
        row.notes["killed worker"] = workers[0] if workers else None
        await asyncio.gather(*(create(http, index) for index in range(jobs // 2, jobs)))
        await asyncio.sleep(2)  # the supervisor replaces the worker
        lost = 0
        for job in created:
            answer = await http.get(f"{server.base_url}/aimlapi/v2/video/generations", params={"generation_id": job})
            lost += answer.status_code == 404
        row.notes["answered jobs"] = len(created)
        row.notes["lost jobs"] = lost
        row.notes["workers after"] = len(_children(server.pid))
    row.seconds = time.perf_counter() - started
    return row


# ---------------------------------------------------------------- running and reporting


def run(soak_seconds: float, objects: int, jobs: int) -> list[Row]:
    rows = []
    state = ["--state", "memory", "--state-max-bytes", str(SOAK_STATE_BOUND)]
    with serve([*state, "--header-timeout", "2", "--body-timeout", "2"]) as server:
        rows.append(asyncio.run(_battery(server.base_url, server.port)))
        _say(rows[-1])
        rows.append(asyncio.run(_soak(server, soak_seconds)))
        _say(rows[-1])
    with serve(["--state", "memory", "--state-max-bytes", str(STATE_BOUND)], ("openresponses", "lmdeploy")) as server:
        rows.append(asyncio.run(_state_bound(server, objects, STATE_BOUND)))
        _say(rows[-1])
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(_scratch_dir())
        extra = ["--workers", "2", "--state", f"sqlite:///{scratch}/state.db"]
        server = stack.enter_context(serve(extra, ("aimlapi", "openresponses")))
        rows.append(asyncio.run(_kill9(server, jobs)))
        _say(rows[-1])
    return rows


@contextlib.contextmanager
def _scratch_dir() -> Any:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as name:
        yield name


def _say(row: Row) -> None:
    print(f"[reliability] {row.name}: {row.requests} requests, {row.server_errors} 5xx, {row.notes}", flush=True)


def markdown(rows: list[Row]) -> str:
    lines = [
        "# Reliability: hostile input, soak, state bound, kill -9 (issue 16)",
        "",
        "| run | requests | 5xx | other failures | seconds | notes |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        notes = "; ".join(f"{key}: {value}" for key, value in row.notes.items())
        counts = f"{row.requests} | {row.server_errors} | {row.other_failures}"
        lines.append(f"| {row.name} | {counts} | {row.seconds:.0f} | {notes} |")
    return "\n".join(lines) + "\n"


def as_json(rows: list[Row]) -> dict[str, Any]:
    return {"rows": [asdict(row) for row in rows]}
