"""The external tools the benchmarks drive, installed on first use into ignored places.

A tool that cannot be found or installed ends the run with one message saying what to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
TOOLS_DIR = BENCH_DIR / ".tools"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PY_SPY_PACKAGE = "py-spy>=0.3,<0.5"


class ToolMissing(RuntimeError):
    """A tool the benchmark needs is absent and could not be installed."""


def wrk() -> str:
    """The wrk binary; installed from Debian with apt-get when missing (needs root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ToolMissing(
            "wrk is not installed; install it (Debian/Ubuntu: `sudo apt-get install -y wrk`) and run again"
        )
    print("bench: wrk is missing; installing it with `apt-get install -y wrk`", flush=True)
    _run(["apt-get", "install", "-y", "wrk"], "apt-get install wrk", retry_after=["apt-get", "update"])
    found = shutil.which("wrk")
    if not found:
        raise ToolMissing("apt-get reported success but wrk is still not on PATH")
    return found


def prism() -> Path:
    """The Prism CLI from npm, installed into ``bench/.tools`` when missing."""
    binary = TOOLS_DIR / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    if not shutil.which("npm") or not shutil.which("node"):
        raise ToolMissing("Prism needs node and npm (node >= 18); install them and run again")
    print(f"bench: installing {PRISM_PACKAGE} into bench/.tools (npm)", flush=True)
    _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(TOOLS_DIR), PRISM_PACKAGE], "npm install Prism")
    if not binary.exists():
        raise ToolMissing(f"npm install finished but {binary} does not exist")
    return binary


def py_spy() -> Path:
    """The py-spy sampling profiler, installed with pip into ``bench/.tools/py-spy`` when missing."""
    target = TOOLS_DIR / "py-spy"
    binary = target / "bin" / "py-spy"
    if binary.exists():
        return binary
    print(f"bench: installing {PY_SPY_PACKAGE} into bench/.tools/py-spy", flush=True)
    _run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), PY_SPY_PACKAGE],
        "pip install py-spy",
    )
    if not binary.exists():
        raise ToolMissing(f"pip install finished but {binary} does not exist")
    return binary


def _run(command: list[str], what: str, retry_after: list[str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 and retry_after is not None:
        subprocess.run(retry_after, capture_output=True, text=True, check=False)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ToolMissing(f"{what} failed (exit {result.returncode}): " + " | ".join(tail))
