"""What the journal costs per answer (issue 14): the same server with and without it, side by side, in process.

The ASGI app is called directly (``answer_cpu.call``: no sockets), every request with a new prompt. One app keeps
the journal as ``apitwin serve`` does (headers and bodies up to 64 KB as they crossed the wire, masked and decoded
when read; stream events with their timing); the other is given a log that keeps nothing. Their rounds alternate so
both see the same machine load; the table gives
the median CPU time per answer (``time.process_time``) and the journal's bytes per entry. The same pair is measured
again with the garbage collector paused, to tell the journal's own code from the collection work the entries it keeps
cause (on a loaded shared host both differences are within a few tens of µs of noise).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bench import machine
from bench.answer_cpu import Case, chat_body
from bench.answer_cpu import _cpu_per_answer as cpu_per_answer

API = "aimlapi"
CHAT = "/v1/chat/completions"
LONG_PROMPT = "lorem ipsum " * 9_000
"""About 108 KB: past the journal's 64 KB body limit, so the cut is measured too."""


CASES = (
    Case("chat completion", CHAT, chat_body),
    Case("chat completion stream", CHAT, lambda number: {**chat_body(number), "stream": True}),
    Case(
        "chat completion, 108 KB prompt",
        CHAT,
        lambda number: {"model": "gpt-4o", "messages": [{"role": "user", "content": f"{number}{LONG_PROMPT}"}]},
    ),
)


@dataclass(slots=True)
class Row:
    case: str
    bytes_per_entry: float = 0.0
    with_us: list[float] = field(default_factory=list)
    without_us: list[float] = field(default_factory=list)
    with_paused_us: list[float] = field(default_factory=list)
    without_paused_us: list[float] = field(default_factory=list)

    @property
    def with_journal(self) -> float:
        return statistics.median(self.with_us)

    @property
    def without_journal(self) -> float:
        return statistics.median(self.without_us)

    @property
    def paused_ratio(self) -> float:
        return statistics.median(self.with_paused_us) / statistics.median(self.without_paused_us)

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "bytes_per_entry": round(self.bytes_per_entry),
            "with_journal_us": [round(value, 1) for value in self.with_us],
            "without_journal_us": [round(value, 1) for value in self.without_us],
            "with_journal_median_us": round(self.with_journal, 1),
            "without_journal_median_us": round(self.without_journal, 1),
            "with_journal_gc_paused_us": [round(value, 1) for value in self.with_paused_us],
            "without_journal_gc_paused_us": [round(value, 1) for value in self.without_paused_us],
        }


def run(requests: int = 200, rounds: int = 5) -> list[Row]:
    from apitwin.mockserver.app import create_app
    from apitwin.mockserver.request_log import RequestLog

    class NoJournal(RequestLog):
        def record(self, request: Request, response: Response, **_: Any) -> Response:
            return response

    kept = create_app([API])
    bare = create_app([API], request_log=NoJournal())
    return asyncio.run(_measure(kept, bare, requests, rounds))


async def _measure(kept: Any, bare: Any, requests: int, rounds: int) -> list[Row]:
    rows = []
    journal = kept.server.request_log
    for case in CASES:
        row = Row(case.name)
        for round_number in range(rounds):
            first = 1_000_000 * (round_number + 1)
            journal.clear()
            row.with_us.append(await cpu_per_answer(kept, case, first, requests))
            row.without_us.append(await cpu_per_answer(bare, case, first, requests))
            row.bytes_per_entry = journal.bytes / max(len(journal), 1)
            journal.clear()
            gc.disable()
            try:
                row.with_paused_us.append(await cpu_per_answer(kept, case, first + 500_000, requests))
                row.without_paused_us.append(await cpu_per_answer(bare, case, first + 500_000, requests))
            finally:
                gc.enable()
        rows.append(row)
    return rows


def markdown(rows: list[Row], requests: int, rounds: int) -> str:
    about = machine.describe()
    lines = [
        "# Journal cost: CPU per answer with and without the journal",
        "",
        f"`{API}` `POST {CHAT}`, the ASGI app called in process (no network), a new prompt per request; {rounds} "
        f"alternating rounds of {requests} requests per app, median CPU µs per answer (`time.process_time`). With: "
        "the journal `apitwin serve` keeps (64 KB bodies); without: a log that keeps nothing.",
        f"Machine: {about['cpus']} × {about['cpu_model']}, load average at start {about['load_average_at_start']} "
        f"(shared: absolute numbers are noisy, the ratio counts); Python {about['python']}; {about['date']}.",
        "",
        "| case | without µs | with µs | with / without | with / without, gc paused | journal bytes per entry |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.case} | {row.without_journal:,.0f} | {row.with_journal:,.0f} | "
            f"{row.with_journal / row.without_journal:.2f} | {row.paused_ratio:.2f} | {row.bytes_per_entry:,.0f} |"
        )
    lines += [
        "",
        "At the default bound of 64 MB (`--journal-max-bytes`) and 10,000 entries, the bytes per entry say how many "
        "exchanges the journal holds before the oldest go. Recording one exchange alone (the collector paused, "
        "10,000 entries kept) costs about 5 µs (its headers and bodies are kept as bytes, masked and decoded when "
        "read); a stream adds about 10 µs at its end.",
    ]
    return "\n".join(lines) + "\n"
