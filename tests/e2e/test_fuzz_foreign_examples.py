"""Self-fuzz of an OpenAPI Initiative example as published: `apitwin fuzz FILE` against `apitwin serve FILE`.

tictactoe declares its 400 as text/html and its path parameters by `$ref`: both used to fail the run
(problem+json answers, valid coordinates refused). Issue 10, point 4.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import API_KEY, serving

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "foreign-specs"
TICTACTOE = EXAMPLES / "oai-v3.1_tictactoe.yaml"


@pytest.mark.skipif(not TICTACTOE.exists(), reason=f"the OpenAPI Initiative examples are not at {EXAMPLES}")
def test_tictactoe_self_fuzz_exits_0():
    with serving(str(TICTACTOE)) as base:
        run = subprocess.run(
            [sys.executable, "-m", "apitwin", "fuzz", str(TICTACTOE), "--base-url", base, "--api-key", API_KEY],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 of 3 operations exercised" in run.stdout
