"""schemathesis (its own CLI, every default check) against `apitwin serve` on loopback: 0 failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from apitwin.specs.catalogue import shipped
from tests.e2e.conftest import API_KEY, serving

ST = str(Path(sys.executable).parent / "st")

# Sized for `make test`; `APITWIN_HYPOTHESIS_PROFILE=thorough` is for the in-process properties.
MAX_EXAMPLES = "5"


# aimlapi's coverage phase enumerates boundary cases of 390 model variants: many minutes of
# schemathesis's own time. Its other phases run here; `apitwin fuzz` (tests/contracts) and the
# in-process run (tests/mockserver/test_schemathesis_asgi.py) cover it with the coverage phase too.
PHASES = {"aimlapi": "examples,fuzzing"}


@pytest.mark.e2e
@pytest.mark.parametrize(
    "api", ["aimlapi", "lmdeploy", "lmdeploy-proxy", "openresponses", "openai-responses", "sequrity"]
)
def test_schemathesis_finds_nothing_wrong_with_the_mock(api):
    phases = ["--phases", PHASES[api]] if api in PHASES else []
    with serving(api) as base:
        result = subprocess.run(
            [
                ST,
                "run",
                str(shipped(api).spec_path),
                "--url",
                base,
                "--checks",
                "all",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                "1",
                "--no-color",
                "-H",
                f"Authorization: Bearer {API_KEY}",
                "-H",
                "X-Api-Key: provider-key",
                *phases,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 0, result.stdout[-6000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert "failure" not in summary and "error" not in summary, result.stdout[-6000:]
