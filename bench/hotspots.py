"""Where a server spends its time under load: py-spy samples, aggregated per function.

Shares are of the samples in which the server was running Python (py-spy leaves idle
waiting out), so "32 % in validate_body" means a third of the busy time. Inclusive shares
(of our own functions) count a function once per sample wherever it sits in the stack; own
shares (of any function, libraries included) count only the innermost frame.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import tools

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
ENTRY_SHARE = 0.99  # frames under nearly every sample (the command's entry) say nothing
PROJECT = (
    "mockserver/",
    "specs/",
    "contracts/",
)  # inclusive shares: our code (the library frames are wrappers around it)


@dataclass(slots=True)
class Share:
    function: str
    share: float

    def as_json(self) -> dict[str, Any]:
        return {"function": self.function, "share": round(self.share, 4)}


@dataclass(slots=True)
class Hotspots:
    what: str
    samples: int
    inclusive: list[Share] = field(default_factory=list)
    own: list[Share] = field(default_factory=list)
    load: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "samples": self.samples,
            "load": self.load,
            "inclusive": [s.as_json() for s in self.inclusive],
            "own": [s.as_json() for s in self.own],
        }


def record(pid: int, seconds: float, rate: int = 200) -> str:
    """py-spy's raw (collapsed stack) output for ``pid`` over ``seconds``."""
    binary = tools.py_spy()
    with tempfile.TemporaryDirectory(prefix="bench-py-spy-") as folder:
        output = Path(folder) / "stacks.txt"
        command = [
            str(binary),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        if result.returncode != 0 or not output.exists():
            raise tools.ToolMissing(
                f"py-spy could not sample pid {pid} (it needs ptrace permission): "
                f"{(result.stderr or result.stdout).strip()[-400:]}"
            )
        return output.read_text()


def aggregate(collapsed: str, what: str, top: int = 25) -> Hotspots:
    """Per-function inclusive and own shares of py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";")]
        total += count
        for function in set(frames):
            inclusive[function] += count
        own[frames[-1]] += count
    if total == 0:
        return Hotspots(what, 0)
    widest = max(inclusive.values())
    telling = [(f, n) for f, n in inclusive.most_common() if _in_project(f) and n < widest * ENTRY_SHARE]
    return Hotspots(
        what,
        total,
        inclusive=[Share(f, n / total) for f, n in telling[:top]],
        own=[Share(f, n / total) for f, n in own.most_common(top)],
    )


def _in_project(function: str) -> bool:
    return any(f"({prefix}" in function for prefix in PROJECT)


def _function(frame: str) -> str:
    """``name (path/file.py:123)`` → ``name (path/file.py)``: one entry per function, not per line."""
    found = _FRAME.match(frame.strip())
    return f"{found.group('function')} ({found.group('file')})" if found else frame.strip()
