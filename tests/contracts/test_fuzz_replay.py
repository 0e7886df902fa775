"""``apitwin fuzz replay``: a reported failure is sent again, exactly, and judged again."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contracts.conftest import fuzz
from tests.contracts.faulty_gateway import FaultyGateway, faulty_gateway
from tests.e2e.conftest import API_KEY


@contextlib.contextmanager
def failing_report(upstream: str, defect: str, tmp_path) -> Iterator[tuple[Path, FaultyGateway]]:
    """A fuzz report of chat completions through a gateway with ``defect``, which keeps serving."""
    report = tmp_path / f"{defect}.json"
    with faulty_gateway(upstream, defect, API_KEY) as (url, app):
        result = fuzz(
            "lmdeploy", "--base-url", url, "--operations", "POST /v1/chat/completions", "--max-examples", "3",
            "--json", str(report),
        )  # fmt: skip
        assert result.exit_code == 1, result.output[-3000:]
        yield report, app


@pytest.mark.e2e
def test_a_failure_replays_against_its_gateway_and_not_against_a_healthy_one(mock_url, tmp_path):
    upstream = mock_url("lmdeploy")
    with failing_report(upstream, "drop-required", tmp_path) as (report, app):
        data = json.loads(report.read_text())
        failures = [failure for operation in data["operations"] for failure in operation["failures"]]
        sent_before = app.requests
        again = fuzz("replay", str(report), "1")
        assert again.exit_code == 1, again.output
        assert "#1 POST /v1/chat/completions" in again.output and "still fails" in again.output
        assert "response_schema_conformance" in again.output
        assert app.requests == sent_before + 1  # one request, the recorded one
        assert "1 of 1 replayed failures still fail" in again.output
        healthy = fuzz("replay", str(report), "--base-url", upstream)
        assert healthy.exit_code == 0, healthy.output
        assert healthy.output.count("does not reproduce") == len(failures)


@pytest.mark.e2e
def test_a_server_error_replays_as_one(mock_url, tmp_path):
    with failing_report(mock_url("lmdeploy"), "server-error", tmp_path) as (report, _):
        again = fuzz("replay", str(report))
        assert again.exit_code == 1
        assert "not_a_server_error: answered 500" in again.output


def test_replay_usage_errors_name_the_problem(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"api": "lmdeploy", "base_url": "http://127.0.0.1:9", "seed": 0, "operations": []}))
    result = fuzz("replay", str(empty))
    assert result.exit_code == 2 and "no failures to replay" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2")
    result = fuzz("replay", str(broken))
    assert result.exit_code == 2 and "not an apitwin fuzz JSON report" in result.output
