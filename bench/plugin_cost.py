"""What the installed pytest plugin costs a test run that does not use it.

A one-test project is run by pytest in a subprocess, alternately with the plugin and with
``-p no:apitwin``, so both sides see the same machine load; the table reports the medians and their
difference. Target: the plugin adds < 0.2 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_SECONDS = 0.2

UNRELATED_TEST = "def test_arithmetic():\n    assert 1 + 1 == 2\n"


@dataclass
class PluginCost:
    runs: int
    with_plugin: list[float]
    without_plugin: list[float]

    @property
    def added(self) -> float:
        return statistics.median(self.with_plugin) - statistics.median(self.without_plugin)

    @property
    def met(self) -> bool:
        return self.added < TARGET_SECONDS

    def as_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "with_plugin_s": self.with_plugin,
            "without_plugin_s": self.without_plugin,
            "added_s": self.added,
            "target_s": TARGET_SECONDS,
            "met": self.met,
        }


def run(runs: int = 7) -> PluginCost:
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "test_unrelated.py").write_text(UNRELATED_TEST)
        with_plugin, without_plugin = [], []
        _timed(project)  # warm the file-system caches before measuring either side
        for _ in range(runs):
            with_plugin.append(_timed(project))
            without_plugin.append(_timed(project, "-p", "no:apitwin"))
    return PluginCost(runs, with_plugin, without_plugin)


def _timed(project: Path, *options: str) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, "test_unrelated.py"]
    started = time.perf_counter()
    subprocess.run(command, cwd=project, check=True, capture_output=True)
    return time.perf_counter() - started


def markdown(cost: PluginCost) -> str:
    with_median = statistics.median(cost.with_plugin)
    without_median = statistics.median(cost.without_plugin)
    return "\n".join(
        [
            f"# pytest plugin cost on an unrelated one-test run ({cost.runs} runs each, alternated, medians)",
            "",
            "| run | median s |",
            "| --- | ---: |",
            f"| with the apitwin plugin | {with_median:.3f} |",
            f"| `-p no:apitwin` | {without_median:.3f} |",
            f"| **added by the plugin** | **{cost.added:.3f}** (target < {TARGET_SECONDS} s: "
            f"{'met' if cost.met else 'MISSED'}) |",
            "",
        ]
    )
