"""Driving wrk (one thread, a Lua script for the POST body) and reading its report."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from typing import Any

from bench import tools

_TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


class WrkFailed(RuntimeError):
    """wrk exited with an error or printed no report."""


VARY_MARKER = "{n}"
"""Where in a body a varying request puts its counter (1, 2, 3, … per request)."""


@dataclass(slots=True)
class Request:
    url: str
    method: str = "POST"
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    vary: bool = False
    """Each request a different body (the counter at ``{n}``); else ``{n}`` is dropped."""


@dataclass(slots=True)
class LoadResult:
    concurrency: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    bytes_read: int
    non_2xx: int
    socket_errors: int

    @property
    def bytes_per_answer(self) -> int:
        return round(self.bytes_read / self.requests) if self.requests else 0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "bytes_per_answer": self.bytes_per_answer}


def lua_script(request: Request) -> str:
    """The wrk script that sends ``request`` (wrk itself only knows GET without a body)."""
    prefix, _, suffix = request.body.partition(VARY_MARKER)
    lines = [f"wrk.method = {_lua_string(request.method)}", f"wrk.body = {_lua_string(prefix + suffix)}"]
    lines += [f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}" for name, value in request.headers]
    if request.vary:
        lines += [
            "local counter = 0",
            "request = function()",
            "  counter = counter + 1",
            f"  return wrk.format(nil, nil, nil, {_lua_string(prefix)} .. counter .. {_lua_string(suffix)})",
            "end",
        ]
    return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def run(request: Request, concurrency: int, duration_s: float, timeout_s: float = 30.0) -> LoadResult:
    """One wrk run: ``-t1`` (one load thread: the other core is the server's), ``--latency``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as script:
        script.write(lua_script(request))
        script.flush()
        command = [
            tools.wrk(),
            "-t1",
            f"-c{concurrency}",
            f"-d{duration_s:g}s",
            f"--timeout={timeout_s:g}s",
            "--latency",
            "-s",
            script.name,
            request.url,
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False
        )
    if result.returncode != 0:
        raise WrkFailed(f"wrk exited {result.returncode}: {(result.stderr or result.stdout).strip()}")
    return parse(result.stdout, concurrency, duration_s)


def parse(report: str, concurrency: int, duration_s: float) -> LoadResult:
    """The numbers of a ``wrk --latency`` report."""
    totals = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)([KMGT]?B) read", report)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    if totals is None or rate is None:
        raise WrkFailed(f"wrk printed no report:\n{report.strip()}")
    requests = int(totals.group(1))
    return LoadResult(
        concurrency=concurrency,
        duration_s=float(totals.group(2)) * _TIME_UNITS[totals.group(3)] / 1e3,
        requests=requests,
        requests_per_s=float(rate.group(1)),
        p50_ms=_percentile(report, "50") if requests else float("nan"),
        p99_ms=_percentile(report, "99") if requests else float("nan"),
        bytes_read=round(float(totals.group(4)) * _SIZE_UNITS[totals.group(5)]),
        non_2xx=_count(report, r"Non-2xx or 3xx responses:\s+(\d+)"),
        socket_errors=sum(
            int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", _line(report, "Socket errors:"))
        ),
    )


def _percentile(report: str, which: str) -> float:
    distribution = report.partition("Latency Distribution")[2]
    found = re.search(rf"^\s*{which}%\s+([\d.]+)(us|ms|s|m|h)\s*$", distribution, re.MULTILINE)
    if found is None:
        raise WrkFailed(f"wrk printed no {which}th percentile (was --latency given?):\n{report.strip()}")
    return float(found.group(1)) * _TIME_UNITS[found.group(2)]


def _count(report: str, pattern: str) -> int:
    found = re.search(pattern, report)
    return int(found.group(1)) if found else 0


def _line(report: str, start: str) -> str:
    for line in report.splitlines():
        if line.strip().startswith(start):
            return line
    return ""
