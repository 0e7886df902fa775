"""What the numbers were measured on: they mean little without the machine and the versions."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from typing import Any

from bench import tools


def describe() -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "wrk": _first_line([shutil.which("wrk") or "wrk", "-v"]),
        "node": _first_line(["node", "--version"]) if shutil.which("node") else "absent",
        "prism": prism_version(),
        "shared_cores": "server(s) and load generator run on the same machine and share its cores",
    }


def prism_version() -> str:
    manifest = tools.TOOLS_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _first_line(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else "unknown"
