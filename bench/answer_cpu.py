"""CPU of one uncached answer, in process: the slow path and the fast path side by side (issue 15).

The ASGI app is called directly (no sockets, no HTTP parser), every request with a new prompt, so
what is measured is apitwin's own work per answer: routing, validation, the behaviour, serialising,
and for a stream every event. Two servers answer the same requests, one with ``answer_templates``
off (the slow path: every skeleton drawn anew) and one with it on (the fast path); their rounds
alternate so both see the same machine load, and the table gives the median CPU time per answer of
each (``time.process_time``). Before measuring, both must give the same bytes for the same
requests, else the run stops: a fast path that answers differently proves nothing.
A repeated request (served from the answer cache) is the floor for comparison.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import machine, targets

API = "aimlapi"
CHAT = "/v1/chat/completions"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    path: str
    body: Callable[[int], dict[str, Any]]


def chat_body(number: int) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": f"Hello{number}"}]}


CASES = (
    Case("chat completion", CHAT, chat_body),
    Case("chat completion, repeated (answer cache)", CHAT, lambda _: chat_body(0)),
    Case("chat completion stream", CHAT, lambda number: {**chat_body(number), "stream": True}),
    Case("Responses", "/v1/responses", lambda number: {"model": "gpt-4o", "input": f"Hello{number}", "store": False}),
    Case(
        "Responses stream",
        "/v1/responses",
        lambda number: {"model": "gpt-4o", "input": f"Hello{number}", "stream": True},
    ),
    Case(
        "embeddings",
        "/v1/embeddings",
        lambda number: {"model": "alibaba/qwen-text-embedding-v3", "input": f"Hello{number}"},
    ),
)


@dataclass(slots=True)
class Row:
    case: str
    status: int
    answer_bytes: int
    events: int
    slow_us: list[float] = field(default_factory=list)
    fast_us: list[float] = field(default_factory=list)

    @property
    def slow(self) -> float:
        return statistics.median(self.slow_us)

    @property
    def fast(self) -> float:
        return statistics.median(self.fast_us)

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "status": self.status,
            "answer_bytes": self.answer_bytes,
            "events": self.events,
            "slow_us": [round(value, 1) for value in self.slow_us],
            "fast_us": [round(value, 1) for value in self.fast_us],
            "slow_median_us": round(self.slow, 1),
            "fast_median_us": round(self.fast, 1),
        }


def run(requests: int = 300, rounds: int = 5) -> list[Row]:
    from apitwin.mockserver.app import create_app

    slow = create_app([API], answer_templates=False)
    fast = create_app([API], answer_templates=True)
    gc.collect()
    gc.freeze()  # as `apitwin serve` does once its specs are compiled (mockserver.cli.settled)
    return asyncio.run(_measure(slow, fast, requests, rounds))


async def _measure(slow: Any, fast: Any, requests: int, rounds: int) -> list[Row]:
    rows = []
    for case in CASES:
        # The journals hold every earlier case's answers: collect now, so no case pays for a full collection of
        # what the ones before it left (it showed as one round of a case taking twice the others).
        gc.collect()
        row = await _same_answers(case, slow, fast)
        for round_number in range(rounds):
            first = 1_000_000 * (round_number + 1)  # new prompts every round, and the same ones on both sides
            row.slow_us.append(await _cpu_per_answer(slow, case, first, requests))
            row.fast_us.append(await _cpu_per_answer(fast, case, first, requests))
        rows.append(row)
    return rows


async def _same_answers(case: Case, slow: Any, fast: Any, checks: int = 20) -> Row:
    """The first answers of both servers, compared byte for byte (the run stops when they differ)."""
    status, answer, sizes, events = 0, b"", [], []
    for number in range(checks):
        status, answer = await call(slow, case.path, case.body(number))
        fast_status, fast_answer = await call(fast, case.path, case.body(number))
        if (status, answer) != (fast_status, fast_answer):
            raise targets.TargetFailed(f"answer-cpu: {case.name}: the fast path answered differently from the slow one")
        if status != 200:
            raise targets.TargetFailed(f"answer-cpu: {case.name} answered {status}: {answer[:300]!r}")
        sizes.append(len(answer))
        events.append(answer.count(b"\n\n") if answer.startswith((b"data:", b"event:")) else 0)
    # Means over the checked answers: an answer's length is drawn per prompt, so one answer's says little.
    return Row(case.name, status, round(statistics.mean(sizes)), round(statistics.mean(events)))


async def _cpu_per_answer(app: Any, case: Case, first: int, requests: int) -> float:
    bodies = [case.body(first + number) for number in range(requests)]
    started = time.process_time()
    for body in bodies:
        await call(app, case.path, body)
    return (time.process_time() - started) / requests * 1e6


async def call(app: Any, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    """One request through the ASGI app: (status, the whole body)."""
    raw = json.dumps(body).encode()
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", b"Bearer k"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    pending = [{"type": "http.request", "body": raw, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # the client stays connected until the answer is sent
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(message["status"] for message in sent if message["type"] == "http.response.start")
    return status, b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")


def markdown(rows: list[Row], requests: int, rounds: int) -> str:
    about = machine.describe()
    lines = [
        "# Answer CPU: one uncached answer, slow path vs fast path",
        "",
        f"`{API}`, the ASGI app called in process (no network), a new prompt per request; {rounds} alternating rounds "
        f"of {requests} requests per path, median CPU µs per answer (`time.process_time`). Slow: "
        "`answer_templates=False` (every skeleton drawn anew); fast: the default. Both gave the same bytes for the "
        "first 20 requests of every case before measuring.",
        f"Machine: {about['cpus']} × {about['cpu_model']}, load average at start {about['load_average_at_start']} "
        f"(shared: absolute numbers are noisy, the ratio counts); Python {about['python']}; {about['date']}.",
        "",
        "| case | status | bytes (mean) | events (mean) | slow µs | fast µs | slow / fast | fast µs per event |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        per_event = f"{row.fast / row.events:,.1f}" if row.events else ""
        lines.append(
            f"| {row.case} | {row.status} | {row.answer_bytes:,} | {row.events or ''} | {row.slow:,.0f} | "
            f"{row.fast:,.0f} | {row.slow / row.fast:.2f} | {per_event} |"
        )
    lines += [
        "",
        "Stream rows count the whole stream (every event made and framed; no socket writes). Issue 15 wants a chat "
        "stream of ~30 events at ≤ 1 ms of server CPU, sockets included (see `sse.md`).",
    ]
    return "\n".join(lines) + "\n"
