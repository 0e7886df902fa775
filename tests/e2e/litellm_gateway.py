"""LiteLLM's proxy, a real LLM gateway from PyPI, in front of an ``apitwin serve`` mock on loopback.

LiteLLM installs into a venv of its own (``.venv/clients/litellm``, built once by :mod:`tests.e2e.client_envs`,
about 2.5 minutes and 750 MB the first time): its dependency tree would fight ours. The gateway is configured
the way a team runs it in front of OpenAI: ``openai/<model>`` deployments whose ``api_base`` is the mock, a
master key the clients send, and no database, telemetry or network look-ups.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.client_envs import client_python
from tests.e2e.conftest import free_port, stop

REQUIREMENT = "litellm[proxy]>=1.106,<1.111,!=1.107.0"
"""Tested with 1.108.7 (what pip resolves this range to). 1.107.0 was a compromised release: never install it."""
MASTER_KEY = "sk-apitwin-litellm-e2e"
"""What clients send to LiteLLM (its ``master_key``); LiteLLM sends the mock its own key."""
MODELS = ("gpt-4o", "text-embedding-3-small")
START_SECONDS = 240


def config(upstream_base: str, upstream_key: str) -> str:
    """LiteLLM's config: each model an ``openai/…`` deployment at ``upstream_base`` (the mock's SDK base URL)."""
    deployments = "".join(
        f"  - model_name: {model}\n"
        f"    litellm_params:\n"
        f"      model: openai/{model}\n"
        f"      api_base: {upstream_base}\n"
        f"      api_key: {upstream_key}\n"
        for model in MODELS
    )
    return (
        f"model_list:\n{deployments}"
        "litellm_settings:\n  telemetry: false\n  num_retries: 0\n"
        f"general_settings:\n  master_key: {MASTER_KEY}\n"
    )


@contextlib.contextmanager
def litellm_gateway(upstream_base: str, upstream_key: str) -> Iterator[str]:
    """``litellm --config … --port <free>`` in front of ``upstream_base``; yields its base URL once it is ready."""
    python = client_python("litellm", REQUIREMENT)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="apitwin-litellm-") as scratch:
        config_file = Path(scratch) / "config.yaml"
        config_file.write_text(config(upstream_base, upstream_key))
        log = Path(scratch) / "litellm.log"
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the bundled price list, not one fetched from GitHub
        env["LITELLM_LOG"] = "ERROR"
        command = [str(python.parent / "litellm"), "--config", str(config_file), "--host", "127.0.0.1"]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*command, "--port", str(port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=scratch,
                env=env,
                start_new_session=True,
                text=True,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process, log)
            yield base
        finally:
            stop(process)


def _wait_ready(base: str, process: subprocess.Popen[str], log: Path) -> None:
    """Until LiteLLM answers its readiness probe with the models of the config loaded."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"litellm exited with {process.returncode} while starting:\n{_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            listed = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=5)
            if listed.status_code == 200 and {model["id"] for model in listed.json()["data"]} >= set(MODELS):
                return
        if time.monotonic() > deadline:
            pytest.fail(f"litellm did not answer within {START_SECONDS} s:\n{_tail(log)}")
        time.sleep(0.5)


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-30:])
