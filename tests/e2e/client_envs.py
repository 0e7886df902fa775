"""Vendor client libraries, each in a virtual environment of its own.

Some vendor SDKs cannot share our environment (aimlapi-sdk-python ships its own copy of the
``openai`` package and would overwrite the real one), so each gets a venv under ``.venv/clients/``,
made on first use from the package registry and reused afterwards. A file lock keeps parallel test
workers from building the same one twice. Tests drive a client by running a small script with the
environment's interpreter against a loopback ``apitwin serve``.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2] / ".venv" / "clients"
INSTALL_SECONDS = 600


def client_python(name: str, *requirements: str) -> Path:
    """The interpreter of the venv ``name`` with ``requirements`` installed (built once)."""
    home = ROOT / name
    python = home / "bin" / "python"
    marker = home / ".installed"
    wanted = "\n".join(requirements)
    ROOT.mkdir(parents=True, exist_ok=True)
    with open(ROOT / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == wanted:
            return python
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"could not install {' '.join(requirements)} into {home}: {result.stderr[-3000:]}")
        marker.write_text(wanted)
    return python


def run_script(python: Path, script: str, *args: str, timeout: float = 120) -> Any:
    """Run ``script`` with ``python``; it prints one JSON document on its last line, returned here."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(python), "-c", script, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"client script failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines:
        pytest.fail(f"client script printed nothing; stderr:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])
