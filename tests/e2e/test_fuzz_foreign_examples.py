"""Self-fuzz of the OpenAPI Initiative examples as published: `apitwin fuzz FILE` against `apitwin serve FILE`.

tictactoe declares its 400 as text/html and its path parameters by `$ref`: both used to fail the run
(problem+json answers, valid coordinates refused). link-example, callback-example and uspto document no
way to refuse input (no 400, 422, 4XX or default), so the mock's 400 to an invalid request used to be an
"undocumented status" failure; link-example's shared `components/links` are followed in the lifecycles
phase. webhook-example has webhooks only: nothing to call is a usage error. Issue 10, point 7.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import API_KEY, serving

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "foreign-specs"
TICTACTOE = EXAMPLES / "oai-v3.1_tictactoe.yaml"
# example → operations a run must exercise (all of its safe ones)
SELF_FUZZED = {
    "oai-v3.0_api-with-examples.yaml": 2,
    "oai-v3.0_callback-example.yaml": 1,
    "oai-v3.0_link-example.yaml": 6,
    "oai-v3.0_petstore.yaml": 3,
    "oai-v3.0_petstore-expanded.yaml": 3,
    "oai-v3.0_uspto.yaml": 3,
    "oai-v3.1_non-oauth-scopes.yaml": 1,
}


def self_fuzz(spec: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with serving(str(spec)) as base:
        return subprocess.run(
            [sys.executable, "-m", "apitwin", "fuzz", str(spec), "--base-url", base, "--api-key", API_KEY, *extra],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "APITWIN_POLL_INTERVAL": "0", "COLUMNS": "200"},
        )


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"the OpenAPI Initiative examples are not at {EXAMPLES}")
@pytest.mark.parametrize("name", sorted(SELF_FUZZED))
def test_every_example_self_fuzzes_clean(name: str) -> None:
    run = self_fuzz(EXAMPLES / name, "--max-examples", "5")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    count = SELF_FUZZED[name]
    assert f"{count} of {count} operations exercised" in run.stdout


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"the OpenAPI Initiative examples are not at {EXAMPLES}")
def test_a_webhooks_only_spec_is_a_usage_error_naming_why() -> None:
    spec = EXAMPLES / "oai-v3.1_webhook-example.yaml"
    run = subprocess.run(
        [sys.executable, "-m", "apitwin", "fuzz", str(spec), "--base-url", "http://127.0.0.1:9", "--dry-run"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no operation to fuzz: the spec declares no paths (only 1 webhook(s)" in run.stderr  # no filter was given


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
